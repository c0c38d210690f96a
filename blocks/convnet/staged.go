package convnet

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
)

// Staged is the inference network of an architecture on the pure-Go backend
// for a few images at a time (the NHWC layout, LayoutFor), run as a pipeline
// of graph segments and Go stages. The graph segments hold the network's
// ops, built by the same code as Builder.Logits (lowered, BatchNorm folded);
// the Go stages do what the backend has no fast op for (direct.go,
// pointwise_direct.go):
//   - each depthwise convolution with its folded BatchNorm and activation, as
//     one pass (depthwiseDirect), where the lowered graph makes a window
//     copy, a multiply and an add over the map per kernel tap;
//   - where the AVX-512 kernels exist, each 1×1 convolution of 16 outputs
//     or more (folded BatchNorm, its activation), with the residual
//     addition that follows it, and the stem's product on its columns
//     (pointwiseDirect), which the backend runs 2-5x slower as FusedDense
//     and Add; and the fully connected layers of one image (fcDirect);
//   - each full convolution (the stem, the expansion of a fused inverted
//     bottleneck) whose product pointwiseDirect can run, as its im2col
//     columns (im2colDirect, with the input normalisation for the stem),
//     which the graph builds by copying runs of a few values, and their
//     product (convStage, staged_conv.go); where the stem's product cannot
//     be one, its columns alone, the product then a graph op.
//
// The logits are those of the one graph Builder.Logits builds, float for
// float but for the sign of a zero: the Go stages compute the same sums in
// the same order, or move the same values. What changes is the time.
//
// The depthwise weights and BatchNorm statistics are read from the store
// when the Staged is made: later changes to them are not seen.
type Staged struct {
	be     compute.Backend
	stages []stage
	// lastUse[v] is the last stage that reads value v (value 0: the
	// images; value i+1: the output of the network's op i; value
	// len(ops)+1: the stem's columns).
	lastUse  []int
	out      int // the logits' value
	goStages int
	// spare holds the Go stages' output tensors of finished runs, written
	// again by the next run (fresh ones would be allocated and zeroed by
	// Go on every run).
	spare chan []*tensors.Tensor
}

// A graph segment gets the values it reads and returns those read later; a
// value it reads for the last time is donated, so the backend reuses its
// buffer (in place, or through its pool). recycle are the inputs of the Go
// stages since the previous segment that are dead after them: passed as
// extra, unused and donated parameters, their buffers too return to the
// backend's pool (Finalize would drop them: without this a run allocated and
// zeroed ~30 MB, 14% of its CPU time).
type stage struct {
	exec      *model.Exec // a graph segment; nil for a Go stage
	ins, outs []int
	recycle   []int
	dw        *directDW  // a depthwise stage
	pw        *directPW  // a 1×1 stage: ins[0] its input, ins[1] the residual if any
	conv      *convStage // a full convolution: ins as pw's
	fc        *directFC  // a fully connected layer: in Go for one image, else exec
	cols      *stemStage // the stem's columns, where its product is a graph op
	goIndex   int        // a Go stage's index among them
}

// directDW is a depthwise convolution with folded BatchNorm for
// depthwiseDirect.
type directDW struct {
	k, stride int
	w, bias   []float32
	act       dwActivation
}

// stemStage makes the columns of the stem convolution (im2colDirect).
type stemStage struct {
	k, stride, channels int
	norm                *InputNorm
	scratch             sync.Pool // *[]float32: the normalised images
}

// netOp is an op of the whole network: plan is the scope (under the model
// scope) of the plan it belongs to ("" for the stem and the head,
// BlockScope(i) for block i), ins the network values it reads. onColumns
// marks a convolution whose input (ins[0]) is its im2col columns with every
// tap, of a map of the given channels.
type netOp struct {
	plan      string
	op        blocks.PlanOp
	ins       []int
	onColumns int
}

// networkOps lists the ops of the network arch in the order Builder.Logits
// builds them (stem, blocks, head), op i producing value i+1.
func networkOps(a *blocks.Arch) []netOp {
	var ops []netOp
	add := func(plan string, p blocks.Plan) { ops = appendPlan(ops, plan, p) }
	out := func(p blocks.Plan) int { return p.Ops[len(p.Ops)-1].Out }
	p := StemPlan(a.Stem, a.Channels)
	add("", p)
	c := out(p)
	for i, b := range a.Blocks {
		p = b.Plan(c)
		add(BlockScope(i), p)
		c = out(p)
	}
	add("", a.Head.Plan(c, a.Classes))
	return ops
}

// appendPlan appends the ops of plan p (scope plan) to ops: p reads the
// last op's value (value 0, the input, when ops is empty).
func appendPlan(ops []netOp, plan string, p blocks.Plan) []netOp {
	input := len(ops) // the value the plan reads: the previous plan's output
	base := len(ops) + 1
	for _, op := range p.Ops {
		ins := make([]int, len(op.Inputs))
		for j, v := range op.Inputs {
			if v == blocks.PlanInput {
				ins[j] = input
			} else {
				ins[j] = base + v
			}
		}
		ops = append(ops, netOp{plan: plan, op: op, ins: ins})
	}
	return ops
}

// StemPlan is the plan of the stem block on images of the given channels,
// its op named blocks.OpNameStem.
func StemPlan(b blocks.Block, channels int) blocks.Plan {
	p := b.Plan(channels)
	p.Ops[0].Name = blocks.OpNameStem
	return p
}

// ErrNothingToStage is NewStaged's error for a network without a depthwise
// or full convolution to run in Go: its one graph is then about as fast,
// and train.Inference runs that.
var ErrNothingToStage = errors.New("no depthwise or full convolution to stage")

// NewStaged makes the Staged inference network of the Builder's
// architecture on the Go backend be, with the variables of store under
// store.RootScope().In(modelScope) (as given to Logits). norm, if not nil,
// normalises the images first (InputNorm.Graph in the one graph). It fails
// when the network has neither a depthwise nor a full convolution that runs
// in Go (ErrNothingToStage), when be is not the pure-Go backend or the Builder
// does not lower convolutions there, and when a layer's variables are
// missing or fold to non-finite values.
func (b *Builder) NewStaged(be compute.Backend, store *model.Store, modelScope string, norm *InputNorm) (*Staged, error) {
	if b.err != nil {
		return nil, b.err
	}
	if !backend.IsGo(be) || !b.OpsFor(be).Lowered {
		return nil, fmt.Errorf("convnet: staged inference runs the lowered ops on the pure-Go backend (backend %v)", be)
	}
	if store == nil {
		return nil, fmt.Errorf("convnet: staged inference needs the model's variables (store is nil)")
	}
	if norm != nil {
		if err := norm.check(b.arch.Channels); err != nil {
			return nil, err
		}
	}
	n := &Net{ops: Ops{Lowered: true, Layout: NHWC}, momentum: b.bnMomentum, epsilon: b.bnEpsilon}
	s, heavy, err := n.newStagedCaught(be, store, modelScope, norm, networkOps(b.arch))
	if err != nil {
		return nil, err
	}
	if heavy == 0 {
		s.Finalize()
		return nil, fmt.Errorf("convnet: %s: %w", b.arch.Name, ErrNothingToStage)
	}
	return s, nil
}

// NewStaged makes the Staged form of the graph n.Plan(scope, x, p) builds
// with the variables of store under store.RootScope().In(scope): one part
// of a network on its own (the stem, with StemPlan; a block; the head), as
// hwcost/measure times them. Its Logits returns the part's output. It
// fails when be is not the pure-Go backend or n's ops are not lowered, and
// when a layer's variables are missing or fold to non-finite values.
func (n *Net) NewStaged(be compute.Backend, store *model.Store, scope string, p blocks.Plan) (*Staged, error) {
	if !backend.IsGo(be) || !n.ops.Lowered {
		return nil, fmt.Errorf("convnet: staged inference runs the lowered ops on the pure-Go backend (backend %v)", be)
	}
	if store == nil {
		return nil, fmt.Errorf("convnet: staged inference needs the model's variables (store is nil)")
	}
	if len(p.Ops) == 0 {
		return nil, fmt.Errorf("convnet: staged inference of an empty plan")
	}
	nhwc := &Net{ops: Ops{Lowered: true, Layout: NHWC}, momentum: n.momentum, epsilon: n.epsilon}
	s, _, err := nhwc.newStagedCaught(be, store, scope, nil, appendPlan(nil, "", p))
	return s, err
}

// newStagedCaught is newStaged with a panic of gomlx (which reports errors
// by panicking) returned as an error: nothing panics across NewStaged.
func (n *Net) newStagedCaught(be compute.Backend, store *model.Store, modelScope string, norm *InputNorm, ops []netOp) (s *Staged, heavy int, err error) {
	if e := exceptions.TryCatch[error](func() { s, heavy, err = n.newStaged(be, store, modelScope, norm, ops) }); e != nil {
		return nil, 0, fmt.Errorf("convnet: staged inference: %w", e)
	}
	return s, heavy, err
}

// newStaged makes the Staged pipeline of ops (value 0 their input, images
// that norm, if not nil, normalises) with the variables under modelScope,
// and returns how many of its Go stages are depthwise or full convolutions.
func (n *Net) newStaged(be compute.Backend, store *model.Store, modelScope string, norm *InputNorm, ops []netOp) (*Staged, int, error) {
	root := scopePath(store.RootScope(), modelScope, (*model.Scope).At)
	// Graph segments would create missing variables: check them all first.
	if err := checkVariables(root, ops, n.epsilon); err != nil {
		return nil, 0, err
	}
	colsValue := len(ops) + 1
	s := &Staged{be: be, lastUse: make([]int, colsValue+1), out: len(ops)}
	graphNorm := norm // applied by the first graph segment, unless a Go stage does
	if st := ops[0].op; fullConv(st) && !goConv(ops[0]) && ops[0].ins[0] == 0 && st.Name == blocks.OpNameStem {
		s.stages = append(s.stages, stage{ins: []int{0}, outs: []int{colsValue},
			cols: &stemStage{k: st.Kernel, stride: st.Stride, channels: st.In, norm: norm}})
		ops[0].ins[0], ops[0].onColumns, graphNorm = colsValue, st.In, nil
	}
	var seg []int // ops of the current graph segment
	flush := func() error {
		if len(seg) == 0 {
			return nil
		}
		st, err := n.segment(be, store, modelScope, graphNorm, ops, seg)
		s.stages, seg = append(s.stages, st), nil
		return err
	}
	ndw, nconv := 0, 0
	for i := 0; i < len(ops); i++ {
		op := ops[i]
		var st stage
		switch {
		case goConv(op):
			o := op.op
			w, bias, err := foldedLayer(root, op, o.Kernel*o.Kernel*o.In*o.Out, n.epsilon)
			if err != nil {
				return nil, 0, err
			}
			var in *InputNorm
			if op.ins[0] == 0 { // the stem: no graph reads the images
				in, graphNorm = norm, nil
			}
			conv, err := newConvStage(op, w, bias, in)
			if err != nil {
				return nil, 0, err
			}
			st = stage{ins: []int{op.ins[0]}, outs: []int{i + 1}, conv: conv}
			nconv++
		case op.ins[0] == 0 && graphNorm != nil: // The images are read by a graph (graphNorm).
		case op.op.Op == blocks.OpDW:
			dw, err := foldedDW(root, op, n.epsilon)
			if err != nil {
				return nil, 0, err
			}
			st = stage{ins: []int{op.ins[0]}, outs: []int{i + 1}, dw: dw}
			ndw++
		case goDense(op.op):
			if err := flush(); err != nil {
				return nil, 0, err
			}
			fc, err := denseLayer(root, op)
			if err != nil {
				return nil, 0, err
			}
			seg = []int{i}
			if err := flush(); err != nil { // its graph, for batches of several images
				return nil, 0, err
			}
			s.stages[len(s.stages)-1].fc = fc
			continue
		case denseIn(op) > 0:
			pw, err := foldedPW(root, op, denseIn(op), n.epsilon)
			if err != nil {
				return nil, 0, err
			}
			st = stage{ins: []int{op.ins[0]}, outs: []int{i + 1}, pw: pw}
		}
		if st.dw == nil && st.pw == nil && st.conv == nil {
			seg = append(seg, i)
			continue
		}
		if r := residualOf(ops, i); r >= 0 && st.dw == nil {
			st.ins, st.outs = append(st.ins, r), []int{i + 2}
			i++
		}
		if err := flush(); err != nil {
			return nil, 0, err
		}
		s.stages = append(s.stages, st)
	}
	if err := flush(); err != nil {
		return nil, 0, err
	}
	s.link()
	return s, ndw + nconv, nil
}

// link numbers the Go stages' kept outputs, records the last stage to read
// each value, and which inputs of Go stages the next graph segment recycles.
func (s *Staged) link() {
	for si := range s.stages {
		st := &s.stages[si]
		if st.exec == nil || st.fc != nil {
			st.goIndex = s.goStages
			s.goStages++
		}
		for _, v := range st.ins {
			s.lastUse[v] = si
		}
	}
	// A Go stage's input read by no later stage is recycled by the next
	// segment (none after the last segment: finalized), if a graph segment
	// made it: the images are the caller's, Go stages keep their outputs.
	fromGraph := map[int]bool{}
	for _, st := range s.stages {
		for _, v := range st.outs {
			fromGraph[v] = st.exec != nil
		}
	}
	for si, st := range s.stages {
		if st.exec != nil {
			continue
		}
		for _, v := range st.ins {
			if !fromGraph[v] || s.lastUse[v] != si {
				continue
			}
			for sj := si + 1; sj < len(s.stages); sj++ {
				if s.stages[sj].exec != nil {
					s.stages[sj].recycle = append(s.stages[sj].recycle, v)
					break
				}
			}
		}
	}
	s.lastUse[s.out] = len(s.stages) // the result outlives the pipeline
	s.spare = make(chan []*tensors.Tensor, 2)
}

// segment is the graph stage running the network ops seg (indices into
// ops, in order): it takes the values they read from earlier stages and
// returns those that later ops read (and the logits if it ends the
// network); norm, if not nil, normalises the images (value 0).
func (n *Net) segment(be compute.Backend, store *model.Store, modelScope string, norm *InputNorm, ops []netOp, seg []int) (stage, error) {
	defined := map[int]bool{}
	var st stage
	for _, i := range seg {
		for _, v := range ops[i].ins {
			if !defined[v] && !slices.Contains(st.ins, v) {
				st.ins = append(st.ins, v)
			}
		}
		defined[i+1] = true
	}
	last := seg[len(seg)-1]
	for _, i := range seg {
		v := i + 1
		used := v == len(ops)
		for _, later := range ops[last+1:] {
			used = used || slices.Contains(later.ins, v)
		}
		if used {
			st.outs = append(st.outs, v)
		}
	}
	var err error
	st.exec, err = model.NewExec(be, store, func(scope *model.Scope, ins []*Node) []*Node {
		// ins: the values st.ins, then the recycled buffers (unused).
		root := scopePath(scope, modelScope, (*model.Scope).In)
		vals := map[int]*Node{}
		for j, v := range st.ins {
			x := ins[j]
			if v == 0 {
				if norm != nil {
					x = norm.Graph(x)
				}
				x = n.ops.In(x)
			}
			vals[v] = x
		}
		subs := map[string]func(string) *model.Scope{}
		plans := map[string]*model.Scope{}
		for _, i := range seg {
			op := ops[i]
			ps, ok := plans[op.plan]
			if !ok {
				ps = root
				if op.plan != "" {
					ps = root.In("%s", op.plan)
				}
				plans[op.plan], subs[op.plan] = ps, subScopes(ps)
			}
			in := make([]*Node, len(op.ins))
			for j, v := range op.ins {
				in[j] = vals[v]
			}
			if op.onColumns > 0 {
				vals[i+1] = n.convOnColumns(subs[op.plan](op.op.Name), in[0], op.op, op.onColumns)
			} else {
				vals[i+1] = n.op(ps, subs[op.plan](op.op.Name), op.op, in)
			}
		}
		outs := make([]*Node, len(st.outs))
		for j, v := range st.outs {
			outs[j] = vals[v]
		}
		return outs
	})
	return st, err
}

// foldedDW reads the depthwise layer op's weights and BatchNorm statistics
// under root and folds them (FoldBatchNorm, as the graph does).
func foldedDW(root *model.Scope, op netOp, epsilon float64) (*directDW, error) {
	k := op.op.Kernel
	w, bias, err := foldedLayer(root, op, k*k*op.op.Out, epsilon)
	if err != nil {
		return nil, err
	}
	act, err := dwActivationOf(op.op.Act)
	if err != nil {
		return nil, err
	}
	return &directDW{k: k, stride: op.op.Stride, w: w, bias: bias, act: act}, nil
}

// foldedPW is foldedDW for a 1×1 convolution, or a k×k one on its columns:
// weights [in, out] (in = k·k·channels, taps then channels, as the columns).
func foldedPW(root *model.Scope, op netOp, in int, epsilon float64) (*directPW, error) {
	w, bias, err := foldedLayer(root, op, in*op.op.Out, epsilon)
	if err != nil {
		return nil, err
	}
	return newDirectPW(w, bias, in, op.op.Out, op.op.Act)
}

// denseLayer reads the fully connected layer op's weights and biases under
// root.
func denseLayer(root *model.Scope, op netOp) (*directFC, error) {
	s := layerScope(root, op)
	w, err := readVariable(s, VarWeights, op.op.In*op.op.Out)
	if err != nil {
		return nil, err
	}
	bias, err := readVariable(s, VarBiases, op.op.Out)
	if err != nil {
		return nil, err
	}
	return newDirectFC(w, bias, op.op.In, op.op.Out, op.op.Act)
}

// foldedLayer reads the weights (size values) and BatchNorm statistics of
// the layer op under root and folds them (FoldBatchNorm, as the graph does).
func foldedLayer(root *model.Scope, op netOp, size int, epsilon float64) (w, bias []float32, err error) {
	s := layerScope(root, op)
	if w, err = readVariable(s, VarWeights, size); err != nil {
		return nil, nil, err
	}
	c := op.op.Out
	var bn [4][]float32
	for i, name := range []string{BNGamma, BNBeta, BNMovingMean, BNMovingVariance} {
		if bn[i], err = readVariable(s.At(ScopeBN), name, c); err != nil {
			return nil, nil, err
		}
	}
	if w, bias, err = FoldBatchNorm(w, bn[0], bn[1], bn[2], bn[3], epsilon); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", s.Scope(), err)
	}
	return w, bias, nil
}

// CheckVariables checks the variables of the Builder's network in store
// (under store.RootScope().In(modelScope)) for inference: every layer's
// weights (opVariables) are there with their sizes, and its BatchNorm
// statistics fold to a finite scale and shift. A graph would create a
// missing variable at random and turn bad statistics into NaN logits,
// without an error. NewStaged makes the same check before anything else,
// in every build (also when it then finds nothing to stage).
func (b *Builder) CheckVariables(store *model.Store, modelScope string) error {
	if b.err != nil {
		return b.err
	}
	if store == nil {
		return fmt.Errorf("convnet: checking the variables: store is nil")
	}
	return checkVariables(scopePath(store.RootScope(), modelScope, (*model.Scope).At), networkOps(b.arch), b.bnEpsilon)
}

// checkVariables checks the variables of ops under root (opVariables).
func checkVariables(root *model.Scope, ops []netOp, epsilon float64) error {
	for _, op := range ops {
		if err := opVariables(root, op, epsilon); err != nil {
			return err
		}
	}
	return nil
}

// opVariables checks the variables of op under root: the weights of a
// convolution or fully connected layer (and the latter's biases), one value
// each of its shape, and, where BatchNorm follows, its four statistics, one
// per output channel, folding to a finite scale and shift (bnScaleShift).
func opVariables(root *model.Scope, op netOp, epsilon float64) error {
	s, o := layerScope(root, op), op.op
	var size int
	switch o.Op {
	case blocks.OpConv, blocks.OpFused, blocks.OpPW:
		size = o.Kernel * o.Kernel * o.In * o.Out
	case blocks.OpDW:
		size = o.Kernel * o.Kernel * o.Out
	case blocks.OpFC:
		size = o.In * o.Out
		if _, err := readVariable(s, VarBiases, o.Out); err != nil {
			return err
		}
	default:
		return nil
	}
	if _, err := readVariable(s, VarWeights, size); err != nil {
		return err
	}
	if !o.Norm {
		return nil
	}
	var bn [4][]float32
	for i, name := range []string{BNGamma, BNBeta, BNMovingMean, BNMovingVariance} {
		var err error
		if bn[i], err = readVariable(s.At(ScopeBN), name, o.Out); err != nil {
			return err
		}
	}
	if _, _, err := bnScaleShift(bn[0], bn[1], bn[2], bn[3], epsilon); err != nil {
		return fmt.Errorf("%s: BatchNorm statistics: %w", s.Scope(), err)
	}
	return nil
}

// scopePath returns the scope path (names separated by "/") under s, each
// step taken by sub (Scope.At to read, Scope.In to build).
func scopePath(s *model.Scope, path string, sub func(*model.Scope, string, ...any) *model.Scope) *model.Scope {
	for _, name := range strings.Split(path, "/") {
		if name != "" {
			s = sub(s, "%s", name)
		}
	}
	return s
}

// layerScope is the scope of op's variables under root (At, not In:
// reading, scopes may be visited again).
func layerScope(root *model.Scope, op netOp) *model.Scope {
	s := root
	if op.plan != "" {
		s = s.At("%s", op.plan)
	}
	for _, name := range strings.Split(op.op.Name, ".") {
		s = s.At("%s", name)
	}
	return s
}

// readVariable returns the values of variable name of scope s, which must
// hold size of them.
func readVariable(s *model.Scope, name string, size int) ([]float32, error) {
	v := s.GetVariable(name)
	if v == nil {
		return nil, fmt.Errorf("convnet: no variable %s/%s", s.Scope(), name)
	}
	t, err := v.Value()
	if err != nil {
		return nil, err
	}
	vals, err := tensors.CopyFlatData[float32](t)
	if err != nil {
		return nil, err
	}
	if len(vals) != size {
		return nil, fmt.Errorf("convnet: variable %s/%s holds %d values, want %d", s.Scope(), name, len(vals), size)
	}
	return vals, nil
}

// denseIn returns the inputs per pixel of op if it runs as a Go 1×1 stage,
// else 0: where the kernel exists, for a stride-1 ungrouped 1×1
// convolution, or a k×k one on its im2col columns (the stem: k·k·channels
// inputs), with BatchNorm, no bias and 16 outputs or more (the backend's
// small-matrix path transposes products of fewer, an order pointwiseDirect
// does not repeat).
func denseIn(op netOp) int {
	in := op.op.In
	switch {
	case pointwiseDirect == nil || op.op.Groups != 1 || !op.op.Norm || op.op.Bias || op.op.Out < 16:
		return 0
	case op.onColumns > 0:
		in = op.op.Kernel * op.op.Kernel * op.onColumns
	case op.op.Op != blocks.OpPW || op.op.Kernel != 1 || op.op.Stride != 1:
		return 0
	}
	if _, err := dwActivationOf(op.op.Act); err != nil {
		return 0
	}
	return in
}

// fullConv reports whether op is a full (ungrouped) k×k convolution, k > 1.
func fullConv(op blocks.PlanOp) bool {
	return (op.Op == blocks.OpConv || op.Op == blocks.OpFused) && op.Kernel > 1 && op.Groups == 1
}

// goConv reports whether op is a full convolution that runs as a Go stage
// (convStage): its product on the columns is one pointwiseDirect can run.
func goConv(op netOp) bool {
	if !fullConv(op.op) || op.onColumns > 0 {
		return false
	}
	op.onColumns = op.op.In
	return denseIn(op) > 0
}

// goDense reports whether a fully connected layer runs in Go for one image:
// the kernel exists, it has a bias and an activation fcDirect applies, and
// its product is on the backend's small-matrix path, whose order fcDirect
// repeats.
func goDense(op blocks.PlanOp) bool {
	return fcDirect != nil && op.Op == blocks.OpFC && op.Bias && (op.Act == "" || op.Act == blocks.ReLU) && op.In*op.Out < pwLargeMin
}

// residualOf returns the other input of the residual addition that follows
// op i and is the only reader of its output (a two-input add with no
// activation: it joins the 1×1 stage), or -1.
func residualOf(ops []netOp, i int) int {
	if i+1 >= len(ops) {
		return -1
	}
	add := ops[i+1]
	if add.op.Op != blocks.OpAdd || add.op.Act != "" || len(add.ins) != 2 {
		return -1
	}
	for j, later := range ops[i+1:] {
		for _, v := range later.ins {
			if v == i+1 && j > 0 {
				return -1 // read again later
			}
		}
	}
	switch i + 1 {
	case add.ins[0]:
		if add.ins[1] != i+1 {
			return add.ins[1]
		}
	case add.ins[1]:
		return add.ins[0]
	}
	return -1
}

// Logits runs the network on images (NHWC [batch, H, W, C]) and returns the
// logits [batch, classes]. The caller keeps ownership of images. Safe for
// concurrent use.
func (s *Staged) Logits(images *tensors.Tensor) (logits *tensors.Tensor, err error) {
	vals := make([]*tensors.Tensor, len(s.lastUse))
	vals[0] = images
	var goOut []*tensors.Tensor
	select {
	case goOut = <-s.spare:
	default:
		goOut = make([]*tensors.Tensor, s.goStages)
	}
	isGoOut := func(t *tensors.Tensor) bool { return slices.Contains(goOut, t) }
	defer func() {
		for v, t := range vals {
			if v != 0 && t != nil && t != logits && !isGoOut(t) {
				_ = t.FinalizeAll()
			}
		}
		select {
		case s.spare <- goOut:
		default:
			finalizeAll(goOut)
		}
	}()
	err = exceptions.TryCatch[error](func() {
		for si, st := range s.stages {
			var y *tensors.Tensor // a Go stage's output
			x := vals[st.ins[0]]
			switch {
			case st.dw != nil:
				y = s.depthwise(st.dw, x, goOut[st.goIndex])
			case st.cols != nil:
				y = s.columns(st.cols, x, goOut[st.goIndex])
			case st.pw != nil || st.conv != nil:
				var res *tensors.Tensor
				if len(st.ins) > 1 {
					res = vals[st.ins[1]]
				}
				if st.pw != nil {
					y = s.pointwise(st.pw, x, res, goOut[st.goIndex])
				} else {
					y = s.conv(st.conv, x, res, goOut[st.goIndex])
				}
			case st.fc != nil && x.Shape().Dimensions[0] == 1: // else its graph
				y = s.dense(st.fc, x, goOut[st.goIndex])
			}
			if y != nil {
				vals[st.outs[0]], goOut[st.goIndex] = y, y
				if st.outs[0] == s.out {
					goOut[st.goIndex] = nil // the caller's: not written again by the next run
				}
				continue
			}
			args := make([]any, 0, len(st.ins)+len(st.recycle))
			donate := func(v int) {
				d, err := DonateTensorBuffer(vals[v], s.be, 0)
				if err != nil {
					panic(err)
				}
				args, vals[v] = append(args, d), nil
			}
			for _, v := range st.ins {
				if v != 0 && s.lastUse[v] == si && !isGoOut(vals[v]) {
					donate(v)
				} else {
					args = append(args, vals[v])
				}
			}
			for _, v := range st.recycle {
				donate(v)
			}
			outs, err := st.exec.Exec(args...)
			if err != nil {
				panic(err)
			}
			for j, v := range st.outs {
				vals[v] = outs[j]
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("convnet: staged inference: %w", err)
	}
	return vals[s.out], nil
}

func finalizeAll(ts []*tensors.Tensor) {
	for _, t := range ts {
		if t != nil {
			_ = t.FinalizeAll()
		}
	}
}

// Finalize frees the graph segments' executors and the kept tensors.
func (s *Staged) Finalize() {
	for _, st := range s.stages {
		if st.exec != nil {
			st.exec.Finalize()
		}
	}
	for {
		select {
		case ts := <-s.spare:
			finalizeAll(ts)
		default:
			return
		}
	}
}

// output returns y when it has the given shape, else (finalizing y) a new
// tensor of the backend: a buffer the next graph segment reads without a
// copy.
func (s *Staged) output(y *tensors.Tensor, dims ...int) *tensors.Tensor {
	shape := shapes.Make(dtypes.Float32, dims...)
	if y != nil && y.Shape().Equal(shape) {
		return y
	}
	if y != nil {
		_ = y.FinalizeAll()
	}
	y, err := tensors.FromShapeForBackend(s.be, 0, shape)
	if err != nil {
		panic(err)
	}
	return y
}

// depthwise runs a depthwise stage on x into y (see output).
func (s *Staged) depthwise(dw *directDW, x, y *tensors.Tensor) *tensors.Tensor {
	d := x.Shape().Dimensions
	if x.Rank() != 4 || x.DType() != dtypes.Float32 || d[3]*dw.k*dw.k != len(dw.w) {
		exceptions.Panicf("depthwise stage: input %s for a %dx%d kernel of %d channels", x.Shape(), dw.k, dw.k, len(dw.bias))
	}
	_, _, oh := SamePadding(d[1], dw.k, dw.stride)
	_, _, ow := SamePadding(d[2], dw.k, dw.stride)
	y = s.output(y, d[0], oh, ow, d[3])
	tensors.MustConstFlatData(x, func(in []float32) {
		tensors.MustMutableFlatData(y, func(out []float32) {
			depthwiseDirect(in, d[0], d[1], d[2], d[3], dw.w, dw.k, dw.stride, dw.bias, dw.act, out)
		})
	})
	return y
}

// pointwise runs a 1×1 stage on x, adding res when it is not nil, into y
// (see output).
func (s *Staged) pointwise(pw *directPW, x, res, y *tensors.Tensor) *tensors.Tensor {
	d := x.Shape().Dimensions
	if x.Rank() != 4 || x.DType() != dtypes.Float32 || d[3] != pw.in {
		exceptions.Panicf("1×1 stage: input %s for %d→%d channels", x.Shape(), pw.in, pw.out)
	}
	m := d[0] * d[1] * d[2]
	y = s.output(y, d[0], d[1], d[2], pw.out)
	if res != nil && !res.Shape().Equal(y.Shape()) {
		exceptions.Panicf("1×1 stage: residual %s for an output %s", res.Shape(), y.Shape())
	}
	tensors.MustConstFlatData(x, func(in []float32) {
		tensors.MustMutableFlatData(y, func(out []float32) {
			switch res {
			case nil:
				pointwiseDirect(pw, in, m, nil, out)
			case x: // a block adding its input to a 1×1 convolution of it: one lock
				pointwiseDirect(pw, in, m, in, out)
			default:
				tensors.MustConstFlatData(res, func(r []float32) { pointwiseDirect(pw, in, m, r, out) })
			}
		})
	})
	return y
}

// dense runs a fully connected stage on one image x [1, in] into y (see
// output).
func (s *Staged) dense(fc *directFC, x, y *tensors.Tensor) *tensors.Tensor {
	if d := x.Shape().Dimensions; x.Rank() != 2 || x.DType() != dtypes.Float32 || d[0] != 1 || d[1] != fc.in {
		exceptions.Panicf("fully connected stage: input %s for one image of %d features", x.Shape(), fc.in)
	}
	y = s.output(y, 1, fc.out)
	tensors.MustConstFlatData(x, func(in []float32) {
		tensors.MustMutableFlatData(y, func(out []float32) { fcDirect(fc, in, out) })
	})
	return y
}

// columns runs the stem's columns stage on the images x into y (see
// output).
func (s *Staged) columns(st *stemStage, x, y *tensors.Tensor) *tensors.Tensor {
	d := x.Shape().Dimensions
	if x.Rank() != 4 || x.DType() != dtypes.Float32 || d[3] != st.channels {
		exceptions.Panicf("images must be float32 [batch, height, width, %d], got %s", st.channels, x.Shape())
	}
	_, _, oh := SamePadding(d[1], st.k, st.stride)
	_, _, ow := SamePadding(d[2], st.k, st.stride)
	y = s.output(y, d[0], oh, ow, st.k*st.k*d[3])
	var normed []float32 // im2colDirect's scratch for the normalised images
	if st.norm != nil {
		b := buffer(&st.scratch, x.Size())
		defer st.scratch.Put(b)
		normed = *b
	}
	tensors.MustConstFlatData(x, func(in []float32) {
		tensors.MustMutableFlatData(y, func(out []float32) {
			im2colDirect(in, d[0], d[1], d[2], d[3], st.k, st.stride, st.norm, out, normed)
		})
	})
	return y
}
