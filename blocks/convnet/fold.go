package convnet

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Inference-time folding. On the Go backend an inference graph embeds the
// variables as constants (compute.Capabilities.PreferConstantsForVariables),
// so what depends only on weights can be computed once, in Go, when the graph
// is built: BatchNorm's scale goes into the preceding convolution's weights
// (y·s + t = conv(x, w·s) + t, one pass over the activations instead of
// two), and the transposed or banded weight matrices of the CHWN lowering
// become constants the backend's MatMul packs once.
//
// gomlx keeps the value of only tiny constants in their nodes, so the values
// are recorded here, in the graph's state: by the builder for its variables
// (noteVariable) and by the folding itself for what it derives (newConst).

type foldStateKey struct{}

type foldState struct {
	consts map[*Node]*tensors.Tensor // constant nodes and their values
	folds  map[*Node]foldRec         // lowered conv outputs BatchNorm can fold into
	folded int                       // BatchNorms folded (tests)
}

// foldRec records that a lowered op's output y is linear in its weights w,
// each output channel in the weights' last axis: rebuild(w') builds the same
// op with weights w' (without a gradient of its own: inference only).
type foldRec struct {
	w       *Node
	rebuild func(w *Node) *Node
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

// foldScale returns op(x, w·s) for the lowered op output y, s ([C], values)
// scaling each output channel, when y is foldable and its weights are known
// constants; else nil.
func foldScale(y *Node, s []float32) *Node {
	st := stateOf(y.Graph())
	f, ok := st.folds[y]
	if !ok {
		return nil
	}
	w := constOf(f.w)
	if w == nil {
		return nil
	}
	dims := f.w.Shape().Dimensions
	c := dims[len(dims)-1]
	if c != len(s) {
		return nil
	}
	ws := make([]float32, len(w))
	for i, v := range w {
		ws[i] = v * s[i%c]
	}
	st.folded++
	return f.rebuild(newConst(y.Graph(), ws, dims...))
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
