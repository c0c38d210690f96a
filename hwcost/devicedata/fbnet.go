package devicedata

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// FBNetOp is the choice at one position of an FBNet-space architecture: an
// inverted bottleneck with a kernel size, an expansion ratio and an optional
// group convolution, or skip (the layer is absent).
type FBNetOp uint8

// NumFBNetOps is the number of FBNet op choices; FBNetSkip is the last.
const (
	NumFBNetOps    = 9
	FBNetSkip      = FBNetOp(8)
	FBNetPositions = 22 // searchable layers of an FBNet-space architecture
)

// FBNetOpNames are HELP's names of the FBNet ops, indexed by FBNetOp:
// kernel size, expansion ratio and group count ("g2").
var FBNetOpNames = [NumFBNetOps]string{"k3_e1", "k3_e1_g2", "k3_e3", "k3_e6", "k5_e1", "k5_e1_g2", "k5_e3", "k5_e6", "skip"}

// String returns HELP's name of o.
func (o FBNetOp) String() string {
	if int(o) < NumFBNetOps {
		return FBNetOpNames[o]
	}
	return fmt.Sprintf("FBNetOp(%d)", int(o))
}

// FBNetArch is an FBNet-space architecture: the op at each of the 22 positions.
type FBNetArch [FBNetPositions]FBNetOp

// ParseFBNetArch parses HELP's op_idx_list: 22 space-separated op indices.
func ParseFBNetArch(s string) (FBNetArch, error) {
	var a FBNetArch
	f := strings.Fields(s)
	if len(f) != FBNetPositions {
		return a, fmt.Errorf("op list %q: want %d op indices, got %d", s, FBNetPositions, len(f))
	}
	for i, x := range f {
		v, err := strconv.Atoi(x)
		if err != nil || v < 0 || v >= NumFBNetOps {
			return a, fmt.Errorf("op list %q: position %d: %q is not an op index 0..%d", s, i, x, NumFBNetOps-1)
		}
		a[i] = FBNetOp(v)
	}
	return a, nil
}

// String returns the op_idx_list form of a.
func (a FBNetArch) String() string {
	var b strings.Builder
	for i, op := range a {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(int(op)))
	}
	return b.String()
}

// Names returns the op_names form of a.
func (a FBNetArch) Names() string {
	var b strings.Builder
	for i, op := range a {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(op.String())
	}
	return b.String()
}

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
