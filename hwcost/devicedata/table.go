package devicedata

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/multihw/multihw/internal/memlimit"
)

// Table holds one float column per device setting (or metric), one row per
// architecture. Missing measurements are NaN, never 0. A Table is immutable:
// accessors return copies, so loaded tables can be shared freely.
type Table struct {
	source  string
	columns []string
	values  [][]float64       // [column][row]
	notes   map[string]string // column → why it is not a measurement
}

// Source names where the table came from (a path or "embedded:FILE").
func (t *Table) Source() string { return t.source }

// Len returns the number of rows.
func (t *Table) Len() int {
	if len(t.values) == 0 {
		return 0
	}
	return len(t.values[0])
}

// Columns returns the value column names in file order.
func (t *Table) Columns() []string { return slices.Clone(t.columns) }

// ColumnIndex returns the position of the named column. An exact name wins;
// otherwise a substring matching exactly one column is accepted (so
// "855-kryo" finds the Snapdragon 855 CPU). The error lists the valid names.
func (t *Table) ColumnIndex(name string) (int, error) {
	if i := slices.Index(t.columns, name); i >= 0 {
		return i, nil
	}
	var matches []int
	if name != "" {
		for i, c := range t.columns {
			if strings.Contains(c, name) {
				matches = append(matches, i)
			}
		}
	}
	if len(matches) == 1 {
		return matches[0], nil
	}
	if len(matches) > 1 {
		names := make([]string, len(matches))
		for k, i := range matches {
			names[k] = t.columns[i]
		}
		return -1, fmt.Errorf("column %q is ambiguous in %s: it matches %s", name, t.source, strings.Join(names, ", "))
	}
	return -1, fmt.Errorf("unknown column %q in %s; valid columns: %s", name, t.source, strings.Join(t.columns, ", "))
}

// Column returns a copy of the named column (see [Table.ColumnIndex] for name
// matching). Missing values are NaN.
func (t *Table) Column(name string) ([]float64, error) {
	i, err := t.ColumnIndex(name)
	if err != nil {
		return nil, err
	}
	return slices.Clone(t.values[i]), nil
}

// Value returns the value at row and column index; ok is false when it is
// missing or out of range.
func (t *Table) Value(row, column int) (v float64, ok bool) {
	if column < 0 || column >= len(t.values) || row < 0 || row >= t.Len() {
		return math.NaN(), false
	}
	v = t.values[column][row]
	return v, !math.IsNaN(v)
}

// Measured returns the rows of column index that hold a value, ascending.
func (t *Table) Measured(column int) []int {
	if column < 0 || column >= len(t.values) {
		return nil
	}
	rows := make([]int, 0, t.Len())
	for r, v := range t.values[column] {
		if !math.IsNaN(v) {
			rows = append(rows, r)
		}
	}
	return rows
}

// ColumnNote returns why a column of an embedded table is not a real
// measurement (simulator estimate, sum of a per-op lookup table), or "" for
// measured columns and for every column of user files.
func (t *Table) ColumnNote(name string) string { return t.notes[name] }

// MeasuredColumns returns the columns that are real measurements: all columns
// minus those with a [Table.ColumnNote].
func (t *Table) MeasuredColumns() []string {
	var out []string
	for _, c := range t.columns {
		if t.notes[c] == "" {
			out = append(out, c)
		}
	}
	return out
}

// readTable reads a CSV with a header. keyCols are the non-numeric columns a
// caller handles (required ones must be present); every other column must
// hold positive floats, empty or NaN meaning missing. onRow receives the key fields of
// each row (in keyCols order, "" for absent optional ones) and returns the
// offending key index with its error.
func readTable(r io.Reader, source string, keyCols []string, required []bool,
	onRow func(keys []string) (int, error)) (*Table, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file (want a CSV header)", source)
	}
	if err != nil {
		return nil, csvError(source, err)
	}
	header = slices.Clone(header)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // spreadsheets add a BOM
	}
	keyPos := make([]int, len(keyCols))
	for k, name := range keyCols {
		keyPos[k] = slices.Index(header, name)
		if keyPos[k] < 0 && required[k] {
			return nil, fmt.Errorf("%s:1: missing column %q (header: %s)", source, name, strings.Join(header, ","))
		}
	}
	t := &Table{source: source}
	var valPos []int
	for i, h := range header {
		if slices.Contains(keyPos, i) {
			continue
		}
		if h == "" {
			return nil, fmt.Errorf("%s:1: column %d has an empty name", source, i+1)
		}
		if slices.Contains(t.columns, h) {
			return nil, fmt.Errorf("%s:1: duplicate column %q", source, h)
		}
		t.columns = append(t.columns, h)
		valPos = append(valPos, i)
	}
	t.values = make([][]float64, len(valPos))
	keys := make([]string, len(keyCols))
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(source, err)
		}
		line, _ := cr.FieldPos(0)
		for k, p := range keyPos {
			keys[k] = ""
			if p >= 0 {
				keys[k] = rec[p]
			}
		}
		if k, err := onRow(keys); err != nil {
			return nil, fmt.Errorf("%s:%d: column %q: %w", source, line, keyCols[k], err)
		}
		for c, p := range valPos {
			v, err := parseValue(rec[p])
			if err != nil {
				_, col := cr.FieldPos(p)
				return nil, fmt.Errorf("%s:%d:%d: column %q: %w", source, line, col, t.columns[c], err)
			}
			t.values[c] = append(t.values[c], v)
		}
	}
	if t.Len() == 0 && len(t.values) > 0 {
		return nil, fmt.Errorf("%s: no data rows", source)
	}
	return t, nil
}

// MinValue and MaxValue bound a measurement: 1 ns to 11.6 days as a latency
// in ms, and any accuracy in percent (or as a fraction). A value outside is
// a unit or data error: a training row of 1e-300 ms drove a fit to infinite
// rates, whose error named a fitted parameter, not the cell.
const (
	MinValue = 1e-6
	MaxValue = 1e9
)

// parseValue parses one measurement: empty, "nan" or "NaN" mean missing.
// Every value is a latency (ms) or an accuracy (percent), so it must be
// positive: a zero or negative cell is a data error, not a missing value
// (left in, a zero latency made the held-out error infinite and, among the
// training rows, stopped every fit with an error that named no cell).
func parseValue(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is infinite", s)
	}
	if v <= 0 {
		return 0, fmt.Errorf("%q is not positive (a latency or accuracy must be > 0; leave the cell empty for a missing measurement)", s)
	}
	if v < MinValue || v > MaxValue {
		return 0, fmt.Errorf("%q is outside [%g, %g] (a latency in ms or an accuracy in percent: a unit error?)", s, float64(MinValue), float64(MaxValue))
	}
	return v, nil
}

// csvError turns encoding/csv's errors (which carry line and column) into
// errors naming the file.
func csvError(source string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return fmt.Errorf("%s:%d: wrong number of fields (the header has a different count)", source, pe.Line)
		}
		return fmt.Errorf("%s:%d:%d: %v", source, pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("%s: %w", source, err)
}

// openFile opens a plain or gzip-compressed file (detected by content, not
// by name). The caller closes the returned reader.
func openFile(path string) (io.ReadCloser, error) {
	f, _, err := memlimit.OpenRegular(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(f, 1<<16)
	magic, _ := br.Peek(2)
	if !bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		return readCloser{br, f}, nil
	}
	gz, err := gzip.NewReader(br)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return readCloser{gz, multiCloser{gz, f}}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

type multiCloser []io.Closer

func (m multiCloser) Close() error {
	var first error
	for _, c := range m {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
