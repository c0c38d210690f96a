package devicedata

import (
	"fmt"
	"io"
	"math"
	"strconv"
)

// NB201Table is a table of NAS-Bench-201 cells: latencies per device
// (BRP-NAS, HELP) or accuracies per dataset. Rows follow the file; the
// embedded files are in official NAS-Bench-201 index order, so row i is index i
// and the three embedded tables are row-aligned (see [SameCells]).
type NB201Table struct {
	Table
	index []int // official NAS-Bench-201 index per row (-1 when the file has none)
	cells []Cell
	rowOf map[Cell]int
}

// Cell returns the cell of row i.
func (t *NB201Table) Cell(i int) Cell { return t.cells[i] }

// Index returns the official NAS-Bench-201 index of row i, or -1 when the file
// has no nb201_index column.
func (t *NB201Table) Index(i int) int { return t.index[i] }

// Row returns the row of cell c.
func (t *NB201Table) Row(c Cell) (int, bool) {
	r, ok := t.rowOf[c]
	return r, ok
}

// Cells returns a copy of every row's cell.
func (t *NB201Table) Cells() []Cell { return append([]Cell(nil), t.cells...) }

// Relative returns the named column divided by its value at cell ref: the
// latency (or accuracy) normalised to a reference cell, as the multi-hardware
// objective uses it. Missing values stay NaN; a missing or zero reference value
// is an error.
func (t *NB201Table) Relative(column string, ref Cell) ([]float64, error) {
	col, err := t.Column(column)
	if err != nil {
		return nil, err
	}
	r, ok := t.Row(ref)
	if !ok {
		return nil, fmt.Errorf("%s: reference cell %s is not in the table", t.source, ref)
	}
	den := col[r]
	if math.IsNaN(den) || den == 0 {
		return nil, fmt.Errorf("%s: column %q has no usable value (%v) for reference cell %s", t.source, column, den, ref)
	}
	for i := range col {
		col[i] /= den
	}
	return col, nil
}

// SameCells checks that two NAS-Bench-201 tables list the same cells in the
// same row order, so that row i of one can be combined with row i of the other.
func SameCells(a, b *NB201Table) error {
	if a.Len() != b.Len() {
		return fmt.Errorf("%s has %d rows, %s has %d", a.source, a.Len(), b.source, b.Len())
	}
	for i := range a.cells {
		if a.cells[i] != b.cells[i] {
			return fmt.Errorf("row %d differs: %s has %s, %s has %s", i, a.source, a.cells[i], b.source, b.cells[i])
		}
	}
	return nil
}

// LoadNB201 reads a NAS-Bench-201 table from a CSV file, plain or gzipped. It
// needs an arch_str column; nb201_index is optional; every other column must
// be numeric (empty or NaN for missing values). A cell may appear only once.
func LoadNB201(path string) (*NB201Table, error) {
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadNB201(f, path)
}

// ReadNB201 is [LoadNB201] on a reader; source names it in errors.
func ReadNB201(r io.Reader, source string) (*NB201Table, error) {
	t := &NB201Table{rowOf: make(map[Cell]int, NumCells)}
	tab, err := readTable(r, source, []string{"nb201_index", "arch_str"}, []bool{false, true},
		func(keys []string) (int, error) {
			idx := -1
			if keys[0] != "" {
				v, err := strconv.Atoi(keys[0])
				if err != nil || v < 0 {
					return 0, fmt.Errorf("%q is not a non-negative integer", keys[0])
				}
				idx = v
			}
			c, err := ParseCell(keys[1])
			if err != nil {
				return 1, err
			}
			if prev, dup := t.rowOf[c]; dup {
				return 1, fmt.Errorf("cell %s appears twice (first in data row %d)", c, prev+1)
			}
			t.rowOf[c] = len(t.cells)
			t.cells = append(t.cells, c)
			t.index = append(t.index, idx)
			return 0, nil
		})
	if err != nil {
		return nil, err
	}
	t.Table = *tab
	return t, nil
}
