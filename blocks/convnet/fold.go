package convnet

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/multihw/multihw/blocks"
)

// Inference-time folding. On the Go backend an inference graph embeds the
// variables as constants (compute.Capabilities.PreferConstantsForVariables),
// so what depends only on weights can be computed once, in Go, when the graph
// is built: BatchNorm goes into the preceding convolution's weights
// (FoldBatchNorm: y·s + t = conv(x, w·s) + t, one pass over the activations
// instead of two), and the transposed weight matrices of the lowering become
// constants the backend's MatMul packs once.
//
// gomlx keeps the value of only tiny constants in their nodes, so the values
// are recorded here, in the graph's state: by the builder for its variables
// (noteVariable) and by the folding itself for what it derives (newConst).

type foldStateKey struct{}

type foldState struct {
	consts map[*Node]*tensors.Tensor // constant nodes and their values
	folds  map[*Node]foldRec         // lowered conv outputs BatchNorm can fold into
	folded int                       // BatchNorms folded (tests)
	dense  int                       // of which into a FusedDense (tests)
}

// foldRec records that a lowered op's output y is linear in its weights w,
// each output channel in the weights' last axis: rebuild(w') builds the same
// op with weights w' (without a gradient of its own: inference only).
// dense, set for ops that are one product of their input with w (NHWC
// pointwise convolutions), builds that product, a bias per output channel
// and an activation as one backend FusedDense: the bias and activation then
// cost no pass of their own over the output.
type foldRec struct {
	w       *Node
	rebuild func(w *Node) *Node
	dense   func(w, bias *Node, act compute.ActivationType) *Node
}

func stateOf(g *Graph) *foldState {
	s, _ := g.State(foldStateKey{}).(*foldState)
	if s == nil {
		s = &foldState{consts: map[*Node]*tensors.Tensor{}, folds: map[*Node]foldRec{}}
		g.AttachState(foldStateKey{}, s)
	}
	return s
}

// noteVariable records the value of v when its node n is a constant (an
// inference graph on a backend that embeds variables).
func noteVariable(n *Node, v *model.Variable) {
	if n.Type() != NodeTypeConstant || n.DType() != dtypes.Float32 || !v.HasValue() {
		return
	}
	if t, err := v.Value(); err == nil {
		stateOf(n.Graph()).consts[n] = t
	}
}

// constOf returns the value of a constant float32 node, or nil when unknown.
func constOf(n *Node) []float32 {
	if n.DType() != dtypes.Float32 || n.Type() != NodeTypeConstant {
		return nil
	}
	t := n.ConstantValue()
	if t == nil {
		t = stateOf(n.Graph()).consts[n]
	}
	if t == nil {
		return nil
	}
	v, err := tensors.CopyFlatData[float32](t)
	if err != nil {
		return nil
	}
	return v
}

// newConst returns a constant node of the given values and records them.
func newConst(g *Graph, v []float32, dims ...int) *Node {
	t := tensors.FromFlatDataAndDimensions(v, dims...)
	n := ConstTensor(g, t)
	stateOf(g).consts[n] = t
	return n
}

// recordFold records y = op(x, w) as foldable (see foldRec).
func recordFold(y, w *Node, rebuild func(w *Node) *Node) {
	stateOf(y.Graph()).folds[y] = foldRec{w: w, rebuild: rebuild}
}

// setDense records the FusedDense form of the foldable op output y (see
// foldRec); a no-op when y was not recorded as foldable.
func setDense(y *Node, dense func(w, bias *Node, act compute.ActivationType) *Node) {
	st := stateOf(y.Graph())
	if f, ok := st.folds[y]; ok {
		f.dense = dense
		st.folds[y] = f
	}
}

// foldBatchNorm returns BatchNorm at inference of y, the output of a lowered
// op of o, as op(x, w') + b' with w' and b' from FoldBatchNorm, when y is
// foldable and its weights and the BatchNorm statistics are known constants;
// else nil. activated reports whether act was applied too (as part of a
// FusedDense, which has ReLU but not ReLU6).
func (o Ops) foldBatchNorm(y, gamma, beta, mean, variance *Node, epsilon float64, act blocks.Activation) (out *Node, activated bool) {
	st := stateOf(y.Graph())
	f, ok := st.folds[y]
	if !ok {
		return nil, false
	}
	w, g, b, m, v := constOf(f.w), constOf(gamma), constOf(beta), constOf(mean), constOf(variance)
	if w == nil || g == nil || b == nil || m == nil || v == nil {
		return nil, false
	}
	dims := f.w.Shape().Dimensions
	if dims[len(dims)-1] != len(g) {
		return nil, false
	}
	folded, bias, err := FoldBatchNorm(w, g, b, m, v, epsilon)
	if err != nil {
		return nil, false // Not finite: left to the graph, which computes the same values.
	}
	st.folded++
	wc, bc := newConst(y.Graph(), folded, dims...), newConst(y.Graph(), bias, len(bias))
	if f.dense != nil && hasOp(y.Graph(), compute.OpTypeFusedDense) {
		st.dense++
		switch act {
		case "":
			return f.dense(wc, bc, compute.ActivationNone), true
		case blocks.ReLU:
			return f.dense(wc, bc, compute.ActivationRelu), true
		}
		return f.dense(wc, bc, compute.ActivationNone), false
	}
	return Add(f.rebuild(wc), o.perChannel(bc)), false
}

// hasOp reports whether the backend of g implements op.
func hasOp(g *Graph, op compute.OpType) bool {
	be := g.Backend()
	return be != nil && be.Capabilities().Operations[op]
}

// transposeMatrix returns the transpose of the matrix m, computed once when
// m is a known constant (the backend's MatMul then packs it once too).
func transposeMatrix(m *Node) *Node {
	v := constOf(m)
	if v == nil {
		return Transpose(m, 1, 0)
	}
	r, c := m.Shape().Dimensions[0], m.Shape().Dimensions[1]
	t := make([]float32, len(v))
	for i := range r {
		for j := range c {
			t[j*r+i] = v[i*c+j]
		}
	}
	return newConst(m.Graph(), t, c, r)
}
