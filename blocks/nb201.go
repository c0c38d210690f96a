package blocks

// NAS-Bench-201 (Dong & Yang, ICLR 2020; the topology search space of
// NATS-Bench, Dong et al., TPAMI 2021): the cell, its five edge operations and
// the benchmark's macro skeleton, so that every hardware target costs a
// benchmark network through Analyze like any other architecture.

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// CellOp is the operation on one edge of a NAS-Bench-201 cell.
type CellOp uint8

// The five NAS-Bench-201 operations, in the benchmark's order.
const (
	CellNone       CellOp = iota // no edge: contributes nothing
	CellSkip                     // identity
	CellConv1x1                  // ReLU-conv1x1-BN
	CellConv3x3                  // ReLU-conv3x3-BN
	CellAvgPool3x3               // 3×3 average pooling, stride 1
	NumCellOps     = 5
)

// CellOpNames are the benchmark's names of the operations, indexed by CellOp.
var CellOpNames = [NumCellOps]string{"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"}

// String returns the benchmark's name of o.
func (o CellOp) String() string {
	if int(o) < NumCellOps {
		return CellOpNames[o]
	}
	return fmt.Sprintf("CellOp(%d)", int(o))
}

// ParseCellOp returns the CellOp named s (one of CellOpNames).
func ParseCellOp(s string) (CellOp, error) {
	for i, n := range CellOpNames {
		if s == n {
			return CellOp(i), nil
		}
	}
	return 0, fmt.Errorf("unknown NAS-Bench-201 op %q (valid: %s)", s, strings.Join(CellOpNames[:], ", "))
}

// CellEdge is a directed edge of the cell DAG between nodes 0 (input) .. 3 (output).
type CellEdge struct{ From, To int }

// NumCellEdges is the number of edges of a cell.
const NumCellEdges = 6

// CellEdges lists the cell's edges in arch_str order: 0→1 | 0→2, 1→2 | 0→3, 1→3, 2→3.
var CellEdges = [NumCellEdges]CellEdge{{0, 1}, {0, 2}, {1, 2}, {0, 3}, {1, 3}, {2, 3}}

// NumCells is the size of the NAS-Bench-201 space: 5 ops on 6 edges.
const NumCells = 15625

// Cell is a NAS-Bench-201 cell: the op on each edge, in [CellEdges] order.
type Cell [NumCellEdges]CellOp

// ParseCell parses the standard arch_str, e.g.
// "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|".
// Each "op~i" names the source node i of an edge into the node of its group.
// Architecture files hold cells in this form (Block.Cell).
func ParseCell(s string) (Cell, error) {
	var c Cell
	groups := strings.Split(s, "+")
	if len(groups) != 3 {
		return c, fmt.Errorf("cell %q: want 3 '+'-separated node groups, got %d", s, len(groups))
	}
	e := 0
	for node, g := range groups {
		if len(g) < 2 || g[0] != '|' || g[len(g)-1] != '|' {
			return c, fmt.Errorf("cell %q: node %d group %q must start and end with '|'", s, node+1, g)
		}
		parts := strings.Split(g[1:len(g)-1], "|")
		if len(parts) != node+1 {
			return c, fmt.Errorf("cell %q: node %d needs %d input edges, got %d", s, node+1, node+1, len(parts))
		}
		for from, p := range parts {
			name, src, ok := strings.Cut(p, "~")
			if !ok || src != string(rune('0'+from)) {
				return c, fmt.Errorf("cell %q: edge %q: want \"op~%d\"", s, p, from)
			}
			op, err := ParseCellOp(name)
			if err != nil {
				return c, fmt.Errorf("cell %q: %w", s, err)
			}
			c[e] = op
			e++
		}
	}
	return c, nil
}

// String returns the standard arch_str of c.
func (c Cell) String() string {
	var b strings.Builder
	b.Grow(100)
	e := 0
	for node := 1; node <= 3; node++ {
		if node > 1 {
			b.WriteByte('+')
		}
		b.WriteByte('|')
		for from := 0; from < node; from++ {
			b.WriteString(c[e].String())
			b.WriteByte('~')
			b.WriteByte(byte('0' + from))
			b.WriteByte('|')
			e++
		}
	}
	return b.String()
}

// Code returns c as a base-5 number with edge 0 as the most significant digit:
// a dense enumeration 0..NumCells-1. It is NOT the official NAS-Bench-201
// index (that order is arbitrary; the data tables of hwcost/devicedata carry it).
func (c Cell) Code() int {
	code := 0
	for _, op := range c {
		code = code*NumCellOps + int(op)
	}
	return code
}

// CellFromCode is the inverse of [Cell.Code].
func CellFromCode(code int) (Cell, error) {
	var c Cell
	if code < 0 || code >= NumCells {
		return c, fmt.Errorf("cell code %d out of range [0, %d)", code, NumCells)
	}
	for e := NumCellEdges - 1; e >= 0; e-- {
		c[e] = CellOp(code % NumCellOps)
		code /= NumCellOps
	}
	return c, nil
}

// AllCells returns the whole space in [Cell.Code] order.
func AllCells() []Cell {
	cells := make([]Cell, NumCells)
	for i := range cells {
		cells[i], _ = CellFromCode(i)
	}
	return cells
}

// Valid reports whether every op of c is one of the five ops.
func (c Cell) Valid() bool {
	for _, op := range c {
		if op >= NumCellOps {
			return false
		}
	}
	return true
}

// Live reports, per edge, whether the edge lies on a path from the input
// (node 0) to the output (node 3) made of non-none edges. Other edges either
// compute something nobody uses or consume a node that is always zero: a
// compiled model drops them, so they should cost nothing.
func (c Cell) Live() [NumCellEdges]bool {
	fwd, bwd := c.reach()
	var live [NumCellEdges]bool
	for e, ed := range CellEdges {
		live[e] = c[e] != CellNone && fwd[ed.From] && bwd[ed.To]
	}
	return live
}

// Used reports, per edge, whether the edge's result reaches the output
// through non-none edges, whether or not the input reaches the edge: a
// runtime that prunes unused ops but does not fold constants runs the used
// edges (a live edge is used; a used edge that is not live reads a node the
// input never reaches).
func (c Cell) Used() [NumCellEdges]bool {
	_, bwd := c.reach()
	var used [NumCellEdges]bool
	for e, ed := range CellEdges {
		used[e] = c[e] != CellNone && bwd[ed.To]
	}
	return used
}

// reach returns which nodes the input reaches (fwd) and which reach the
// output (bwd), through non-none edges.
func (c Cell) reach() (fwd, bwd [4]bool) {
	fwd[0] = true
	for e, ed := range CellEdges {
		if c[e] != CellNone && fwd[ed.From] {
			fwd[ed.To] = true
		}
	}
	bwd[3] = true
	for e := NumCellEdges - 1; e >= 0; e-- {
		ed := CellEdges[e]
		if c[e] != CellNone && bwd[ed.To] {
			bwd[ed.From] = true
		}
	}
	// One pass each way suffices: CellEdges is sorted by destination, so every edge
	// into j comes after (forward) / before (backward) all edges out of j.
	return fwd, bwd
}

// Connected reports whether the output depends on the input. The 341
// disconnected cells output zeros; BRP-NAS did not measure them.
func (c Cell) Connected() bool {
	live := c.Live()
	return live[3] || live[4] || live[5]
}

// Pruned returns c with every edge that is not [Cell.Live] set to none: the
// cell that actually runs. Cells with the same pruned form compute the same
// function with the same ops.
func (c Cell) Pruned() Cell {
	live := c.Live()
	var p Cell
	for e := range c {
		if live[e] {
			p[e] = c[e]
		}
	}
	return p
}

// OpCounts returns how many edges of c hold each op (all edges, live or not).
func (c Cell) OpCounts() [NumCellOps]int {
	var n [NumCellOps]int
	for _, op := range c {
		n[op]++
	}
	return n
}

// Digits returns the op of each edge as one digit 0-4 ([CellOp] values, in
// [CellEdges] order): the cell's token in the text form of an architecture
// ("cell_o334131_c16").
func (c Cell) Digits() string {
	var b [NumCellEdges]byte
	for e, op := range c {
		b[e] = '0' + byte(op)
	}
	return string(b[:])
}

// CellFromDigits is the inverse of [Cell.Digits].
func CellFromDigits(s string) (Cell, error) {
	var c Cell
	if len(s) != NumCellEdges {
		return c, fmt.Errorf("cell %q: want %d op digits 0-%d", s, NumCellEdges, NumCellOps-1)
	}
	for e := range c {
		d := s[e]
		if d < '0' || d >= '0'+NumCellOps {
			return c, fmt.Errorf("cell %q: want %d op digits 0-%d", s, NumCellEdges, NumCellOps-1)
		}
		c[e] = CellOp(d - '0')
	}
	return c, nil
}

// NB201Config is the macro skeleton of the NAS-Bench-201 networks: a 3×3 conv
// stem of C channels (BatchNorm, no activation), three stages of N cells of C,
// 2C and 4C channels with a ResNet basic block of stride 2 between stages,
// BatchNorm + ReLU, global average pooling and the classifier (NATS-Bench's
// TinyNetwork, xautodl/models/cell_infers/tiny_network.py, C=16, N=5).
type NB201Config struct {
	C, N       int
	Resolution int
	Classes    int
}

// The benchmark's three settings (NAS-Bench-201 paper, Sec. 2.1).
var (
	NB201CIFAR10    = NB201Config{C: 16, N: 5, Resolution: 32, Classes: 10}
	NB201CIFAR100   = NB201Config{C: 16, N: 5, Resolution: 32, Classes: 100}
	NB201ImageNet16 = NB201Config{C: 16, N: 5, Resolution: 16, Classes: 120}
)

// NB201Network returns the NAS-Bench-201 network of cell c in setting cfg,
// named "nb201_<digits>" (see [Cell.Digits]).
func NB201Network(c Cell, cfg NB201Config) *Arch {
	a := &Arch{Name: "nb201_" + c.Digits(), Resolution: cfg.Resolution, Channels: 3, Classes: cfg.Classes,
		Stem: Block{Kind: KindConv, Kernel: 3, Stride: 1, Out: cfg.C, Act: Linear},
		Head: Head{Norm: true}}
	cell := c.String()
	for stage, width := range []int{cfg.C, 2 * cfg.C, 4 * cfg.C} {
		if stage > 0 {
			a.Blocks = append(a.Blocks, Block{Kind: KindResBasic, Kernel: 3, Stride: 2, Out: width})
		}
		for range cfg.N {
			a.Blocks = append(a.Blocks, Block{Kind: KindCell, Stride: 1, Out: width, Cell: cell})
		}
	}
	return a
}

// validateBench checks a cell or a ResNet basic block.
func (b Block) validateBench(in int) error {
	switch {
	case b.StartKernel != 0:
		return fmt.Errorf("field start_kernel: only valid for kind %q", KindUIB)
	case b.Expand != 0 || b.Expanded != 0:
		return fmt.Errorf("field expand: not valid for kind %q", b.Kind)
	case b.Groups != 0:
		return fmt.Errorf("field groups: not valid for kind %q", b.Kind)
	case b.Act != "":
		return fmt.Errorf("field act: kind %q uses ReLU-Conv-BN, got %q", b.Kind, b.Act)
	case b.NoSkip:
		return fmt.Errorf("field no_skip: not valid for kind %q", b.Kind)
	case b.KeepExpand:
		return fmt.Errorf("field keep_expand: not valid for kind %q", b.Kind)
	case b.Out <= 0:
		return fmt.Errorf("field out: width must be positive, got %d", b.Out)
	}
	if b.Kind == KindResBasic {
		if b.Cell != "" {
			return fmt.Errorf("field cell: only valid for kind %q", KindCell)
		}
		if !validKernel(b.Kernel) {
			return fmt.Errorf("field kernel: must be odd and positive, got %d", b.Kernel)
		}
		if b.Stride != 1 && b.Stride != 2 {
			return fmt.Errorf("field stride: must be 1 or 2, got %d", b.Stride)
		}
		return nil
	}
	if _, err := ParseCell(b.Cell); err != nil {
		return fmt.Errorf("field cell: %w", err)
	}
	if b.Kernel != 0 {
		return fmt.Errorf("field kernel: a cell's kernels are its ops', got %d", b.Kernel)
	}
	if b.Stride != 1 {
		return fmt.Errorf("field stride: a cell keeps the resolution (stride 1), got %d", b.Stride)
	}
	if b.Out != in {
		return fmt.Errorf("field out: a cell keeps the width (%d), got %d", in, b.Out)
	}
	return nil
}

// cell plans a NAS-Bench-201 cell (xautodl InferCell): node j (1..3) is the
// sum of the ops on its incoming edges; a conv edge is ReLU → conv →
// BatchNorm (ReLUConvBN), a pooling edge 3×3 average pooling, a none edge a
// multiplication by zero, a skip edge the identity. Ops off every
// input-output path are Dead (Cell.Live), and Unused too unless their
// result reaches the output (Cell.Used); none edges are both. Node j's sum
// is a chain of additions, live inputs first, then the other used ones: as
// many additions are dead as the node has dead inputs (all when none is
// live), and as many are unused as it has unused inputs (all when the node
// is unused). A disconnected cell's output is zero whatever the input: the
// plan is Constant.
func (pl *planner) cell(b Block) {
	c, _ := ParseCell(b.Cell) // validated
	live, used := c.Live(), c.Used()
	_, nodeUsed := c.reach()
	ch := pl.p.In
	node := [4]int{PlanInput}
	type input struct {
		v            int
		dead, unused bool
	}
	var into [4][]input
	rank := func(in input) int { // summing order: live, used, unused
		switch {
		case !in.dead:
			return 0
		case !in.unused:
			return 1
		}
		return 2
	}
	for e, ed := range CellEdges {
		name := fmt.Sprintf("e%d%d", ed.From, ed.To) // the edge's op; its ReLU is name.relu
		src, dead, unused := node[ed.From], !live[e], !used[e]
		v := src
		switch c[e] {
		case CellNone:
			pl.elementwise(name, OpZero, "", src, true, true)
			v = pl.last
		case CellConv1x1, CellConv3x3:
			k := 1
			if c[e] == CellConv3x3 {
				k = 3
			}
			pl.reluConv(name, src, k, 1, ch, true, dead, unused)
			v = pl.last
		case CellAvgPool3x3:
			pl.push(PlanOp{Name: name, Op: OpPool, Kernel: 3, Stride: 1, Out: ch, Groups: 1, Inputs: []int{src},
				Dead: dead, Unused: unused})
			v = pl.last
		}
		into[ed.To] = append(into[ed.To], input{v, dead, unused})
		if e+1 < NumCellEdges && CellEdges[e+1].To == ed.To {
			continue
		}
		// Node ed.To is complete: sum its inputs, live ones first, then the
		// other used ones (a dead input's place among the dead ones changes
		// no output: an unused input is a none edge's zero or goes into a
		// node nothing uses).
		ins := into[ed.To]
		ordered := slices.Clone(ins)
		slices.SortStableFunc(ordered, func(a, b input) int { return cmp.Compare(rank(a), rank(b)) })
		var nLive, nUsed int
		for _, in := range ins {
			if !in.dead {
				nLive++
			}
			if !in.unused {
				nUsed++
			}
		}
		acc := ordered[0].v
		for i := 1; i < len(ordered); i++ {
			pl.push(PlanOp{Name: fmt.Sprintf("n%d.add%d", ed.To, i), Op: OpAdd, Kernel: 1, Stride: 1, Out: ch, Groups: 1,
				Inputs: []int{acc, ordered[i].v}, Dead: i >= nLive, Unused: !nodeUsed[ed.To] || i >= nUsed})
			acc = pl.last
		}
		node[ed.To] = acc
	}
	pl.p.Constant = !c.Connected()
}

// resBasic plans a ResNet basic block in ReLU-Conv-BN order
// (xautodl/models/cell_operations.py ResNetBasicblock): two k×k convs, the
// first with the stride, and a shortcut that is 2×2 average pooling + a 1×1
// conv without BatchNorm at stride 2, ReLU-Conv-BN 1×1 when only the width
// changes, the identity otherwise; then the addition (of the input itself,
// by Block.Plan's residual rule, when the shortcut is the identity).
func (pl *planner) resBasic(b Block) {
	in := pl.p.In
	pl.reluConv("a", PlanInput, b.Kernel, b.Stride, b.Out, true, false, false)
	pl.reluConv("b", pl.last, b.Kernel, 1, b.Out, true, false, false)
	body := pl.last
	switch {
	case b.Stride == 2:
		pl.push(PlanOp{Name: "down.pool", Op: OpPool, Kernel: 2, Stride: 2, Out: in, Groups: 1, Inputs: []int{PlanInput}})
		pl.reluConv("down", pl.last, 1, 1, b.Out, false, false, false)
	case in != b.Out:
		pl.reluConv("down", PlanInput, 1, 1, b.Out, true, false, false)
	default:
		return // the identity: Block.Plan adds the input (Block.Residual)
	}
	pl.push(PlanOp{Name: OpNameAdd, Op: OpAdd, Kernel: 1, Stride: 1, Out: b.Out, Groups: 1, Inputs: []int{body, pl.last}})
}
