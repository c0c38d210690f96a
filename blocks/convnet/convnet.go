package convnet

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/support/exceptions"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
)

// Builder builds the gomlx graph of a blocks.Arch. Create it with New, configure
// it with its methods (each returns the Builder), then call Logits (inside a
// model function) or Build.
type Builder struct {
	arch       *blocks.Arch
	err        error
	lowered    *bool
	bnMomentum float64
	bnEpsilon  float64
}

// Default BatchNorm settings (TF/Keras MobileNet values).
const (
	DefaultBatchNormMomentum = 0.99
	DefaultBatchNormEpsilon  = 1e-3
)

// New returns a Builder for arch. An invalid arch is reported by Err and by
// Build (Logits panics with it), never by New.
func New(arch *blocks.Arch) *Builder {
	b := &Builder{bnMomentum: DefaultBatchNormMomentum, bnEpsilon: DefaultBatchNormEpsilon}
	if err := arch.Validate(); err != nil {
		b.err = fmt.Errorf("convnet: %w", err)
		return b
	}
	b.arch = arch.Clone()
	return b
}

// Lowered forces the lowered ops (true: MatMuls and shifted slices) or the
// native ones (false: graph.Convolve). By default the choice follows the
// backend: lowered on the pure-Go backend and ONNX Runtime, native elsewhere
// (XLA). Both use the same variables.
func (b *Builder) Lowered(lowered bool) *Builder {
	b.lowered = &lowered
	return b
}

// BatchNormMomentum sets the momentum of the BatchNorm moving averages, in [0, 1).
func (b *Builder) BatchNormMomentum(m float64) *Builder {
	if b.err == nil && !(m >= 0 && m < 1) {
		b.err = fmt.Errorf("convnet: BatchNorm momentum must be in [0, 1), got %g", m)
	}
	b.bnMomentum = m
	return b
}

// BatchNormEpsilon sets the epsilon added to the variance, > 0.
func (b *Builder) BatchNormEpsilon(eps float64) *Builder {
	if b.err == nil && !(eps > 0) {
		b.err = fmt.Errorf("convnet: BatchNorm epsilon must be positive, got %g", eps)
	}
	b.bnEpsilon = eps
	return b
}

// Err returns the first configuration error (invalid architecture or option).
func (b *Builder) Err() error { return b.err }

// Arch returns (a copy of) the architecture being built.
func (b *Builder) Arch() *blocks.Arch {
	if b.arch == nil {
		return nil
	}
	return b.arch.Clone()
}

// OpsFor returns the ops the Builder uses on backend be, lowered or native.
// The lowered ops' layout is chosen per graph, by the batch size (see
// LayoutFor), when the images enter (Net.Stem).
func (b *Builder) OpsFor(be compute.Backend) Ops {
	if b.lowered != nil {
		return Ops{Lowered: *b.lowered}
	}
	return Ops{Lowered: DefaultLowered(be)}
}

// DefaultLowered reports whether the lowered ops are the better choice on be
// (backend.PrefersLoweredConvolutions).
func DefaultLowered(be compute.Backend) bool { return backend.PrefersLoweredConvolutions(be) }

// Build is Logits returning an error instead of panicking: invalid
// configuration, images of the wrong shape, or a failure inside gomlx.
func (b *Builder) Build(scope *model.Scope, images *Node) (logits *Node, err error) {
	if b.err != nil {
		return nil, b.err
	}
	err = exceptions.TryCatch[error](func() { logits = b.Logits(scope, images) })
	if err != nil {
		return nil, fmt.Errorf("convnet: building %q: %w", b.arch.Name, err)
	}
	return logits, nil
}

// Logits builds the network on images (NHWC float32 [batch, height, width,
// arch.Channels], any spatial size) under scope, and returns the logits
// [batch, arch.Classes]. It is a gomlx graph-building function: it panics on
// errors (Build returns them). Training vs inference follows
// scope.IsTraining(graph): BatchNorm uses batch statistics and updates its moving
// averages, and dropout is active, only in training.
//
// Variable scopes are stable and follow blocks.Analyze's layer names: stem,
// block_03/expand, block_03/dw, block_03/project, block_05/fused,
// block_07/start_dw, block_07/mid_dw, head/conv, head/hidden, classifier
// (ScopeOfLayer). A conv scope holds VarWeights and a ScopeBN sub-scope;
// fully connected ones VarWeights and VarBiases.
func (b *Builder) Logits(scope *model.Scope, images *Node) *Node {
	if b.err != nil {
		panic(b.err)
	}
	a := b.arch
	if images.Rank() != 4 || images.Shape().Dimensions[3] != a.Channels || images.DType() != dtypes.Float32 {
		exceptions.Panicf("images must be float32 [batch, height, width, %d], got %s", a.Channels, images.Shape())
	}
	n := b.NetFor(images.Graph().Backend())
	x := n.Stem(scope, images, a.Stem)
	for i, blk := range a.Blocks {
		x = n.Block(scope.In("%s", BlockScope(i)), x, blk)
	}
	return n.Head(scope, x, a.Head, a.Classes)
}

// Names of the variables in a layer's scope (ScopeOfLayer) and of its
// BatchNorm sub-scope (holding BNGamma, BNBeta, BNMovingMean,
// BNMovingVariance). Weight layouts: see Ops.
const (
	VarWeights = "weights"
	VarBiases  = "biases"
	ScopeBN    = "bn"
)

// BlockScope is the scope name of block i.
func BlockScope(i int) string { return fmt.Sprintf("block_%02d", i) }

// Net builds the parts of a network (stem, blocks, head) with one set of ops
// and BatchNorm settings. Builder.Logits chains them; tools that need one part
// alone (per-block latency measurement) call them directly, so every part is
// built by this code only.
type Net struct {
	ops               Ops
	autoLayout        bool // Stem sets the ops' layout for the batch size.
	momentum, epsilon float64
}

// NetFor returns the part builder the Builder uses on backend be: its Stem
// chooses the lowered ops' layout for the batch size (LayoutFor).
func (b *Builder) NetFor(be compute.Backend) *Net {
	return &Net{ops: b.OpsFor(be), autoLayout: true, momentum: b.bnMomentum, epsilon: b.bnEpsilon}
}

// NewNet returns a part builder with the given ops (their layout as given)
// and default BatchNorm settings.
func NewNet(ops Ops) *Net {
	return &Net{ops: ops, momentum: DefaultBatchNormMomentum, epsilon: DefaultBatchNormEpsilon}
}

// Stem builds the stem convolution b (kind conv) under scope.In("stem").
func (n *Net) Stem(scope *model.Scope, images *Node, b blocks.Block) *Node {
	if b.Kind != blocks.KindConv {
		exceptions.Panicf("stem must be of kind %q, got %q", blocks.KindConv, b.Kind)
	}
	if n.autoLayout {
		checkImage("Stem", images)
		n.ops = n.ops.ForBatch(images.Shape().Dimensions[0])
	}
	return n.Plan(scope, n.ops.In(images), StemPlan(b, images.Shape().Dimensions[3]))
}

// Head builds the head h and a classifier of the given width (h.Plan): the
// head conv under scope/head/conv, global average pooling, the hidden layer
// under scope/head/hidden, dropout (training only) and scope/classifier.
func (n *Net) Head(scope *model.Scope, x *Node, h blocks.Head, classes int) *Node {
	return n.Plan(scope, x, h.Plan(n.ops.Channels(x), classes))
}

// Block builds one blocks.Block (its plan, blocks.Block.Plan) under scope
// (Builder uses scope.In(BlockScope(i)) for block i).
func (n *Net) Block(scope *model.Scope, x *Node, b blocks.Block) *Node {
	return n.Plan(scope, x, b.Plan(n.ops.Channels(x)))
}

// Plan builds the ops of plan p on x, each under the scope its name gives
// (ScopeOfLayer: "expand" → scope/expand, "head.conv" → scope/head/conv), and
// returns the last op's output. Convolutions are followed by BatchNorm and
// their activation; fully connected layers have a bias; OpAdd sums its inputs.
func (n *Net) Plan(scope *model.Scope, x *Node, p blocks.Plan) *Node {
	if n.ops.Channels(x) != p.In {
		exceptions.Panicf("plan for %d input channels applied to %s", p.In, x.Shape())
	}
	vals := make([]*Node, len(p.Ops))
	sub := subScopes(scope)
	for i, op := range p.Ops {
		ins := make([]*Node, len(op.Inputs))
		for j, v := range op.Inputs {
			if v == blocks.PlanInput {
				ins[j] = x
			} else {
				ins[j] = vals[v]
			}
		}
		vals[i] = n.op(scope, sub(op.Name), op, ins)
	}
	return vals[len(vals)-1]
}

// subScopes returns the scope of each op of a plan under the plan's scope,
// by the op's name ("head.conv" → scope/head/conv). gomlx lets a graph
// enter each sub-scope once: "head.conv" and "head.hidden" share the one
// "head" scope.
func subScopes(scope *model.Scope) func(name string) *model.Scope {
	scopes := map[string]*model.Scope{"": scope}
	var sub func(name string) *model.Scope
	sub = func(name string) *model.Scope {
		if s, ok := scopes[name]; ok {
			return s
		}
		parent, leaf := "", name
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			parent, leaf = name[:i], name[i+1:]
		}
		s := sub(parent).In("%s", leaf)
		scopes[name] = s
		return s
	}
	return sub
}

// op builds one op of a plan on its inputs (values of op.Inputs): scope is
// the plan's, s the op's own (subScopes).
func (n *Net) op(scope, s *model.Scope, op blocks.PlanOp, ins []*Node) *Node {
	in := ins[0]
	switch op.Op {
	case blocks.OpConv, blocks.OpFused, blocks.OpPW:
		if op.Groups != 1 || !op.Norm {
			exceptions.Panicf("op %s: only ungrouped convolutions followed by BatchNorm are built (groups %d, norm %v)", op.Name, op.Groups, op.Norm)
		}
		return n.conv(s, in, op.Kernel, op.Stride, op.Out, op.Act)
	case blocks.OpDW:
		return n.depthwise(s, in, op.Kernel, op.Stride, op.Act)
	case blocks.OpAdd:
		sum := in
		for _, v := range ins[1:] {
			sum = Add(sum, v)
		}
		return Activate(sum, op.Act)
	case blocks.OpPool:
		if op.Kernel != 0 {
			exceptions.Panicf("op %s: only global pooling is built", op.Name)
		}
		return n.ops.Pool(in)
	case blocks.OpFC:
		if op.Dropout > 0 {
			in = layers.DropoutStatic(scope, in, op.Dropout)
		}
		gain := 1.0
		if op.Act != "" {
			gain = 2
		}
		return Activate(n.dense(s, in, op.Out, gain), op.Act)
	}
	exceptions.Panicf("op %s: unknown primitive %q", op.Name, op.Op)
	return nil
}

// conv is a k×k (or 1×1) convolution + BatchNorm + activation ("" = linear).
func (n *Net) conv(scope *model.Scope, x *Node, k, stride, out int, act blocks.Activation) *Node {
	in := n.ops.Channels(x)
	var y *Node
	if k == 1 {
		w := weights(scope, x.Graph(), shapes.Make(x.DType(), in, out), in, act != "")
		y = n.ops.Pointwise(x, w, stride)
	} else {
		w := weights(scope, x.Graph(), shapes.Make(x.DType(), k, k, in, out), k*k*in, act != "")
		y = n.ops.Conv(x, w, stride)
	}
	return n.ops.BatchNormAct(scope.In(ScopeBN), y, n.momentum, n.epsilon, act)
}

// convOnColumns is the convolution op (as Net.conv builds it, with the same
// variables) on cols, the im2col columns of its input of the given channels
// with every kernel tap (Staged computes them in Go).
func (n *Net) convOnColumns(scope *model.Scope, cols *Node, op blocks.PlanOp, in int) *Node {
	if op.Groups != 1 || !op.Norm {
		exceptions.Panicf("op %s: only ungrouped convolutions followed by BatchNorm are built (groups %d, norm %v)", op.Name, op.Groups, op.Norm)
	}
	k := op.Kernel
	w := weights(scope, cols.Graph(), shapes.Make(cols.DType(), k, k, in, op.Out), k*k*in, op.Act != "")
	used := make([][2]int, 0, k*k)
	for dy := range k {
		for dx := range k {
			used = append(used, [2]int{dy, dx})
		}
	}
	y := n.ops.convOnColumns(cols, w, used)
	return n.ops.BatchNormAct(scope.In(ScopeBN), y, n.momentum, n.epsilon, op.Act)
}

// depthwise is a k×k depthwise convolution + BatchNorm + activation.
func (n *Net) depthwise(scope *model.Scope, x *Node, k, stride int, act blocks.Activation) *Node {
	c := n.ops.Channels(x)
	w := weights(scope, x.Graph(), shapes.Make(x.DType(), k, k, c), k*k, act != "")
	y := n.ops.Depthwise(x, w, stride)
	return n.ops.BatchNormAct(scope.In(ScopeBN), y, n.momentum, n.epsilon, act)
}

// dense is a fully connected layer with bias on x [batch, features].
func (n *Net) dense(scope *model.Scope, x *Node, out int, gain float64) *Node {
	in := x.Shape().Dimensions[1]
	wv := scope.WithInitializer(varianceScaling(scope.Store(), in, gain)).VariableWithShape(VarWeights, shapes.Make(x.DType(), in, out))
	w := wv.NodeValue(x.Graph())
	noteVariable(w, wv) // For inference with constant weights (Ops.Dense).
	bias := scope.WithInitializer(initializer.Zero).
		VariableWithShape(VarBiases, shapes.Make(x.DType(), out)).NodeValue(x.Graph())
	return Add(n.ops.Dense(x, w), Reshape(bias, 1, out))
}

// weights creates (or reuses) the conv kernel variable of scope, He-initialized
// when an activation follows, LeCun (variance 1/fanIn) for linear projections.
func weights(scope *model.Scope, g *Graph, shape shapes.Shape, fanIn int, activated bool) *Node {
	gain := 1.0
	if activated {
		gain = 2
	}
	v := scope.WithInitializer(varianceScaling(scope.Store(), fanIn, gain)).VariableWithShape(VarWeights, shape)
	n := v.NodeValue(g)
	noteVariable(n, v) // For folding at inference (fold.go).
	return n
}

// varianceScaling draws N(0, gain/fanIn) from the store's (seedable) RNG.
func varianceScaling(store *model.Store, fanIn int, gain float64) model.VariableInitializer {
	std := math.Sqrt(gain / float64(max(fanIn, 1)))
	return func(g *Graph, shape shapes.Shape) *Node {
		return MulScalar(store.RandomNormal(g, shape), std)
	}
}

// ScopeOfLayer maps a blocks.Analyze layer name to the variable scope (relative
// to the scope given to Logits) that holds its parameters: "stem" → "stem",
// "b3.expand" → "block_03/expand", "head.conv" → "head/conv", "classifier" →
// "classifier".
func ScopeOfLayer(name string) string {
	if rest, ok := strings.CutPrefix(name, "b"); ok {
		if i := strings.IndexByte(rest, '.'); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				return BlockScope(n) + "/" + rest[i+1:]
			}
		}
	}
	return strings.ReplaceAll(name, ".", "/")
}

// Relu is max(x, 0) whose gradient reads only the output. gomlx's fused ReLU
// also hands its input to the gradient, which keeps that input alive and makes
// the Go backend copy it instead of activating in place; its forward, a
// FusedActivation, always writes a new buffer, where Max with a scalar
// reuses its input's (1.5x faster in BenchmarkRelu's chain of 8).
func Relu(x *Node) *Node {
	be := x.Graph().Backend()
	if be == nil || !be.Capabilities().Operations[compute.OpTypeFusedActivationVJP] {
		return activation.Relu(x)
	}
	cfg := compute.ActivationConfig{Type: compute.ActivationRelu}
	var y *Node
	out, ok := withGradient([]*Node{x}, x.Shape(),
		func() *Node {
			y = Max(x, ScalarZero(x.Graph(), x.DType()))
			return y
		},
		func(_ int, dy *Node) *Node { return BackendFusedActivationVJP(y, y, dy, cfg) })
	if !ok {
		return activation.Relu(x)
	}
	return out
}
