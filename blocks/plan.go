package blocks

import "fmt"

// The op plan: what a block computes, as a small graph of primitive ops. It is
// the one description of block structure: Analyze counts it, blocks/convnet
// builds it, the NAS supernet builds its paths from it and the architecture
// diagrams draw it. Nothing else decides which ops a block has, where its
// stride goes or whether it adds a residual.
//
// A plan is resolution-free: widths, kernels, strides and groups, not spatial
// sizes (Analyze derives those). Values are numbered: PlanInput is the
// block's input, value i the output of Ops[i]; the last op's output is the
// block's output. Ops are in topological order and name their inputs
// explicitly, so a plan is a DAG: a residual is an OpAdd of the last op and
// PlanInput, and a cell summing several edges (NAS-Bench-201) is an OpAdd of
// more inputs.

// PlanInput is the value index of a plan's input in PlanOp.Inputs.
const PlanInput = -1

// PlanOp is one primitive op of a plan.
type PlanOp struct {
	// Name is the op's role, unique within its plan. It names the layer in
	// Analyze ("b3.expand"; the stem's op is "stem", the head's "head.conv",
	// "head.pool", "head.hidden" and "classifier") and the variable scope in
	// blocks/convnet (convnet.ScopeOfLayer).
	Name string `json:"name"`
	// Op is the primitive kind (the unit of the hardware cost models).
	Op Op `json:"op"`
	// Kernel and Stride of a convolution (1 for fc and add); Kernel 0 with
	// OpPool is a global pooling.
	Kernel int `json:"kernel"`
	Stride int `json:"stride"`
	// In and Out are the channels read (per input) and written.
	In  int `json:"in"`
	Out int `json:"out"`
	// Groups of a convolution: 1 for a full convolution, In (= Out) for a
	// depthwise one; a value in between is a grouped convolution.
	Groups int `json:"groups"`
	// Act is the activation after the op ("" = linear).
	Act Activation `json:"act,omitempty"`
	// Norm says the op is followed by BatchNorm (every convolution here);
	// Bias that it has a bias (fully connected layers).
	Norm bool `json:"norm,omitempty"`
	Bias bool `json:"bias,omitempty"`
	// Dropout is the rate of the dropout applied to the op's input during
	// training (the classifier's); inference ignores it.
	Dropout float64 `json:"dropout,omitempty"`
	// Inputs are the values the op reads: PlanInput or the index of an
	// earlier op. Convolutions, pooling and fc read one; OpAdd sums two or more.
	Inputs []int `json:"inputs"`
	// Dead marks an op whose result cannot reach the block's output (a
	// NAS-Bench-201 edge off every input-output path, a none edge, an
	// addition of such an edge): a graph compiler removes it, an eager
	// runtime runs it (see Layer.Dead).
	Dead bool `json:"dead,omitempty"`
	// Unused marks a dead op whose result does not reach the block's output
	// either (Dead ops that are not Unused read a value the block's input
	// never reaches): a pruning pass that does not fold constants removes
	// only these (see Layer.Unused).
	Unused bool `json:"unused,omitempty"`
}

// Plan is the op plan of one part of an architecture (the stem, a block or
// the head) for a given input width.
type Plan struct {
	// In is the input width; Out the output width (of the last op).
	In  int      `json:"in"`
	Out int      `json:"out"`
	Ops []PlanOp `json:"ops"`
	// Constant says that the block's output does not depend on its input (a
	// disconnected NAS-Bench-201 cell): then nothing of the network affects
	// its output, and Analyze marks every layer Dead and Unused.
	Constant bool `json:"constant,omitempty"`
}

// Plan op names of the blocks (see PlanOp.Name).
const (
	OpNameConv       = "conv"     // KindConv's convolution
	OpNameExpand     = "expand"   // 1×1 expansion of IBN and UIB
	OpNameFused      = "fused"    // k×k full-conv expansion of fused IBN
	OpNameDW         = "dw"       // IBN's depthwise
	OpNameStartDW    = "start_dw" // UIB's depthwise before the expansion
	OpNameMidDW      = "mid_dw"   // UIB's depthwise after the expansion
	OpNameProject    = "project"  // linear 1×1 projection
	OpNameAdd        = "add"      // residual addition
	OpNameStem       = "stem"
	OpNameHeadConv   = "head.conv"
	OpNameHeadNorm   = "head.norm"
	OpNameHeadPool   = "head.pool"
	OpNameHeadHidden = "head.hidden"
	OpNameClassifier = "classifier"
)

// planner appends ops, each reading the previous op's output.
type planner struct {
	p    Plan
	last int // value of the previous op's output
	c    int // its channels
}

func newPlanner(in int) *planner { return &planner{p: Plan{In: in}, last: PlanInput, c: in} }

// chans returns the channels of value v.
func (pl *planner) chans(v int) int {
	if v == PlanInput {
		return pl.p.In
	}
	return pl.p.Ops[v].Out
}

// push appends op; without Inputs it reads the previous op's output. Its In
// is the channels of its first input.
func (pl *planner) push(op PlanOp) {
	if op.Inputs == nil {
		op.Inputs = []int{pl.last}
	}
	op.In = pl.chans(op.Inputs[0])
	pl.p.Ops = append(pl.p.Ops, op)
	pl.last, pl.c = len(pl.p.Ops)-1, op.Out
}

// conv appends a convolution + BatchNorm (+ act): full when groups is 1,
// depthwise when groups is 0 (groups = channels).
func (pl *planner) conv(name string, kernel, stride, out, groups int, big Op, act Activation) {
	if act == Linear {
		act = ""
	}
	op := convOp(kernel, big)
	if groups == 0 {
		op, out, groups = OpDW, pl.c, pl.c
	}
	pl.push(PlanOp{Name: name, Op: op, Kernel: kernel, Stride: stride, Out: out, Groups: groups, Act: act, Norm: true})
}

func (pl *planner) done() Plan {
	pl.p.Out = pl.c
	return pl.p
}

func convOp(kernel int, big Op) Op {
	if kernel == 1 {
		return OpPW
	}
	return big
}

// Plan returns the op plan of the block for input width in. The block is
// assumed valid for in (Arch.Validate); Analyze and the builders validate
// first.
//
//   - KindConv: one k×k (or 1×1) convolution with the block's stride.
//   - KindIBN: [1×1 expand] → k×k depthwise (stride) → linear 1×1 project.
//   - KindFused: [k×k full-conv expand (stride)] → linear 1×1 project; without
//     the expansion the projection takes the stride.
//   - KindUIB: [start depthwise, linear] → 1×1 expand → [middle depthwise] →
//     linear 1×1 project; the stride goes to the middle depthwise if there is
//     one, else to the start depthwise.
//   - KindCell, KindResBasic: the NAS-Bench-201 cell and reduction block
//     (nb201.go).
//
// With Groups > 1 the 1×1 expansion and projection of IBN and UIB are grouped
// and a channel shuffle follows the expansion (prims.go).
//
// The bracketed expansion of IBN and fused IBN exists by HasExpandConv. Every
// convolution is followed by BatchNorm; a residual add follows by Residual.
func (b Block) Plan(in int) Plan {
	pl := newPlanner(in)
	act := b.Activation()
	e := b.ExpandedWidth(in)
	switch b.Kind {
	case KindConv:
		pl.conv(OpNameConv, b.Kernel, b.Stride, b.Out, 1, OpConv, act)
	case KindIBN:
		if b.HasExpandConv(in) {
			pl.expand(e, b.groups(), act)
		}
		pl.conv(OpNameDW, b.Kernel, b.Stride, 0, 0, OpDW, act)
		pl.conv(OpNameProject, 1, 1, b.Out, b.groups(), OpPW, "")
	case KindFused:
		stride := b.Stride
		if b.HasExpandConv(in) {
			pl.conv(OpNameFused, b.Kernel, b.Stride, e, 1, OpFused, act)
			stride = 1
		}
		pl.conv(OpNameProject, 1, stride, b.Out, 1, OpPW, "")
	case KindUIB:
		if b.StartKernel > 0 {
			s := b.Stride
			if b.Kernel > 0 {
				s = 1
			}
			pl.conv(OpNameStartDW, b.StartKernel, s, 0, 0, OpDW, "")
		}
		pl.expand(e, b.groups(), act)
		if b.Kernel > 0 {
			pl.conv(OpNameMidDW, b.Kernel, b.Stride, 0, 0, OpDW, act)
		}
		pl.conv(OpNameProject, 1, 1, b.Out, b.groups(), OpPW, "")
	case KindCell:
		pl.cell(b)
	case KindResBasic:
		pl.resBasic(b)
	default:
		panic(fmt.Sprintf("blocks: plan of unknown block kind %q", b.Kind))
	}
	if b.Residual(in) {
		pl.push(PlanOp{Name: OpNameAdd, Op: OpAdd, Kernel: 1, Stride: 1, Out: pl.c, Groups: 1,
			Inputs: []int{pl.last, PlanInput}})
	}
	return pl.done()
}

// Plan returns the op plan of the head with a classifier of the given width
// for input width in: [1×1 conv + BN + ReLU] → global average pooling →
// [fully connected + bias + ReLU] → fully connected classifier + bias, with
// the head's dropout on the classifier's input.
func (h Head) Plan(in, classes int) Plan {
	pl := newPlanner(in)
	if h.Conv > 0 {
		pl.conv(OpNameHeadConv, 1, 1, h.Conv, 1, OpPW, ReLU)
	}
	if h.Norm {
		pl.norm(OpNameHeadNorm)
	}
	pl.push(PlanOp{Name: OpNameHeadPool, Op: OpPool, Kernel: 0, Stride: 1, Out: pl.c, Groups: 1})
	if h.Hidden > 0 {
		pl.push(PlanOp{Name: OpNameHeadHidden, Op: OpFC, Kernel: 1, Stride: 1, Out: h.Hidden, Groups: 1, Act: ReLU, Bias: true})
	}
	pl.push(PlanOp{Name: OpNameClassifier, Op: OpFC, Kernel: 1, Stride: 1, Out: classes, Groups: 1, Bias: true, Dropout: h.Dropout})
	return pl.done()
}

// Expansion returns the widest intermediate width of the plan (an expansion's
// output) and whether the plan expands at all: the output of an op other than
// the last convolution that is wider than both the input and the output.
func (p Plan) Expansion() (width int, ok bool) {
	for _, op := range p.Ops {
		if op.Name == OpNameExpand || op.Name == OpNameFused {
			width, ok = max(width, op.Out), true
		}
	}
	return width, ok
}

// Residual reports whether the plan ends with a residual add of its input.
func (p Plan) Residual() bool {
	if len(p.Ops) == 0 {
		return false
	}
	last := p.Ops[len(p.Ops)-1]
	return last.Op == OpAdd && len(last.Inputs) == 2 && last.Inputs[1] == PlanInput
}

// Stride returns the plan's total stride (the product of its ops' strides
// along the path to the output).
func (p Plan) Stride() int {
	s := 1
	for _, op := range p.Ops {
		if op.Op != OpAdd && op.Op != OpPool {
			s *= max(op.Stride, 1)
		}
	}
	return s
}

// NetPlan is the op plan of a whole architecture: the stem, every block and
// the head, each with its input width. It is what a deployment graph (ONNX)
// or any other builder walks.
type NetPlan struct {
	Stem   Plan   `json:"stem"`
	Blocks []Plan `json:"blocks"`
	Head   Plan   `json:"head"`
}

// Plan validates a and returns its op plan. The stem's op is named "stem".
func (a *Arch) Plan() (*NetPlan, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a.plan(), nil
}

// plan is Plan without the validation (the fields must be valid).
func (a *Arch) plan() *NetPlan {
	np := &NetPlan{Stem: a.Stem.Plan(a.Channels)}
	np.Stem.Ops[0].Name = OpNameStem
	in := a.Stem.Out
	for _, b := range a.Blocks {
		np.Blocks = append(np.Blocks, b.Plan(in))
		in = b.Out
	}
	np.Head = a.Head.Plan(in, a.Classes)
	return np
}

// LayerName is the name Analyze gives op name of part block (-1 the stem,
// len(Blocks) the head): the stem's and the head's op names as they are,
// "b<i>.<name>" for block i.
func LayerName(block, nBlocks int, name string) string {
	if block < 0 || block >= nBlocks {
		return name
	}
	return fmt.Sprintf("b%d.%s", block, name)
}
