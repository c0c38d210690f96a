package convnet

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/support/exceptions"
)

// This file holds the convolution ops on NHWC float32 images, in two flavours:
//
//   - lowered: pointwise convs as MatMuls, depthwise convs as sums of shifted
//     windows times per-channel weights (at stride 1 shifted per axis: 2k
//     windows instead of k·k), full convs as im2col (windows
//     concatenated on the channel axis) + one MatMul, stride 2 by splitting the
//     input into its 4 (row, column) parities with a Reshape — never a strided
//     Slice or strided conv, whose gradients ONNX Runtime cannot run, and never
//     computing at stride 1 to subsample. Windows are Pads with negative
//     padding (a crop; faster than Slice on the Go backend); kernel taps that
//     read only padding (small maps) are skipped. Their gradients are written
//     out (see withGradient) rather than left to gomlx's autodiff, which on the
//     Go backend turns every window into a zero-filled Pad and transposes both
//     4-D operands of every weight gradient: the input gradient is the
//     transposed convolution, built from windows of dy per input parity.
//   - native: graph.Convolve (grouped for depthwise), the natural choice on XLA.
//
// Both use TF "SAME" padding: output size ceil(in/stride), and for stride 2 the
// padding is split as TF does (pad_total = (out-1)*stride + k - in, low half
// first: 0 before / 1 after for k=3 on even inputs). graph.Convolve's PadSame
// centres the kernel instead ((k-1)/2 before, k/2 after), which for stride 2 gives
// a different phase: the native ops pass TF's paddings explicitly so both
// flavours compute the same function (and match blocks.Analyze's sizes).
//
// Weight layouts are shared by both flavours, so a checkpoint trained with one
// runs with the other:
//
//	Pointwise: [Cin, Cout]      Depthwise: [k, k, C]      Conv: [k, k, Cin, Cout]

// Ops selects the implementation of the convolution ops. The zero value is the
// native flavour (graph.Convolve). The weights may be any node (a variable, or
// a slice or masked copy of a larger one, as a weight-sharing supernet does):
// gradients flow back through them as usual. Graph-building functions: they
// panic on bad shapes, as gomlx ops do.
type Ops struct {
	// Lowered selects MatMuls and shifted windows instead of graph.Convolve.
	Lowered bool

	// autodiff (with Lowered) builds the lowered forward from Slices and lets
	// gomlx differentiate it: slower, kept as the reference in tests and as the
	// fallback when gomlx's fused-op mechanism is disabled.
	autodiff bool
}

func (o Ops) String() string {
	switch {
	case !o.Lowered:
		return "native"
	case o.autodiff:
		return "lowered-autodiff"
	}
	return "lowered"
}

// Pointwise is the 1×1 convolution x [B,H,W,Cin] × w [Cin,Cout] with the given
// stride (1 or 2).
func (o Ops) Pointwise(x, w *Node, stride int) *Node {
	checkImage("Pointwise", x)
	checkStride("Pointwise", stride)
	cin := x.Shape().Dimensions[3]
	if w.Rank() != 2 || w.Shape().Dimensions[0] != cin {
		exceptions.Panicf("convnet.Pointwise: weights shaped %s don't match input %s (want [Cin=%d, Cout])",
			w.Shape(), x.Shape(), cin)
	}
	cout := w.Shape().Dimensions[1]
	if !o.Lowered {
		return o.Conv(x, Reshape(w, 1, 1, cin, cout), stride)
	}
	if o.autodiff {
		return refPointwise(x, w, stride)
	}
	var xs *Node // The subsampled input as [B·outH·outW, Cin].
	src := newTapSource(x, 1, stride)
	out := shapes.Make(x.DType(), x.Shape().Dimensions[0], src.gh.out, src.gw.out, cout)
	y, ok := withGradient([]*Node{x, w}, out,
		func() *Node {
			y, xs2 := matmul4D(src.at(0, 0), w)
			xs = xs2
			return y
		},
		func(i int, dy *Node) *Node {
			if i == 1 {
				return weightGrad(xs, dy)
			}
			return transposed(dy, src.gh, src.gw, cin, func(windows []*Node, _ [][2]int) *Node {
				// dy · wᵀ: DotGeneral's "transposed" layout, no transposes.
				return DotGeneral(windows[0], []int{3}, nil, w, []int{1}, nil)
			})
		})
	if !ok {
		return refPointwise(x, w, stride)
	}
	return y
}

// Depthwise is the k×k depthwise convolution of x [B,H,W,C] with w [k,k,C].
func (o Ops) Depthwise(x, w *Node, stride int) *Node {
	checkImage("Depthwise", x)
	k := checkKernel("Depthwise", w, 3)
	c := x.Shape().Dimensions[3]
	if w.Shape().Dimensions[2] != c {
		exceptions.Panicf("convnet.Depthwise: weights shaped %s don't match input %s (want [k, k, C=%d])",
			w.Shape(), x.Shape(), c)
	}
	checkStride("Depthwise", stride)
	if !o.Lowered {
		// Grouped convolution: one group per channel, kernel [k,k,1,C].
		return Convolve(x, Reshape(w, k, k, 1, c)).
			StridePerAxis(stride, stride).
			PaddingPerDim(samePaddings(x, k, stride)).
			ChannelGroupCount(c).
			Done()
	}
	if o.autodiff {
		return refDepthwise(x, w, stride)
	}
	// Per-channel weights of tap (dy, dx), [1,1,1,C]: broadcast on the leading
	// axes, the Go backend's fast broadcast path.
	wt := func(w *Node, dy, dx int) *Node { return Reshape(Slice(w, AxisElem(dy), AxisElem(dx)), 1, 1, 1, c) }
	var y *Node
	var ok bool
	if stride == 1 {
		y, ok = depthwiseSeparable(x, w, k, wt)
	} else {
		y, ok = depthwiseTaps(x, w, k, stride, wt)
	}
	if !ok {
		return refDepthwise(x, w, stride)
	}
	return y
}

// depthwiseSeparable is the stride-1 lowered depthwise conv with its windows
// taken in two steps: y = Σ_dy shiftH_dy(Σ_dx shiftW_dx(x)·w[dy,dx]). It
// takes 2k windows instead of k·k (and 3k for the gradients instead of k·k),
// the same multiplies and adds.
func depthwiseSeparable(x, w *Node, k int, wt func(w *Node, dy, dx int) *Node) (*Node, bool) {
	dims := x.Shape().Dimensions
	h, wd := dims[1], dims[2]
	gh, gw := newAxisGeom(h, k, 1), newAxisGeom(wd, k, 1)
	shiftW := func(v *Node, off int) *Node { return window(v, []int{2}, []int{off}, []int{wd}) }
	shiftH := func(v *Node, off int) *Node { return window(v, []int{1}, []int{off}, []int{h}) }
	// sum of shiftH_dy(Σ_dx cols[dx]·w[dy,dx]), flipping the offsets for the
	// transposed conv (the input gradient).
	combine := func(cols []*Node, flip int) *Node {
		var sum *Node
		for dy := range k {
			if !gh.reads(dy) {
				continue
			}
			var row *Node
			for dx, col := range cols {
				if col != nil {
					row = addOrInit(row, Mul(col, wt(w, dy, dx)))
				}
			}
			sum = addOrInit(sum, shiftH(row, flip*(dy-gh.lo)))
		}
		return sum
	}
	xw := make([]*Node, k) // x shifted along W for each dx; nil: only padding.
	return withGradient([]*Node{x, w}, x.Shape(),
		func() *Node {
			for dx := range k {
				if gw.reads(dx) {
					xw[dx] = shiftW(x, dx-gw.lo)
				}
			}
			return combine(xw, 1)
		},
		func(i int, g *Node) *Node {
			if i == 0 {
				gws := make([]*Node, k)
				for dx := range k {
					if gw.reads(dx) {
						gws[dx] = shiftW(g, gw.lo-dx)
					}
				}
				return combine(gws, -1)
			}
			// dW[dy,dx] = Σ shiftW_dx(x) · shiftH_{-dy}(g).
			parts := make([]*Node, k*k)
			for dy := range k {
				var gs *Node
				if gh.reads(dy) {
					gs = shiftH(g, gh.lo-dy)
				}
				for dx := range k {
					if gs == nil || xw[dx] == nil {
						parts[dy*k+dx] = Zeros(g.Graph(), shapes.Make(g.DType(), g.Shape().Dimensions[3]))
					} else {
						parts[dy*k+dx] = ReduceSum(Mul(xw[dx], gs), 0, 1, 2)
					}
				}
			}
			return Reshape(Stack(parts, 0), k, k, g.Shape().Dimensions[3])
		})
}

// depthwiseTaps is the lowered depthwise conv as a sum over the k·k windows
// (any stride).
func depthwiseTaps(x, w *Node, k, stride int, wt func(w *Node, dy, dx int) *Node) (*Node, bool) {
	c := x.Shape().Dimensions[3]
	src := newTapSource(x, k, stride)
	taps := make([]*Node, k*k)
	out := shapes.Make(x.DType(), x.Shape().Dimensions[0], src.gh.out, src.gw.out, c)
	return withGradient([]*Node{x, w}, out,
		func() *Node {
			var sum *Node
			for dy := range k {
				for dx := range k {
					if src.reads(dy, dx) { // Else all padding: nil.
						taps[dy*k+dx] = src.at(dy, dx)
						sum = addOrInit(sum, Mul(taps[dy*k+dx], wt(w, dy, dx)))
					}
				}
			}
			return sum
		},
		func(i int, g *Node) *Node {
			if i == 1 {
				parts := make([]*Node, k*k)
				for t, tap := range taps {
					if tap == nil {
						parts[t] = Zeros(g.Graph(), shapes.Make(g.DType(), c))
					} else {
						parts[t] = ReduceSum(Mul(tap, g), 0, 1, 2)
					}
				}
				return Reshape(Stack(parts, 0), k, k, c)
			}
			return transposed(g, src.gh, src.gw, c, func(windows []*Node, taps [][2]int) *Node {
				var sum *Node
				for j, win := range windows {
					sum = addOrInit(sum, Mul(win, wt(w, taps[j][0], taps[j][1])))
				}
				return sum
			})
		})
}

// Conv is the full k×k convolution of x [B,H,W,Cin] with w [k,k,Cin,Cout].
// The lowered flavour concatenates the k·k shifted windows on the channel axis
// (im2col) and does one MatMul.
func (o Ops) Conv(x, w *Node, stride int) *Node {
	checkImage("Conv", x)
	k := checkKernel("Conv", w, 4)
	cin, cout := w.Shape().Dimensions[2], w.Shape().Dimensions[3]
	if cin != x.Shape().Dimensions[3] {
		exceptions.Panicf("convnet.Conv: weights shaped %s don't match input %s (want [k, k, Cin=%d, Cout])",
			w.Shape(), x.Shape(), x.Shape().Dimensions[3])
	}
	checkStride("Conv", stride)
	if !o.Lowered {
		return Convolve(x, w).
			StridePerAxis(stride, stride).
			PaddingPerDim(samePaddings(x, k, stride)).
			Done()
	}
	if k == 1 {
		return o.Pointwise(x, Reshape(w, cin, cout), stride)
	}
	if o.autodiff {
		return refConv(x, w, stride)
	}
	src := newTapSource(x, k, stride)
	// The taps that read some input (on small maps the others read only
	// padding), and their rows of w as [k·k·Cin, Cout].
	var used []int
	for t := range k * k {
		if src.reads(t/k, t%k) {
			used = append(used, t)
		}
	}
	w2 := Reshape(w, k*k*cin, cout)
	rows := func(w2 *Node) *Node {
		if len(used) == k*k {
			return w2
		}
		parts := make([]*Node, len(used))
		for j, t := range used {
			parts[j] = Slice(w2, AxisRange(t*cin, (t+1)*cin))
		}
		return Concatenate(parts, 0)
	}
	var cols *Node // im2col as [B·outH·outW, len(used)·Cin].
	out := shapes.Make(x.DType(), x.Shape().Dimensions[0], src.gh.out, src.gw.out, cout)
	y, ok := withGradient([]*Node{x, w}, out,
		func() *Node {
			windows := make([]*Node, len(used))
			for j, t := range used {
				windows[j] = src.at(t/k, t%k)
			}
			// Channel order (tap, cin) matches the rows of w taken.
			y, cols2 := matmul4D(Concatenate(windows, 3), rows(w2))
			cols = cols2
			return y
		},
		func(i int, g *Node) *Node {
			if i == 1 {
				dw := weightGrad(cols, g) // [len(used)·Cin, Cout]
				if len(used) < k*k {
					// Zero rows for the taps that read only padding.
					parts := make([]*Node, k*k)
					for t := range parts {
						parts[t] = Zeros(g.Graph(), shapes.Make(g.DType(), cin, cout))
					}
					for j, t := range used {
						parts[t] = Slice(dw, AxisRange(j*cin, (j+1)*cin))
					}
					dw = Concatenate(parts, 0)
				}
				return Reshape(dw, k, k, cin, cout)
			}
			return transposed(g, src.gh, src.gw, cin, func(windows []*Node, taps [][2]int) *Node {
				// Transposed conv: windows of dy times the taps' wᵀ stacked.
				wts := make([]*Node, len(taps))
				for j, t := range taps {
					wts[j] = Transpose(Reshape(Slice(w, AxisElem(t[0]), AxisElem(t[1])), cin, cout), 0, 1)
				}
				y, _ := matmul4D(Concatenate(windows, 3), Concatenate(wts, 0))
				return y
			})
		})
	if !ok {
		return refConv(x, w, stride)
	}
	return y
}

// Subsample returns x[:, ::stride, ::stride, :] (stride 1 or 2) — the input
// pixels a 1×1 convolution with TF SAME padding reads.
func (o Ops) Subsample(x *Node, stride int) *Node {
	checkImage("Subsample", x)
	checkStride("Subsample", stride)
	if stride == 1 {
		return x
	}
	if !o.Lowered {
		return Slice(x, AxisRange(), AxisRange().Stride(2), AxisRange().Stride(2))
	}
	if o.autodiff {
		return refTaps(x, 1, stride).at(0, 0)
	}
	src := newTapSource(x, 1, stride)
	dims := x.Shape().Dimensions
	out := shapes.Make(x.DType(), dims[0], src.gh.out, src.gw.out, dims[3])
	y, ok := withGradient([]*Node{x}, out,
		func() *Node { return src.at(0, 0) },
		func(_ int, g *Node) *Node {
			return transposed(g, src.gh, src.gw, dims[3], func(windows []*Node, _ [][2]int) *Node { return windows[0] })
		})
	if !ok {
		return refTaps(x, 1, stride).at(0, 0)
	}
	return y
}

// matmul4D is x [B,H,W,K] · w [K,N] as one 2-D MatMul. It also returns x as
// [B·H·W, K], for the weight gradient: on the Go backend a Reshape copies its
// input when that input has other users, so it is done once.
func matmul4D(x, w *Node) (y, x2 *Node) {
	d := x.Shape().Dimensions
	x2 = Reshape(x, d[0]*d[1]*d[2], d[3])
	y = DotGeneral(x2, []int{1}, nil, w, []int{0}, nil)
	return Reshape(y, d[0], d[1], d[2], w.Shape().Dimensions[1]), x2
}

// weightGrad returns x2ᵀ·dy [K,N] for x2 [P,K] and dy [B,H,W,N] (P = B·H·W).
// The GEMM wants the contracted (pixel) axis last on the left operand, so one
// operand must be transposed: the narrower one, as a 2-D transpose.
func weightGrad(x2, dy *Node) *Node {
	n, kk, nn := x2.Shape().Dimensions[0], x2.Shape().Dimensions[1], dy.Shape().Dimensions[3]
	dy2 := Reshape(dy, n, nn)
	if kk <= nn {
		return DotGeneral(Transpose(x2, 0, 1), []int{1}, nil, dy2, []int{0}, nil)
	}
	return Transpose(DotGeneral(Transpose(dy2, 0, 1), []int{1}, nil, x2, []int{0}, nil), 0, 1)
}

func addOrInit(sum, term *Node) *Node {
	if sum == nil {
		return term
	}
	return Add(sum, term)
}

// samePaddings returns graph.Convolve's PaddingPerDim for TF SAME padding.
func samePaddings(x *Node, k, stride int) [][2]int {
	dims := x.Shape().Dimensions
	loH, hiH, _ := SamePadding(dims[1], k, stride)
	loW, hiW, _ := SamePadding(dims[2], k, stride)
	return [][2]int{{loH, hiH}, {loW, hiW}}
}

func checkImage(op string, x *Node) {
	if x.Rank() != 4 {
		exceptions.Panicf("convnet.%s: input must be an NHWC image batch [B,H,W,C], got shape %s", op, x.Shape())
	}
}

func checkKernel(op string, w *Node, rank int) int {
	if w.Rank() != rank {
		exceptions.Panicf("convnet.%s: weights must have rank %d, got shape %s", op, rank, w.Shape())
	}
	k := w.Shape().Dimensions[0]
	if k != w.Shape().Dimensions[1] || k%2 != 1 {
		exceptions.Panicf("convnet.%s: kernel must be square with an odd size, got weights shaped %s", op, w.Shape())
	}
	return k
}

func checkStride(op string, stride int) {
	if stride != 1 && stride != 2 {
		panic(fmt.Errorf("convnet.%s: stride must be 1 or 2, got %d", op, stride))
	}
}

// The reference lowering: Slices and a padded input, differentiated by gomlx.

func refPointwise(x, w *Node, stride int) *Node {
	if stride != 1 {
		x = refTaps(x, 1, stride).at(0, 0)
	}
	return DotGeneral(x, []int{3}, nil, w, []int{0}, nil)
}

func refDepthwise(x, w *Node, stride int) *Node {
	k, c := w.Shape().Dimensions[0], w.Shape().Dimensions[2]
	taps := refTaps(x, k, stride)
	var sum *Node
	for dy := range k {
		for dx := range k {
			wt := Reshape(Slice(w, AxisElem(dy), AxisElem(dx)), 1, 1, 1, c)
			sum = addOrInit(sum, Mul(taps.at(dy, dx), wt))
		}
	}
	return sum
}

func refConv(x, w *Node, stride int) *Node {
	k, cin, cout := w.Shape().Dimensions[0], w.Shape().Dimensions[2], w.Shape().Dimensions[3]
	taps := refTaps(x, k, stride)
	cols := make([]*Node, 0, k*k)
	for dy := range k {
		for dx := range k {
			cols = append(cols, taps.at(dy, dx))
		}
	}
	return DotGeneral(Concatenate(cols, 3), []int{3}, nil, Reshape(w, k*k*cin, cout), []int{0}, nil)
}

// refTapSource: the input zero-padded (TF SAME; for stride 2 to an even size
// and split into parities by a Reshape), windows read with Slice.
type refTapSource struct {
	k, stride  int
	outH, outW int
	padded     *Node
	phases     [2][2]*Node
}

func refTaps(x *Node, k, stride int) *refTapSource {
	dims := x.Shape().Dimensions
	b, h, w, c := dims[0], dims[1], dims[2], dims[3]
	loH, hiH, outH := SamePadding(h, k, stride)
	loW, hiW, outW := SamePadding(w, k, stride)
	t := &refTapSource{k: k, stride: stride, outH: outH, outW: outW}
	if stride == 2 {
		hp, wp := 2*(outH+(k-1)/2), 2*(outW+(k-1)/2)
		hiH, hiW = hp-h-loH, wp-w-loW
		r := Reshape(padSpatial(x, loH, hiH, loW, hiW), b, hp/2, 2, wp/2, 2, c)
		for py := range 2 {
			for px := range 2 {
				ph := Slice(r, AxisRange(), AxisRange(), AxisElem(py), AxisRange(), AxisElem(px))
				t.phases[py][px] = Reshape(ph, b, hp/2, wp/2, c)
			}
		}
		return t
	}
	t.padded = padSpatial(x, loH, hiH, loW, hiW)
	return t
}

func (t *refTapSource) at(dy, dx int) *Node {
	src, y0, x0 := t.padded, dy, dx
	if t.stride == 2 {
		src, y0, x0 = t.phases[dy%2][dx%2], dy/2, dx/2
	}
	dims := src.Shape().Dimensions
	if y0 == 0 && x0 == 0 && dims[1] == t.outH && dims[2] == t.outW {
		return src
	}
	return Slice(src, AxisRange(), AxisRange(y0, y0+t.outH), AxisRange(x0, x0+t.outW))
}

// padSpatial zero-pads the two spatial axes. One PadAxis per axis: gomlx's Pad
// gradient breaks with fewer configs than the operand rank.
func padSpatial(x *Node, loH, hiH, loW, hiW int) *Node {
	if loH == 0 && hiH == 0 && loW == 0 && hiW == 0 {
		return x
	}
	return Pad(x, ScalarZero(x.Graph(), x.DType()),
		compute.PadAxis{}, compute.PadAxis{Start: loH, End: hiH}, compute.PadAxis{Start: loW, End: hiW}, compute.PadAxis{})
}
