package predict

import (
	"fmt"
	"strings"

	"github.com/multihw/multihw/hwcost/devicedata"
)

// Arch is an architecture encoded as one op index per position of a [Space].
type Arch []int

// Space describes a family of architectures: a fixed number of positions,
// each holding one of the same op choices, and what the predictors may know
// about its structure.
type Space struct {
	// Name identifies the space in messages ("nb201", "fbnet").
	Name string
	// Ops names the op choices; an Arch holds indices into it.
	Ops []string
	// Positions is the number of positions of an Arch.
	Positions int
	// Zero is the op that computes nothing (NB201's none, FBNet's skip): the
	// reference level of the one-hot encodings, costing 0 by construction.
	Zero int
	// Groups gives each position a group of positions whose layers have the
	// same shapes (all 6 edges of an NB201 cell; the non-first layers of an
	// FBNet stage). The structured predictor shares op costs within a group
	// and learns per-position deviations with a penalty. nil: one group per
	// position.
	Groups []int
	// Live, when set, reports which positions actually run in a (structure
	// aware) compiled model. nil: all positions run.
	Live func(a Arch) []bool
	// Extra, when set, returns structural features beyond op costs (NB201:
	// which intermediate nodes are computed, how many additions the cell does).
	Extra func(a Arch) []float64
	// ExtraNames names the Extra features, for explanations.
	ExtraNames []string
}

// Check reports whether a is a valid architecture of s.
func (s *Space) Check(a Arch) error {
	if len(a) != s.Positions {
		return fmt.Errorf("%s architecture has %d positions, want %d", s.Name, len(a), s.Positions)
	}
	for p, op := range a {
		if op < 0 || op >= len(s.Ops) {
			return fmt.Errorf("%s architecture: position %d holds op %d, want 0..%d", s.Name, p, op, len(s.Ops)-1)
		}
	}
	return nil
}

// Names returns a readable form of a: the op names, space separated.
func (s *Space) Names(a Arch) string {
	names := make([]string, len(a))
	for i, op := range a {
		if op >= 0 && op < len(s.Ops) {
			names[i] = s.Ops[op]
		} else {
			names[i] = fmt.Sprint(op)
		}
	}
	return strings.Join(names, " ")
}

// numGroups returns the number of position groups.
func (s *Space) numGroups() int {
	if s.Groups == nil {
		return s.Positions
	}
	n := 0
	for _, g := range s.Groups {
		n = max(n, g+1)
	}
	return n
}

func (s *Space) group(p int) int {
	if s.Groups == nil {
		return p
	}
	return s.Groups[p]
}

// NB201 is the NAS-Bench-201 cell space: 6 edges (positions, in
// devicedata.Edges order) × 5 ops. Edges that cannot reach the output or
// cannot be reached from the input are not Live (a compiled model drops them);
// Extra describes the nodes the cell computes.
var NB201 = &Space{
	Name:      "nb201",
	Ops:       devicedata.OpNames[:],
	Positions: devicedata.NumEdges,
	Zero:      int(devicedata.OpNone),
	Groups:    make([]int, devicedata.NumEdges), // every edge maps C channels to C at the same resolution
	Live: func(a Arch) []bool {
		l := NB201Cell(a).Live()
		return l[:]
	},
	Extra:      nb201Extra,
	ExtraNames: []string{"output connected", "node1 computed", "node2 computed", "additions"},
}

// NB201Arch encodes a cell.
func NB201Arch(c devicedata.Cell) Arch {
	a := make(Arch, len(c))
	for i, op := range c {
		a[i] = int(op)
	}
	return a
}

// NB201Cell decodes an Arch of the NB201 space (which must be valid).
func NB201Cell(a Arch) devicedata.Cell {
	var c devicedata.Cell
	for i := range c {
		c[i] = devicedata.Op(a[i])
	}
	return c
}

// nb201Extra: whether the output depends on the input at all (when it does
// not, a compiler may fold the whole network: HW-NAS-Bench's pixel3 and raspi4
// time such cells at ~0 ms), whether the intermediate nodes are computed (they
// cost memory traffic) and the number of element-wise additions summing live
// inputs.
func nb201Extra(a Arch) []float64 {
	live := NB201Cell(a).Live()
	var indeg [4]int
	for e, ed := range devicedata.Edges {
		if live[e] {
			indeg[ed.To]++
		}
	}
	adds := 0
	for _, d := range indeg[1:] {
		adds += max(0, d-1)
	}
	return []float64{b2f(indeg[3] > 0), b2f(indeg[1] > 0), b2f(indeg[2] > 0), float64(adds)}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// fbnetGroups: the FBNet space (HW-NAS-Bench/HELP) has stages of 1, 4, 4, 4,
// 4, 4 and 1 searchable layers; the first layer of a stage changes the
// resolution or the width, the others repeat one shape. HELP's per-op lookup
// tables (the pixel3 column) are indeed identical within {2,3,4}, {6,7,8},
// {10,11,12}, {14,15,16} and {18,19,20}.
var fbnetGroups = []int{0, 1, 2, 2, 2, 3, 4, 4, 4, 5, 6, 6, 6, 7, 8, 8, 8, 9, 10, 10, 10, 11}

// FBNet is the FBNet space of HELP: 22 layers × 9 ops (skip = layer absent).
var FBNet = &Space{
	Name:      "fbnet",
	Ops:       devicedata.FBNetOpNames[:],
	Positions: devicedata.FBNetPositions,
	Zero:      int(devicedata.FBNetSkip),
	Groups:    fbnetGroups,
}

// FBNetArch encodes an FBNet-space architecture.
func FBNetArch(f devicedata.FBNetArch) Arch {
	a := make(Arch, len(f))
	for i, op := range f {
		a[i] = int(op)
	}
	return a
}
