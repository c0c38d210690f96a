package devicedata

import (
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"
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

// ReadNB201 is [LoadNB201] on a reader; source names it in errors. A row's
// nb201_index must be the official index of its cell (NATS-Bench's order, as
// in the embedded accuracy table): results report it for looking cells up,
// and a file whose columns slipped would otherwise report other cells'.
func ReadNB201(r io.Reader, source string) (*NB201Table, error) {
	return readNB201(r, source, true)
}

// officialCells maps each official NAS-Bench-201 index to its cell, from the
// embedded accuracy table (read without the check it serves).
var official struct {
	once  sync.Once
	cells []Cell
	err   error
}

func officialCells() ([]Cell, error) {
	official.once.Do(func() { official.cells, official.err = readOfficialCells() })
	return official.cells, official.err
}

func readOfficialCells() ([]Cell, error) {
	e := embeddedFiles[NameAccuracy]
	f, err := dataFS.Open("data/" + e.file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	t, err := readNB201(gz, embeddedPrefix+e.file, false)
	if err != nil {
		return nil, err
	}
	cells := make([]Cell, NumCells)
	seen := make([]bool, NumCells)
	for i, c := range t.cells {
		k := t.index[i]
		if k < 0 || k >= NumCells || seen[k] {
			return nil, fmt.Errorf("embedded %s: row %d: index %d missing, out of range or repeated", e.file, i+1, k)
		}
		cells[k], seen[k] = c, true
	}
	return cells, nil
}

func readNB201(r io.Reader, source string, checkIndex bool) (*NB201Table, error) {
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
			if idx >= 0 && checkIndex {
				official, err := officialCells()
				if err != nil {
					return 0, err
				}
				if idx >= len(official) {
					return 0, fmt.Errorf("%d is beyond NAS-Bench-201's %d cells (indices 0-%d)", idx, len(official), len(official)-1)
				}
				if official[idx] != c {
					return 0, fmt.Errorf("%d is cell %s in NAS-Bench-201, but the row's arch_str is %s", idx, official[idx], c)
				}
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
