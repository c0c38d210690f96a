package devicedata

import "github.com/multihw/multihw/blocks"

// The NAS-Bench-201 cell is defined once, in package blocks (which also builds
// the benchmark network from it); these are its names in this package.

// Op is the operation on one edge of a NAS-Bench-201 cell.
type Op = blocks.CellOp

// The five NAS-Bench-201 operations, in the benchmark's order.
const (
	OpNone       = blocks.CellNone       // no edge: contributes nothing
	OpSkip       = blocks.CellSkip       // identity
	OpConv1x1    = blocks.CellConv1x1    // ReLU-conv1x1-BN
	OpConv3x3    = blocks.CellConv3x3    // ReLU-conv3x3-BN
	OpAvgPool3x3 = blocks.CellAvgPool3x3 // 3×3 average pooling, stride 1
	NumOps       = blocks.NumCellOps
)

// OpNames are the benchmark's names of the operations, indexed by Op.
var OpNames = blocks.CellOpNames

// Edge is a directed edge of the cell DAG between nodes 0 (input) .. 3 (output).
type Edge = blocks.CellEdge

// NumEdges is the number of edges of a cell.
const NumEdges = blocks.NumCellEdges

// Edges lists the cell's edges in arch_str order: 0→1 | 0→2, 1→2 | 0→3, 1→3, 2→3.
var Edges = blocks.CellEdges

// NumCells is the size of the NAS-Bench-201 space: 5 ops on 6 edges.
const NumCells = blocks.NumCells

// Cell is a NAS-Bench-201 cell: the op on each edge, in [Edges] order.
type Cell = blocks.Cell

// ParseOp returns the Op named s (one of OpNames).
func ParseOp(s string) (Op, error) { return blocks.ParseCellOp(s) }

// ParseCell parses the standard arch_str (see [blocks.ParseCell]).
func ParseCell(s string) (Cell, error) { return blocks.ParseCell(s) }

// CellFromCode is the inverse of [blocks.Cell.Code].
func CellFromCode(code int) (Cell, error) { return blocks.CellFromCode(code) }

// AllCells returns the whole space in [blocks.Cell.Code] order.
func AllCells() []Cell { return blocks.AllCells() }
