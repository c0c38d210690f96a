package convnet

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/support/exceptions"
)

// This file holds the convolution ops on float32 image batches, in two flavours:
//
//   - lowered: pointwise convs as MatMuls, depthwise convs as sums of shifted
//     windows times per-channel weights (at stride 1 shifted per axis: 2k
//     windows instead of k·k) or, on small maps in the CHWN layout, as one
//     batched MatMul with a banded matrix (banded.go); full convs as im2col
//     (windows concatenated on the channel axis) + one MatMul; stride 2 by
//     splitting the input into its 4 (row, column) parities with a Reshape —
//     never a strided Slice or strided conv, whose gradients ONNX Runtime
//     cannot run, and never computing at stride 1 to subsample. Windows are
//     Pads with negative padding (a crop; faster than Slice on the Go
//     backend); kernel taps that read only padding (small maps) are skipped.
//     Their gradients are written out (see withGradient) rather than left to
//     gomlx's autodiff, which on the Go backend turns every window into a
//     zero-filled Pad and transposes both 4-D operands of every weight
//     gradient: the input gradient is the transposed convolution, built from
//     windows of dy per input parity.
//   - native: graph.Convolve (grouped for depthwise), the natural choice on XLA.
//
// Both use TF "SAME" padding: output size ceil(in/stride), and for stride 2 the
// padding is split as TF does (pad_total = (out-1)*stride + k - in, low half
// first: 0 before / 1 after for k=3 on even inputs). graph.Convolve's PadSame
// centres the kernel instead ((k-1)/2 before, k/2 after), which for stride 2 gives
// a different phase: the native ops pass TF's paddings explicitly so both
// flavours compute the same function (and match blocks.Analyze's sizes).
//
// Weight layouts are shared by both flavours and both activation layouts, so
// a checkpoint trained with one runs with the other:
//
//	Pointwise: [Cin, Cout]      Depthwise: [k, k, C]      Conv: [k, k, Cin, Cout]

// Layout is the order of the axes of the activations the lowered ops take and
// return. Images enter in NHWC (Ops.In converts them).
type Layout int

const (
	// NHWC is [batch, height, width, channels]: the images' layout and
	// graph.Convolve's.
	NHWC Layout = iota
	// CHWN is [channels, height, width, batch]. The channel contractions of
	// the convolutions are then MatMuls whose long axis (pixels × batch) is
	// the output's row, and their weight gradients contract the rows of two
	// row-major matrices: the Go backend's MatMul needs no transpose of an
	// activation for either (with NHWC, every weight gradient transposes
	// one, and outputs of 8-24 channels run several times slower). Windows
	// copy runs of at least a batch of values, and on small maps a
	// depthwise convolution is one batched MatMul (banded.go).
	CHWN
)

// chwnMinBatch is the smallest batch LayoutFor runs in CHWN. Measured on the
// Go backend (BenchmarkTrainStep, batch 64; batch-1 inference of MultiAVG at
// 224 px): CHWN trains about 2x faster than NHWC, while with a single image
// its stride-2 parity splits and narrow windows copy runs of one value and
// NHWC infers 2-3x faster.
const chwnMinBatch = 8

// LayoutFor returns the layout the lowered ops run fastest in on batches of
// the given size: CHWN for training batches, NHWC for a few images.
func LayoutFor(batch int) Layout {
	if batch >= chwnMinBatch {
		return CHWN
	}
	return NHWC
}

// ForBatch returns o with the layout LayoutFor(batch) when o is lowered.
func (o Ops) ForBatch(batch int) Ops {
	if o.Lowered {
		o.Layout = LayoutFor(batch)
	}
	return o
}

func (l Layout) String() string {
	if l == CHWN {
		return "CHWN"
	}
	return "NHWC"
}

// Ops selects the implementation of the convolution ops. The zero value is the
// native flavour (graph.Convolve, NHWC). The weights may be any node (a
// variable, or a slice or masked copy of a larger one, as a weight-sharing
// supernet does): gradients flow back through them as usual. Graph-building
// functions: they panic on bad shapes, as gomlx ops do.
type Ops struct {
	// Lowered selects MatMuls and shifted windows instead of graph.Convolve.
	Lowered bool

	// Layout is the activations' layout of the lowered ops (the native ops
	// always use NHWC).
	Layout Layout

	// autodiff (with Lowered) builds the lowered forward from Slices and lets
	// gomlx differentiate it: slower, kept as the reference in tests and as the
	// fallback when gomlx's fused-op mechanism is disabled.
	autodiff bool

	// dw forces a depthwise lowering (tests): dwAuto chooses by size.
	dw dwLowering
}

type dwLowering int

const (
	dwAuto dwLowering = iota
	dwWindows
	dwBanded
)

func (o Ops) String() string {
	s := "native"
	switch {
	case !o.Lowered:
		return s
	case o.autodiff:
		s = "lowered-autodiff"
	default:
		s = "lowered"
	}
	if o.Layout != NHWC {
		s += "-" + o.Layout.String()
	}
	switch o.dw {
	case dwWindows:
		s += "-windows"
	case dwBanded:
		s += "-banded"
	}
	return s
}

// layout is the activations' layout (NHWC for the native ops).
func (o Ops) layout() Layout {
	if !o.Lowered {
		return NHWC
	}
	return o.Layout
}

// chanAxis is the channel axis of an activation.
func (o Ops) chanAxis() int {
	if o.layout() == CHWN {
		return 0
	}
	return 3
}

// batchAxis is the batch axis of an activation.
func (o Ops) batchAxis() int { return 3 - o.chanAxis() }

// otherAxes are the axes of an activation but the channel axis: the axes
// BatchNorm reduces.
func (o Ops) otherAxes() []int {
	if o.layout() == CHWN {
		return []int{1, 2, 3}
	}
	return []int{0, 1, 2}
}

// image returns the dimensions of a batch of b images h×w×c in the layout.
func (o Ops) image(b, h, w, c int) []int {
	if o.layout() == CHWN {
		return []int{c, h, w, b}
	}
	return []int{b, h, w, c}
}

// perChannel reshapes a [C] vector to broadcast over the channel axis (a
// known constant becomes a constant of that shape: a Reshape op copies it
// on every run).
func (o Ops) perChannel(v *Node) *Node {
	c := v.Shape().Size()
	dims := []int{1, 1, 1, c}
	if o.layout() == CHWN {
		dims = []int{c, 1, 1, 1}
	}
	if cv := constOf(v); cv != nil {
		return newConst(v.Graph(), cv, dims...)
	}
	return Reshape(v, dims...)
}

// In converts NHWC images [B,H,W,C] to the ops' layout.
func (o Ops) In(images *Node) *Node {
	checkImage("In", images)
	if o.layout() == CHWN {
		return swapOuterAxes(images)
	}
	return images
}

// Out converts activations in the ops' layout to NHWC [B,H,W,C].
func (o Ops) Out(x *Node) *Node {
	checkImage("Out", x)
	if o.layout() == CHWN {
		return swapOuterAxes(x)
	}
	return x
}

// swapOuterAxes returns x [A,H,W,Z] as [Z,H,W,A] in two transposes the Go
// backend has fast paths for (a 2-D one, then one keeping the last axis);
// the one 4-D transpose goes value by value, several times slower.
func swapOuterAxes(x *Node) *Node {
	d := x.Shape().Dimensions
	t := Reshape(Transpose(Reshape(x, d[0], d[1]*d[2]*d[3]), 0, 1), d[1], d[2], d[3], d[0]) // [H,W,Z,A]
	return TransposeAllAxes(t, 2, 0, 1, 3)
}

// Channels returns the number of channels of activations x.
func (o Ops) Channels(x *Node) int {
	checkImage("Channels", x)
	return x.Shape().Dimensions[o.chanAxis()]
}

// Pool is global average pooling: activations x to features [B, C].
func (o Ops) Pool(x *Node) *Node {
	checkImage("Pool", x)
	y := ReduceMean(x, 1, 2)
	if o.layout() == CHWN {
		return Transpose(y, 1, 0)
	}
	return y
}

// Pointwise is the 1×1 convolution of x (Cin channels) with w [Cin,Cout],
// with the given stride (1 or 2).
func (o Ops) Pointwise(x, w *Node, stride int) *Node {
	checkImage("Pointwise", x)
	checkStride("Pointwise", stride)
	cin := o.Channels(x)
	if w.Rank() != 2 || w.Shape().Dimensions[0] != cin {
		exceptions.Panicf("convnet.Pointwise: weights shaped %s don't match input %s (want [Cin=%d, Cout])",
			w.Shape(), x.Shape(), cin)
	}
	cout := w.Shape().Dimensions[1]
	if !o.Lowered {
		return o.Conv(x, Reshape(w, 1, 1, cin, cout), stride)
	}
	var xs *Node // subsampled once, for the op and its folded rebuild
	y := o.weighted(x, w, func(x *Node) *Node { return refPointwise(x, w, stride) },
		func(w *Node, plain bool) (*Node, bool) {
			if xs == nil {
				xs = o.Subsample(x, stride)
			}
			return o.pointwise(xs, w, plain)
		})
	if o.layout() == NHWC {
		// NHWC x·w is FusedDense's product: folded, the BatchNorm shift and
		// ReLU join it.
		setDense(y, func(w, bias *Node, act compute.ActivationType) *Node {
			return BackendFusedDense(xs, w, bias, compute.DenseConfig{Activation: compute.ActivationConfig{Type: act}})
		})
	}
	return y
}

// weighted applies a lowered op with weights w to x: lower(w, false), or
// ref (NHWC, differentiated by gomlx) under autodiff or where lower declines
// (ok false). The lowered result records lower(·, true) for folding.
func (o Ops) weighted(x, w *Node, ref func(x *Node) *Node, lower func(w *Node, plain bool) (*Node, bool)) *Node {
	if o.autodiff {
		return o.viaNHWC(ref, x)
	}
	y, ok := lower(w, false)
	if !ok {
		return o.viaNHWC(ref, x)
	}
	recordFold(y, w, func(w *Node) *Node { y, _ := lower(w, true); return y })
	return y
}

// pointwise is the stride-1 lowered 1×1 convolution with its gradient
// (plain: without a gradient of its own, for a rebuilt inference graph).
func (o Ops) pointwise(x, w *Node, plain bool) (*Node, bool) {
	fwd := func() *Node { return o.channelMatMul(x, w, false) }
	if plain {
		return fwd(), true
	}
	out := x.Shape().Clone()
	out.Dimensions[o.chanAxis()] = w.Shape().Dimensions[1]
	return withGradient([]*Node{x, w}, out, fwd,
		func(i int, dy *Node) *Node {
			if i == 1 {
				return o.channelGrad(x, dy)
			}
			return o.channelMatMul(dy, w, true)
		})
}

// Depthwise is the k×k depthwise convolution of x (C channels) with w [k,k,C].
func (o Ops) Depthwise(x, w *Node, stride int) *Node {
	checkImage("Depthwise", x)
	k := checkKernel("Depthwise", w, 3)
	c := o.Channels(x)
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
	return o.weighted(x, w, func(x *Node) *Node { return refDepthwise(x, w, stride) },
		func(w *Node, plain bool) (*Node, bool) { return o.depthwise(x, w, stride, plain) })
}

// depthwise picks the lowering of Depthwise (plain: no gradient of its own).
func (o Ops) depthwise(x, w *Node, stride int, plain bool) (*Node, bool) {
	k := w.Shape().Dimensions[0]
	banded := o.dw == dwBanded || (o.dw == dwAuto && useBanded(x, k, stride))
	if o.layout() == CHWN && banded {
		return o.depthwiseBanded(x, w, stride, plain)
	}
	if stride == 1 {
		return o.depthwiseSeparable(x, w, k, plain)
	}
	return o.depthwiseTaps(x, w, k, stride, plain)
}

// tapWeight is the per-channel weight of tap (dy, dx) shaped to broadcast
// (a constant when w is one).
func (o Ops) tapWeight(w *Node, dy, dx int) *Node {
	if v := constOf(w); v != nil {
		d := w.Shape().Dimensions
		c := d[2]
		i := (dy*d[1] + dx) * c
		return o.perChannel(newConst(w.Graph(), v[i:i+c], c))
	}
	return o.perChannel(Slice(w, AxisElem(dy), AxisElem(dx)))
}

// depthwiseSeparable is the stride-1 lowered depthwise conv with its windows
// taken in two steps: y = Σ_dy shiftH_dy(Σ_dx shiftW_dx(x)·w[dy,dx]). It
// takes 2k windows instead of k·k (and 3k for the gradients instead of k·k),
// the same multiplies and adds.
func (o Ops) depthwiseSeparable(x, w *Node, k int, plain bool) (*Node, bool) {
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
					row = addOrInit(row, Mul(col, o.tapWeight(w, dy, dx)))
				}
			}
			sum = addOrInit(sum, shiftH(row, flip*(dy-gh.lo)))
		}
		return sum
	}
	xw := make([]*Node, k) // x shifted along W for each dx; nil: only padding.
	fwd := func() *Node {
		for dx := range k {
			if gw.reads(dx) {
				xw[dx] = shiftW(x, dx-gw.lo)
			}
		}
		return combine(xw, 1)
	}
	if plain {
		return fwd(), true
	}
	return withGradient([]*Node{x, w}, x.Shape(), fwd,
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
			c := o.Channels(g)
			parts := make([]*Node, k*k)
			for dy := range k {
				var gs *Node
				if gh.reads(dy) {
					gs = shiftH(g, gh.lo-dy)
				}
				for dx := range k {
					if gs == nil || xw[dx] == nil {
						parts[dy*k+dx] = Zeros(g.Graph(), shapes.Make(g.DType(), c))
					} else {
						parts[dy*k+dx] = ReduceSum(Mul(xw[dx], gs), o.otherAxes()...)
					}
				}
			}
			return Reshape(Stack(parts, 0), k, k, c)
		})
}

// depthwiseTaps is the lowered depthwise conv as a sum over the k·k windows
// (any stride).
func (o Ops) depthwiseTaps(x, w *Node, k, stride int, plain bool) (*Node, bool) {
	c := o.Channels(x)
	src := newTapSource(x, k, stride)
	taps := make([]*Node, k*k)
	out := shapes.Make(x.DType(), o.image(x.Shape().Dimensions[o.batchAxis()], src.gh.out, src.gw.out, c)...)
	fwd := func() *Node {
		var sum *Node
		for dy := range k {
			for dx := range k {
				if src.reads(dy, dx) { // Else all padding: nil.
					taps[dy*k+dx] = src.at(dy, dx)
					sum = addOrInit(sum, Mul(taps[dy*k+dx], o.tapWeight(w, dy, dx)))
				}
			}
		}
		return sum
	}
	if plain {
		return fwd(), true
	}
	return withGradient([]*Node{x, w}, out, fwd,
		func(i int, g *Node) *Node {
			if i == 1 {
				parts := make([]*Node, k*k)
				for t, tap := range taps {
					if tap == nil {
						parts[t] = Zeros(g.Graph(), shapes.Make(g.DType(), c))
					} else {
						parts[t] = ReduceSum(Mul(tap, g), o.otherAxes()...)
					}
				}
				return Reshape(Stack(parts, 0), k, k, c)
			}
			return transposed(g, src.gh, src.gw, func(set windowSet) *Node {
				var sum *Node
				for j, win := range set.each() {
					sum = addOrInit(sum, Mul(win, o.tapWeight(w, set.taps[j][0], set.taps[j][1])))
				}
				return sum
			})
		})
}

// Conv is the full k×k convolution of x (Cin channels) with w [k,k,Cin,Cout].
// The lowered flavour concatenates the k·k shifted windows on the channel axis
// (im2col) and does one MatMul.
func (o Ops) Conv(x, w *Node, stride int) *Node {
	checkImage("Conv", x)
	k := checkKernel("Conv", w, 4)
	cin, cout := w.Shape().Dimensions[2], w.Shape().Dimensions[3]
	if cin != o.Channels(x) {
		exceptions.Panicf("convnet.Conv: weights shaped %s don't match input %s (want [k, k, Cin=%d, Cout])",
			w.Shape(), x.Shape(), o.Channels(x))
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
	y := o.weighted(x, w, func(x *Node) *Node { return refConv(x, w, stride) },
		func(w *Node, plain bool) (*Node, bool) { return o.conv(x, w, k, stride, plain) })
	if o.layout() == NHWC {
		// Folded: the columns' product, shift and ReLU as one FusedDense.
		setDense(y, func(w, bias *Node, act compute.ActivationType) *Node {
			cols, used := o.columns(x, k, stride)
			return BackendFusedDense(cols, tapRows(w, used), bias, compute.DenseConfig{Activation: compute.ActivationConfig{Type: act}})
		})
	}
	return y
}

// convTaps returns the taps of a k×k kernel that read some input of an
// h×w map at the given stride (on small maps the others read only
// padding): the rectangle [y0,y1)×[x0,x1) of the kernel, row-major, the
// order of the im2col columns (tap, then input channel).
func convTaps(h, w, k, stride int) (used [][2]int, y0, y1, x0, x1 int) {
	y0, y1 = newAxisGeom(h, k, stride).readRange()
	x0, x1 = newAxisGeom(w, k, stride).readRange()
	for dy := y0; dy < y1; dy++ {
		for dx := x0; dx < x1; dx++ {
			used = append(used, [2]int{dy, dx})
		}
	}
	return used, y0, y1, x0, x1
}

// columns returns the im2col of x for a k×k convolution: the windows of
// the taps that read some input (convTaps) concatenated on the channel
// axis; in CHWN that is axis 0, and they are taken all at once
// (stackedWindows).
func (o Ops) columns(x *Node, k, stride int) (cols *Node, used [][2]int) {
	src := newTapSource(x, k, stride)
	d := x.Shape().Dimensions
	used, _, _, _, _ = convTaps(d[1], d[2], k, stride)
	if o.layout() == CHWN {
		return src.stacked(used), used
	}
	windows := make([]*Node, len(used))
	for j, t := range used {
		windows[j] = src.at(t[0], t[1])
	}
	return Concatenate(windows, o.chanAxis()), used
}

// ReadTaps returns the taps [lo, hi) of a kernel of size k, along a spatial
// axis of n pixels with the given stride (TF SAME padding), that read some
// input: on small maps the others read only padding (all but the centre of a
// 5×5 kernel on a 1×1 map), and the lowered convolutions skip them. stride
// must be positive (SamePadding).
func ReadTaps(n, k, stride int) (lo, hi int) { return newAxisGeom(n, k, stride).readRange() }

// ConvReadTaps is Conv with a k×k kernel of which w holds only the taps that
// read some input of x: w is [y1−y0, x1−x0, Cin, Cout] with [y0, y1) and [x0,
// x1) the ReadTaps of x's height and width. The convolution, and its
// gradient, are Conv's with the other taps zero; a caller that keeps the
// full kernel elsewhere (a weight-sharing supernet) saves copying, and
// differentiating, the taps that only ever meet padding.
func (o Ops) ConvReadTaps(x, w *Node, k, stride int) *Node {
	checkImage("ConvReadTaps", x)
	checkStride("ConvReadTaps", stride)
	if k < 1 || k%2 != 1 {
		exceptions.Panicf("convnet.ConvReadTaps: kernel size must be odd and positive, got %d", k)
	}
	d := x.Shape().Dimensions
	y0, y1 := ReadTaps(d[1], k, stride)
	x0, x1 := ReadTaps(d[2], k, stride)
	if w.Rank() != 4 || w.Shape().Dimensions[0] != y1-y0 || w.Shape().Dimensions[1] != x1-x0 || w.Shape().Dimensions[2] != o.Channels(x) {
		exceptions.Panicf("convnet.ConvReadTaps: weights shaped %s don't match the read taps of a %dx%d kernel on input %s (want [%d, %d, Cin=%d, Cout])",
			w.Shape(), k, k, x.Shape(), y1-y0, x1-x0, o.Channels(x))
	}
	if y1-y0 == k && x1-x0 == k {
		return o.Conv(x, w, stride)
	}
	full := func() *Node { return window(w, []int{0, 1}, []int{-y0, -x0}, []int{k, k}) }
	if !o.Lowered {
		return o.Conv(x, full(), stride)
	}
	return o.weighted(x, w, func(x *Node) *Node { return refConv(x, full(), stride) },
		func(w *Node, plain bool) (*Node, bool) { return o.conv(x, w, k, stride, plain) })
}

// conv is the lowered Conv for k > 1 (plain: no gradient of its own). w is
// the k×k kernel, or only its taps that read some input (ConvReadTaps).
func (o Ops) conv(x, w *Node, k, stride int, plain bool) (*Node, bool) {
	cin, cout := w.Shape().Dimensions[2], w.Shape().Dimensions[3]
	d := x.Shape().Dimensions
	gh, gw := newAxisGeom(d[1], k, stride), newAxisGeom(d[2], k, stride)
	used, y0, y1, x0, x1 := convTaps(d[1], d[2], k, stride)
	// w's first tap in kernel coordinates, and whether it holds just the
	// used taps.
	wy, wx := 0, 0
	if w.Shape().Dimensions[0] != k || w.Shape().Dimensions[1] != k {
		wy, wx = y0, x0
	}
	whole := w.Shape().Dimensions[0] == y1-y0 && w.Shape().Dimensions[1] == x1-x0
	inW := func(ts [][2]int) [][2]int {
		in := make([][2]int, len(ts))
		for i, t := range ts {
			in[i] = [2]int{t[0] - wy, t[1] - wx}
		}
		return in
	}
	// The used taps' rows of w as [len(used)·Cin, Cout], channel order (tap,
	// cin).
	rows := tapRows(w, inW(used))
	if whole && constOf(w) == nil {
		rows = Reshape(w, len(used)*cin, cout)
	}
	var cols *Node // im2col, reused by the weight gradient.
	fwd := func() *Node {
		cols, _ = o.columns(x, k, stride)
		return o.channelMatMul(cols, rows, false)
	}
	if plain {
		return fwd(), true
	}
	out := shapes.Make(x.DType(), o.image(x.Shape().Dimensions[o.batchAxis()], gh.out, gw.out, cout)...)
	return withGradient([]*Node{x, w}, out, fwd,
		func(i int, g *Node) *Node {
			if i == 1 {
				dw := Reshape(o.channelGrad(cols, g), y1-y0, x1-x0, cin, cout)
				if whole {
					return dw
				}
				// Zeros for the taps that read only padding.
				return window(dw, []int{0, 1}, []int{-y0, -x0}, []int{k, k})
			}
			return transposed(g, gh, gw, func(set windowSet) *Node {
				// Transposed conv: windows of dy times the taps' wᵀ stacked,
				// as the transpose of [w_t0 | w_t1 | ...] ([Cin, taps·Cout]).
				wt := Reshape(Transpose(tapWeights(w, inW(set.taps)), 0, 1), cin, len(set.taps)*cout)
				if o.layout() == CHWN {
					return o.channelMatMul(set.stacked(), wt, true)
				}
				return o.channelMatMul(Concatenate(set.each(), o.chanAxis()), wt, true)
			})
		})
}

// convOnColumns is the lowered NHWC convolution with weights w [k,k,Cin,
// Cout] of the map whose im2col cols (columns of x: the taps used, then the
// input channels) was computed elsewhere (Staged, in Go): the product of
// Conv, foldable at inference, without a gradient of its own.
func (o Ops) convOnColumns(cols, w *Node, used [][2]int) *Node {
	mm := func(w *Node) *Node { return o.channelMatMul(cols, tapRows(w, used), false) }
	y := mm(w)
	recordFold(y, w, mm)
	setDense(y, func(w, bias *Node, act compute.ActivationType) *Node {
		return BackendFusedDense(cols, tapRows(w, used), bias, compute.DenseConfig{Activation: compute.ActivationConfig{Type: act}})
	})
	return y
}

// tapRows returns the rows of w [kh,kw,Cin,Cout] for the given taps as the
// matrix [len(taps)·Cin, Cout] (channel order (tap, cin)): a constant when
// w is one (the MatMul then packs it once).
func tapRows(w *Node, taps [][2]int) *Node {
	d := w.Shape().Dimensions
	if v := constOf(w); v != nil {
		return newConst(w.Graph(), tapValues(v, d[1], d[2]*d[3], taps), len(taps)*d[2], d[3])
	}
	return Reshape(tapWeights(w, taps), len(taps)*d[2], d[3])
}

// tapValues returns the weights of the given taps of a kernel held as
// values v [kh, kw, m] (m = Cin·Cout per tap), in the taps' order.
func tapValues(v []float32, kw, m int, taps [][2]int) []float32 {
	out := make([]float32, 0, len(taps)*m)
	for _, t := range taps {
		i := (t[0]*kw + t[1]) * m
		out = append(out, v[i:i+m]...)
	}
	return out
}

// tapWeights returns the weights [len(taps), Cin, Cout] of the given kernel
// taps of w [kh,kw,Cin,Cout]: one Gather (a block copy per tap; Slices copy
// value by value on the Go backend), computed once for known constants.
func tapWeights(w *Node, taps [][2]int) *Node {
	d := w.Shape().Dimensions
	if v := constOf(w); v != nil {
		return newConst(w.Graph(), tapValues(v, d[1], d[2]*d[3], taps), len(taps), d[2], d[3])
	}
	idx := make([]int32, 0, 2*len(taps))
	for _, t := range taps {
		idx = append(idx, int32(t[0]), int32(t[1]))
	}
	return Gather(w, Const(w.Graph(), tensors.FromFlatDataAndDimensions(idx, len(taps), 2)), true)
}

// Subsample returns x[:, ::stride, ::stride, :] (stride 1 or 2; in the ops'
// layout) — the input pixels a 1×1 convolution with TF SAME padding reads.
func (o Ops) Subsample(x *Node, stride int) *Node {
	checkImage("Subsample", x)
	checkStride("Subsample", stride)
	if stride == 1 {
		return x
	}
	if !o.Lowered {
		return Slice(x, AxisRange(), AxisRange().Stride(2), AxisRange().Stride(2))
	}
	ref := func(x *Node) *Node { return refTaps(x, 1, stride).at(0, 0) }
	if o.autodiff {
		return o.viaNHWC(ref, x)
	}
	src := newTapSource(x, 1, stride)
	dims := x.Shape().Dimensions
	out := x.Shape().Clone()
	out.Dimensions[1], out.Dimensions[2] = src.gh.out, src.gw.out
	y, ok := withGradient([]*Node{x}, out,
		func() *Node { return src.at(0, 0) },
		func(_ int, g *Node) *Node { return upsample2(g, dims[1], dims[2]) })
	if !ok {
		return o.viaNHWC(ref, x)
	}
	return y
}

// channelMatMul contracts the channel axis of x (4-D, K channels) with a
// matrix: y[.., n] = Σ_k x[.., k]·m[k, n], m = w ([K, N]) or, transposed,
// wᵀ (w [N, K]).
//
// The operand orders are those the Go backend's MatMul runs without
// transposing or reshaping the activation (it takes any rank when the
// contracted axes are contiguous): NHWC x·m ([P,K]×[K,N], or [P,K]×[N,K]ᵀ),
// CHWN mᵀ·x ([N,K]×[K,P]; the small mᵀ is transposed when m is given as
// [K,N]). A Reshape would copy x whenever x has other users (the backward
// pass, a residual).
func (o Ops) channelMatMul(x, w *Node, transposed bool) *Node {
	if o.layout() == CHWN {
		mt := w // mᵀ as [N, K]
		if !transposed {
			mt = transposeMatrix(w)
		}
		return DotGeneral(mt, []int{1}, nil, x, []int{0}, nil)
	}
	if transposed {
		return DotGeneral(x, []int{3}, nil, w, []int{1}, nil)
	}
	return DotGeneral(x, []int{3}, nil, w, []int{0}, nil)
}

// channelGrad returns the weight gradient [K, N] of channelMatMul(x, w,
// false) from x and dy (4-D, N channels): Σ over pixels of x[.., k]·dy[.., n].
func (o Ops) channelGrad(x, dy *Node) *Node {
	if o.layout() == CHWN {
		// x [K,P] · dyᵀ: both contract their rows (row-major), the MatMul's
		// "transposed" layout.
		return DotGeneral(x, []int{1, 2, 3}, nil, dy, []int{1, 2, 3}, nil)
	}
	d := x.Shape().Dimensions
	n := d[0] * d[1] * d[2]
	return rowsGrad(Reshape(x, n, d[3]), Reshape(dy, n, dy.Shape().Dimensions[3]))
}

// rowsGrad returns x2ᵀ·dy2 [K, N] for x2 [P, K] and dy2 [P, N]. The MatMul
// wants the contracted (row) axis last on the left operand, so one operand
// must be transposed: the narrower one.
func rowsGrad(x2, dy2 *Node) *Node {
	if x2.Shape().Dimensions[1] <= dy2.Shape().Dimensions[1] {
		return DotGeneral(Transpose(x2, 0, 1), []int{1}, nil, dy2, []int{0}, nil)
	}
	return Transpose(DotGeneral(Transpose(dy2, 0, 1), []int{1}, nil, x2, []int{0}, nil), 0, 1)
}

// Dense is the product x [B, in] · w [in, out] of a fully connected layer.
// The lowered flavour writes out its gradient: gomlx's MatMul gradient
// transposes the [in, out] weight gradient on the Go backend (for the
// 480×1280 hidden layer of MobileNet heads, more time than the product);
// this transposes the smaller of x and dy instead.
func (o Ops) Dense(x, w *Node) *Node {
	if x.Rank() != 2 || w.Rank() != 2 || x.Shape().Dimensions[1] != w.Shape().Dimensions[0] {
		exceptions.Panicf("convnet.Dense: input %s and weights %s don't make a product [B, in]·[in, out]", x.Shape(), w.Shape())
	}
	if !o.Lowered || o.autodiff {
		return MatMul(x, w)
	}
	if v := constOf(w); v != nil && x.Shape().Dimensions[0] == 1 {
		// One image at inference: wᵀ·xᵀ with wᵀ computed once, the MatMul's
		// "transposed" layout (x·w, a single row against a 1280×1001
		// classifier, runs 5x slower), as a batch of two halves of wᵀ
		// against x: the backend runs one small product on one core, the
		// products of a batch on all (a product of one row reads the whole
		// matrix: memory bound).
		in, out := w.Shape().Dimensions[0], w.Shape().Dimensions[1]
		half := (out + 1) / 2
		wt := make([]float32, 2*half*in) // [2, half, in], a zero row if out is odd
		for i := range in {
			for j := range out {
				wt[j*in+i] = v[i*out+j]
			}
		}
		xb := BroadcastToDims(Reshape(x, 1, 1, in), 2, 1, in)
		y := DotGeneral(newConst(w.Graph(), wt, 2, half, in), []int{2}, []int{0}, xb, []int{2}, []int{0}) // [2, half, 1]
		y = Reshape(y, 1, 2*half)
		if 2*half != out {
			y = Slice(y, AxisRange(), AxisRange(0, out))
		}
		return y
	}
	fwd := func() *Node { return DotGeneral(x, []int{1}, nil, w, []int{0}, nil) }
	out := shapes.Make(x.DType(), x.Shape().Dimensions[0], w.Shape().Dimensions[1])
	y, ok := withGradient([]*Node{x, w}, out, fwd, func(i int, dy *Node) *Node {
		if i == 0 {
			return DotGeneral(dy, []int{1}, nil, w, []int{1}, nil)
		}
		return rowsGrad(x, dy)
	})
	if !ok {
		return MatMul(x, w)
	}
	return y
}

// Crop returns x[starts[i] : starts[i]+sizes[i]] on every axis, like Slice,
// with a cheaper gradient on the Go backend: gomlx's gradient of Slice
// zero-fills the whole of x value by value before copying the slice's
// gradient in (for a supernet's shared 5×5×256×1536 kernel, more time than
// the convolution); here copies and concatenated zeros (see window) build it.
func Crop(x *Node, starts, sizes []int) *Node {
	if len(starts) != x.Rank() || len(sizes) != x.Rank() {
		exceptions.Panicf("convnet.Crop: %d starts and %d sizes for a rank-%d input %s", len(starts), len(sizes), x.Rank(), x.Shape())
	}
	dims := x.Shape().Dimensions
	axes, back := make([]int, x.Rank()), make([]int, x.Rank())
	for a := range axes {
		if starts[a] < 0 || sizes[a] < 1 || starts[a]+sizes[a] > dims[a] {
			exceptions.Panicf("convnet.Crop: [%d, %d) outside axis %d of %s", starts[a], starts[a]+sizes[a], a, x.Shape())
		}
		axes[a], back[a] = a, -starts[a]
	}
	fwd := func() *Node { return window(x, axes, starts, sizes) }
	y, ok := withGradient([]*Node{x}, shapes.Make(x.DType(), sizes...), fwd,
		func(_ int, dy *Node) *Node { return window(dy, axes, back, dims) })
	if !ok {
		specs := make([]SliceAxisSpec, x.Rank())
		for a := range specs {
			specs[a] = AxisRange(starts[a], starts[a]+sizes[a])
		}
		return Slice(x, specs...)
	}
	return y
}

// viaNHWC applies an NHWC function to activations in the ops' layout.
func (o Ops) viaNHWC(fn func(x *Node) *Node, x *Node) *Node {
	if o.layout() == NHWC {
		return fn(x)
	}
	return o.In(fn(o.Out(x)))
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
		exceptions.Panicf("convnet.%s: input must be a batch of images (rank 4, NHWC or CHWN), got shape %s", op, x.Shape())
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

// The reference lowering (NHWC): Slices and a padded input, differentiated by
// gomlx.

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
