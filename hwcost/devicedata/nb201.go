package devicedata

import (
	"fmt"
	"strings"
)

// Op is the operation on one edge of a NAS-Bench-201 cell.
type Op uint8

// The five NAS-Bench-201 operations, in the benchmark's order.
const (
	OpNone       Op = iota // no edge: contributes nothing
	OpSkip                 // identity
	OpConv1x1              // ReLU-conv1x1-BN
	OpConv3x3              // ReLU-conv3x3-BN
	OpAvgPool3x3           // 3×3 average pooling, stride 1
	NumOps       = 5
)

// OpNames are the benchmark's names of the operations, indexed by Op.
var OpNames = [NumOps]string{"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"}

// String returns the benchmark's name of o.
func (o Op) String() string {
	if int(o) < NumOps {
		return OpNames[o]
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// ParseOp returns the Op named s (one of OpNames).
func ParseOp(s string) (Op, error) {
	for i, n := range OpNames {
		if s == n {
			return Op(i), nil
		}
	}
	return 0, fmt.Errorf("unknown NAS-Bench-201 op %q (valid: %s)", s, strings.Join(OpNames[:], ", "))
}

// Edge is a directed edge of the cell DAG between nodes 0 (input) .. 3 (output).
type Edge struct{ From, To int }

// NumEdges is the number of edges of a cell.
const NumEdges = 6

// Edges lists the cell's edges in arch_str order: 0→1 | 0→2, 1→2 | 0→3, 1→3, 2→3.
var Edges = [NumEdges]Edge{{0, 1}, {0, 2}, {1, 2}, {0, 3}, {1, 3}, {2, 3}}

// NumCells is the size of the NAS-Bench-201 space: 5 ops on 6 edges.
const NumCells = 15625

// Cell is a NAS-Bench-201 cell: the op on each edge, in [Edges] order.
type Cell [NumEdges]Op

// ParseCell parses the standard arch_str, e.g.
// "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|".
// Each "op~i" names the source node i of an edge into the node of its group.
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
			op, err := ParseOp(name)
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
// index (that order is arbitrary; tables carry it, see [NB201Table.Index]).
func (c Cell) Code() int {
	code := 0
	for _, op := range c {
		code = code*NumOps + int(op)
	}
	return code
}

// CellFromCode is the inverse of [Cell.Code].
func CellFromCode(code int) (Cell, error) {
	var c Cell
	if code < 0 || code >= NumCells {
		return c, fmt.Errorf("cell code %d out of range [0, %d)", code, NumCells)
	}
	for e := NumEdges - 1; e >= 0; e-- {
		c[e] = Op(code % NumOps)
		code /= NumOps
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
		if op >= NumOps {
			return false
		}
	}
	return true
}

// Live reports, per edge, whether the edge lies on a path from the input
// (node 0) to the output (node 3) made of non-none edges. Other edges either
// compute something nobody uses or consume a node that is always zero: a
// compiled model drops them, so they should cost nothing.
func (c Cell) Live() [NumEdges]bool {
	// Forward reachability from node 0, then backward reachability to node 3.
	var fwd, bwd [4]bool
	fwd[0] = true
	for e, ed := range Edges {
		if c[e] != OpNone && fwd[ed.From] {
			fwd[ed.To] = true
		}
	}
	bwd[3] = true
	for e := NumEdges - 1; e >= 0; e-- {
		ed := Edges[e]
		if c[e] != OpNone && bwd[ed.To] {
			bwd[ed.From] = true
		}
	}
	// One pass each way suffices: Edges is sorted by destination, so every edge
	// into j comes after (forward) / before (backward) all edges out of j.
	var live [NumEdges]bool
	for e, ed := range Edges {
		live[e] = c[e] != OpNone && fwd[ed.From] && bwd[ed.To]
	}
	return live
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
func (c Cell) OpCounts() [NumOps]int {
	var n [NumOps]int
	for _, op := range c {
		n[op]++
	}
	return n
}
