package devicedata

import (
	"fmt"
	"io"
	"strconv"

	"github.com/multihw/multihw/blocks"
)

// The FBNet space is defined once, in package blocks (which also builds its
// networks); these are its names in this package.

// FBNetOp is the choice at one position of an FBNet-space architecture.
type FBNetOp = blocks.FBNetOp

// NumFBNetOps is the number of FBNet op choices; FBNetSkip is the last.
const (
	NumFBNetOps    = blocks.NumFBNetOps
	FBNetSkip      = blocks.FBNetSkip
	FBNetPositions = blocks.FBNetPositions
)

// FBNetOpNames are HELP's names of the FBNet ops, indexed by FBNetOp.
var FBNetOpNames = blocks.FBNetOpNames

// FBNetArch is an FBNet-space architecture: the op at each of the 22 positions.
type FBNetArch = blocks.FBNetArch

// ParseFBNetArch parses HELP's op_idx_list (see [blocks.ParseFBNetArch]).
func ParseFBNetArch(s string) (FBNetArch, error) { return blocks.ParseFBNetArch(s) }

// FBNetTable is a table of FBNet-space architectures (HELP's 5,000 samples).
type FBNetTable struct {
	Table
	id    []int // help_idx per row (-1 when absent)
	archs []FBNetArch
}

// Arch returns the architecture of row i.
func (t *FBNetTable) Arch(i int) FBNetArch { return t.archs[i] }

// ID returns the help_idx of row i, or -1 when the file has none.
func (t *FBNetTable) ID(i int) int { return t.id[i] }

// LoadFBNet reads an FBNet-space table from a CSV file, plain or gzipped. It
// needs an op_idx_list column; help_idx is optional; op_names, when present,
// must agree with op_idx_list; every other column must be numeric.
func LoadFBNet(path string) (*FBNetTable, error) {
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadFBNet(f, path)
}

// ReadFBNet is [LoadFBNet] on a reader; source names it in errors.
func ReadFBNet(r io.Reader, source string) (*FBNetTable, error) {
	t := &FBNetTable{}
	tab, err := readTable(r, source, []string{"help_idx", "op_idx_list", "op_names"}, []bool{false, true, false},
		func(keys []string) (int, error) {
			id := -1
			if keys[0] != "" {
				v, err := strconv.Atoi(keys[0])
				if err != nil || v < 0 {
					return 0, fmt.Errorf("%q is not a non-negative integer", keys[0])
				}
				id = v
			}
			a, err := ParseFBNetArch(keys[1])
			if err != nil {
				return 1, err
			}
			if keys[2] != "" && keys[2] != a.Names() {
				return 2, fmt.Errorf("%q disagrees with op_idx_list (%s)", keys[2], a.Names())
			}
			t.archs = append(t.archs, a)
			t.id = append(t.id, id)
			return 0, nil
		})
	if err != nil {
		return nil, err
	}
	t.Table = *tab
	return t, nil
}
