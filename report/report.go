// Package report writes the project's generated reports and result tables,
// one way: a Doc is a markdown document of headings, paragraphs and tables;
// a Table is rows of text cells that render as markdown (reports) or as
// aligned plain text (the command line). Library packages return result
// structs and turn them into a Doc or a Table; commands print the text.
package report

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Doc is a markdown document under construction.
type Doc struct{ b strings.Builder }

// Printf appends formatted text as it is.
func (d *Doc) Printf(format string, args ...any) { fmt.Fprintf(&d.b, format, args...) }

// Write appends p as it is (a Doc is an io.Writer).
func (d *Doc) Write(p []byte) (int, error) { return d.b.Write(p) }

// Heading appends a heading of the given level (1: "#") and a blank line.
func (d *Doc) Heading(level int, format string, args ...any) {
	d.b.WriteString(strings.Repeat("#", max(level, 1)))
	d.b.WriteByte(' ')
	fmt.Fprintf(&d.b, format, args...)
	d.b.WriteString("\n\n")
}

// Table appends t in markdown.
func (d *Doc) Table(t *Table) { d.b.WriteString(t.Markdown()) }

// String returns the document.
func (d *Doc) String() string { return d.b.String() }

// Table is a table of text cells. Columns are left-aligned unless set right
// (numbers).
type Table struct {
	Header []string
	Rows   [][]string
	right  []bool
}

// NewTable returns an empty table with the given column headers, every
// column left-aligned.
func NewTable(header ...string) *Table {
	return &Table{Header: header, right: make([]bool, len(header))}
}

// RightFrom right-aligns the columns from index i on (the usual table: a
// label, then numbers).
func (t *Table) RightFrom(i int) *Table {
	for j := i; j < len(t.right); j++ {
		t.right[j] = true
	}
	return t
}

// Left left-aligns the given columns.
func (t *Table) Left(cols ...int) *Table {
	for _, c := range cols {
		if c >= 0 && c < len(t.right) {
			t.right[c] = false
		}
	}
	return t
}

// Row appends a row; missing cells are empty, extra cells are an error of
// the caller that Markdown and Text show as they are.
func (t *Table) Row(cells ...string) { t.Rows = append(t.Rows, cells) }

// InsertColumn inserts a column before index at, with its header, alignment
// and one cell per row (missing cells are empty).
func (t *Table) InsertColumn(at int, header string, right bool, cells []string) {
	at = min(max(at, 0), len(t.Header))
	t.Header = insert(t.Header, at, header)
	t.right = append(t.right[:at:at], append([]bool{right}, t.right[at:]...)...)
	for i, r := range t.Rows {
		c := ""
		if i < len(cells) {
			c = cells[i]
		}
		for len(r) < at {
			r = append(r, "")
		}
		t.Rows[i] = insert(r, at, c)
	}
}

func insert(s []string, at int, v string) []string {
	return append(s[:at:at], append([]string{v}, s[at:]...)...)
}

// Markdown renders the table as a markdown table followed by a newline:
// "| a | b |", "|---|---:|", one line per row (an empty cell is "| |").
func (t *Table) Markdown() string {
	var b strings.Builder
	line := func(cells []string) {
		b.WriteByte('|')
		for i := range t.Header {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			if c == "" {
				b.WriteString(" |")
				continue
			}
			b.WriteString(" " + c + " |")
		}
		b.WriteByte('\n')
	}
	line(t.Header)
	b.WriteByte('|')
	for i := range t.Header {
		if t.right[i] {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteByte('\n')
	for _, r := range t.Rows {
		line(r)
	}
	return b.String()
}

// Text renders the table as aligned plain text: columns padded to their
// widest cell (counted in runes) and separated by two spaces, without
// trailing spaces.
func (t *Table) Text() string {
	width := make([]int, len(t.Header))
	all := append([][]string{t.Header}, t.Rows...)
	for _, r := range all {
		for i := range width {
			if i < len(r) {
				width[i] = max(width[i], utf8.RuneCountInString(r[i]))
			}
		}
	}
	var b strings.Builder
	for _, r := range all {
		var line strings.Builder
		for i := range width {
			c := ""
			if i < len(r) {
				c = r[i]
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i > 0 {
				line.WriteString("  ")
			}
			if t.right[i] {
				line.WriteString(pad + c)
			} else {
				line.WriteString(c + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	return b.String()
}
