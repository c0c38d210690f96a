package convnet

import (
	"sync"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// The banded lowering of a depthwise convolution (CHWN layout). Per channel c
// the convolution is linear in the image: y_c = T_c·x_c with x_c the H·W
// input pixels (a column per image of the batch) and T_c a banded
// [outH·outW, H·W] matrix holding w[dy,dx,c] where output pixel p reads
// input pixel q through tap (dy, dx) — strides and TF SAME padding included
// (taps that read padding have no entry). With the channel as the batch axis
// of one MatMul, [C, outH·outW, H·W] × [C, H·W, B], the whole convolution is
// a single op, and so are its input gradient (T_cᵀ·dy_c) and, through
// dT_c = dy_c·x_cᵀ, its weight gradient. It does H·W/k² times the
// multiply-adds of the windowed lowering, which on small maps costs less
// than the windowed lowering's dozens of passes over the activations (2k
// shifted copies, k² multiplies and adds, each a pass on the Go backend).
//
// T = W·S, S the constant 0/1 [k², outH·outW·H·W] tap-selection matrix:
// built in the graph for variables being trained, in Go when w is a known
// constant (inference).

// bandedMaxRatio bounds the extra multiply-adds of the banded lowering,
// H·W/k², at which it is still chosen. Measured with BenchmarkDepthwise
// (CHWN, batch 64, 48 channels, forward and both gradients, CPU time): the
// banded lowering is faster at every size up to 16×16 for k = 3 (28 times
// the multiply-adds; 0.86x the time of the windows) and loses from 20×20
// (44 times: 1.14x); for k = 5 it is still 1.9x faster at 24×24 (23 times).
const bandedMaxRatio = 32

// bandedMaxElems bounds the banded matrices ([C, outH·outW, H·W], several
// alive at once in training) and the tap-selection constant ([k², outH·outW·
// H·W]), in float32 values: 64 MB and 16 MB.
const (
	bandedMaxElems    = 1 << 24
	bandedMaxSelElems = 1 << 22
)

// useBanded reports whether the banded lowering is chosen for a depthwise
// convolution with a k×k kernel on x (CHWN).
func useBanded(x *Node, k, stride int) bool {
	d := x.Shape().Dimensions
	c, hw := d[0], d[1]*d[2]
	_, _, oh := SamePadding(d[1], k, stride)
	_, _, ow := SamePadding(d[2], k, stride)
	n := oh * ow * hw
	return hw <= bandedMaxRatio*k*k && c*n <= bandedMaxElems && k*k*n <= bandedMaxSelElems
}

// bandedSelection holds the constants of the banded lowering for one
// geometry (tapSelection's S and Sᵗ, and the tensors the graphs take them
// from: the same for every graph of that geometry).
type bandedSelection struct {
	s, st  []float32
	oh, ow int
	// sel and selT are S and Sᵗ as [k², n]; selCols is S transposed as [n,
	// 16·⌈k²/16⌉] (taps padded to 16 columns) for the weight gradient.
	sel, selT, selCols *tensors.Tensor
}

// bandedSelections caches bandedSelection by geometry: a search builds
// thousands of path graphs over a few map sizes, and the constants (up to
// 16 MB) cost a few ms per graph to build.
var bandedSelections sync.Map // [4]int{h, w, k, stride} → *bandedSelection

// selection returns the banded constants of an h×w map, k×k kernel.
func selection(h, w, k, stride int) *bandedSelection {
	key := [4]int{h, w, k, stride}
	if v, ok := bandedSelections.Load(key); ok {
		return v.(*bandedSelection)
	}
	b := &bandedSelection{}
	b.s, b.st, b.oh, b.ow = tapSelection(h, w, k, stride)
	kk := k * k
	n := len(b.s) / kk
	b.sel = tensors.FromFlatDataAndDimensions(b.s, kk, n)
	b.selT = tensors.FromFlatDataAndDimensions(b.st, kk, n)
	cols := (kk + 15) / 16 * 16
	selCols := make([]float32, n*cols)
	for t := range kk {
		for i, v := range b.s[t*n : (t+1)*n] {
			selCols[i*cols+t] = v
		}
	}
	b.selCols = tensors.FromFlatDataAndDimensions(selCols, n, cols)
	v, _ := bandedSelections.LoadOrStore(key, b)
	return v.(*bandedSelection)
}

// tapSelection returns S as [k·k][outH·outW·H·W] (flattened, row-major) and,
// transposed per tap, Sᵗ as [k·k][H·W·outH·outW].
func tapSelection(h, w, k, stride int) (s, st []float32, oh, ow int) {
	loH, _, oh := SamePadding(h, k, stride)
	loW, _, ow := SamePadding(w, k, stride)
	np, nq := oh*ow, h*w
	s = make([]float32, k*k*np*nq)
	st = make([]float32, k*k*np*nq)
	for dy := range k {
		for dx := range k {
			t := dy*k + dx
			for i := range oh {
				iy := i*stride + dy - loH
				if iy < 0 || iy >= h {
					continue
				}
				for j := range ow {
					ix := j*stride + dx - loW
					if ix < 0 || ix >= w {
						continue
					}
					p, q := i*ow+j, iy*w+ix
					s[(t*np+p)*nq+q] = 1
					st[(t*nq+q)*np+p] = 1
				}
			}
		}
	}
	return s, st, oh, ow
}

// depthwiseBanded is the banded lowering of Depthwise (plain: no gradient of
// its own).
func (o Ops) depthwiseBanded(x, w *Node, stride int, plain bool) (*Node, bool) {
	d := x.Shape().Dimensions
	c, h, wd, b := d[0], d[1], d[2], d[3]
	k := w.Shape().Dimensions[0]
	g := x.Graph()
	bs := selection(h, wd, k, stride)
	sv, stv, oh, ow := bs.s, bs.st, bs.oh, bs.ow
	kk := k * k
	// band builds T ([C, outH, outW, H, W]) or, transposed, Tᵀ ([C, H, W,
	// outH, outW]) from the weights.
	band := func(w *Node, transposedT bool) *Node {
		dims := []int{c, oh, ow, h, wd}
		sel := sv
		if transposedT {
			dims = []int{c, h, wd, oh, ow}
			sel = stv
		}
		if wv := constOf(w); wv != nil {
			// Per channel, each tap's entries (at most one per output pixel).
			t := make([]float32, c*len(sel)/kk)
			n := len(sel) / kk
			for tap := range kk {
				for i, s := range sel[tap*n : (tap+1)*n] {
					if s != 0 {
						for ch := range c {
							t[ch*n+i] += wv[tap*c+ch]
						}
					}
				}
			}
			return newConst(g, t, dims...)
		}
		wc := transposeMatrix(Reshape(w, kk, c)) // [C, k²]
		sel2 := ConstTensor(g, bs.sel)
		if transposedT {
			sel2 = ConstTensor(g, bs.selT)
		}
		return Reshape(DotGeneral(wc, []int{1}, nil, sel2, []int{0}, nil), dims...)
	}
	fwd := func() *Node {
		// [C, oh, ow, (h, w)] × [C, (h, w), B] → [C, oh, ow, B].
		return DotGeneral(band(w, false), []int{3, 4}, []int{0}, x, []int{1, 2}, []int{0})
	}
	if plain {
		return fwd(), true
	}
	out := shapes.Make(x.DType(), c, oh, ow, b)
	return withGradient([]*Node{x, w}, out, fwd,
		func(i int, dy *Node) *Node {
			if i == 0 {
				// Tᵀ·dy: [C, h, w, (oh, ow)] × [C, (oh, ow), B].
				return DotGeneral(band(w, true), []int{3, 4}, []int{0}, dy, []int{1, 2}, []int{0})
			}
			// dT = dy·xᵀ ([C, oh, ow, h, w]); dw[c, t] = Σ dT[c]·S[t], as
			// dT·Sᵀ with Sᵀ [oh·ow·h·w, 16] (taps padded to 16 columns:
			// the MatMul runs several times slower with 9 or 25; selCols).
			dT := DotGeneral(dy, []int{3}, []int{0}, x, []int{3}, []int{0})
			n := len(sv) / kk
			sel := ConstTensor(g, bs.selCols)
			dwc := DotGeneral(Reshape(dT, c, n), []int{1}, nil, sel, []int{0}, nil) // [C, cols]
			return Reshape(Transpose(Slice(dwc, AxisRange(), AxisRange(0, kk)), 1, 0), k, k, c)
		})
}
