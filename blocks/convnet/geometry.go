package convnet

import (
	"slices"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Index geometry of the lowered convolutions on one spatial axis. With TF SAME
// padding, output i of kernel tap d reads input s·i + d − lo.

// SamePadding returns TF "SAME" padding for one spatial axis: the padding
// before and after the input and the output size ceil(in/stride). stride
// must be positive (it divides by it).
func SamePadding(in, kernel, stride int) (lo, hi, out int) {
	out = (in + stride - 1) / stride
	total := max((out-1)*stride+kernel-in, 0)
	lo = total / 2
	return lo, total - lo, out
}

type axisGeom struct {
	n, k, s, lo, out int
}

func newAxisGeom(n, k, s int) axisGeom {
	lo, _, out := SamePadding(n, k, s)
	return axisGeom{n: n, k: k, s: s, lo: lo, out: out}
}

// half is the length of a parity (phase) of the axis for stride 2.
func (a axisGeom) half() int { return (a.n + 1) / 2 }

// fwdTap returns where tap d reads: the input parity q (stride 2 only) and the
// offset of the window in the (parity) axis: out[i] = in[i + off].
func (a axisGeom) fwdTap(d int) (q, off int) {
	if a.s == 1 {
		return 0, d - a.lo
	}
	r := d - a.lo
	q = ((r % 2) + 2) % 2
	return q, (r - q) / 2
}

// reads reports whether tap d reads any input element (not only padding). On
// small feature maps most taps of a large kernel fall in the padding (all of a
// 5×5 kernel's but the centre on a 1×1 map): they are skipped.
func (a axisGeom) reads(d int) bool {
	for i := range a.out {
		if j := a.s*i + d - a.lo; j >= 0 && j < a.n {
			return true
		}
	}
	return false
}

// readRange returns the taps that read some input, [lo, hi) (reads(d) for
// every d in it, none outside: the tap reads input index s·i + d − lo for
// some output i exactly when d is in that range).
func (a axisGeom) readRange() (lo, hi int) {
	lo, hi = a.k, 0
	for d := range a.k {
		if a.reads(d) {
			lo, hi = min(lo, d), d+1
		}
	}
	return lo, hi
}

// tapOff is one term of the transposed convolution: output (input-gradient)
// phase element m reads dy[m + off] through kernel tap d.
type tapOff struct{ d, off int }

// bwdTaps lists, for input phase p (p = 0 for stride 1), the taps that reach
// it and where they read dy. Phase p holds input indices s·m + p.
func (a axisGeom) bwdTaps(p int) []tapOff {
	var taps []tapOff
	for d := range a.k {
		if !a.reads(d) {
			continue // Its gradient is all padding.
		}
		if a.s == 1 {
			taps = append(taps, tapOff{d, a.lo - d})
			continue
		}
		if ((p+a.lo-d)%2+2)%2 != 0 {
			continue
		}
		taps = append(taps, tapOff{d, (p + a.lo - d) / 2})
	}
	return taps
}

// phaseLen is the number of rows computed per input phase in the backward pass.
func (a axisGeom) phaseLen() int {
	if a.s == 1 {
		return a.n
	}
	return a.half()
}

// window returns out[.., i, ..] = x[.., i + offs[j], ..] on axes[j], with the
// given output lengths, zero outside x: the part inside x is one GatherSlices
// (a block copy per contiguous run), the zeros are concatenated along each
// axis that needs them. On the Go backend a Pad with negative padding (a
// crop) first zero-fills its whole output value by value, then copies the
// runs: 2-4x slower (BenchmarkShift, 1-pixel shifts), 7x on the narrow runs
// of a parity split; a Slice copies value by value.
func window(x *Node, axes, offs, lens []int) *Node {
	dims := x.Shape().Dimensions
	start, size := make([]int, x.Rank()), slices.Clone(dims)
	lo, hi := make([]int, x.Rank()), make([]int, x.Rank())
	crop := false
	for j, axis := range axes {
		n, off, l := dims[axis], offs[j], lens[j]
		// Output i reads input i + off: inside x for i in [a, b).
		a, b := max(0, -off), min(l, n-off)
		if b <= a { // Only zeros.
			out := slices.Clone(dims)
			for k, ax := range axes {
				out[ax] = lens[k]
			}
			return Zeros(x.Graph(), shapes.Make(x.DType(), out...))
		}
		start[axis], size[axis], lo[axis], hi[axis] = a+off, b-a, a, l-b
		if start[axis] != 0 || size[axis] != n {
			crop = true
		}
	}
	y := x
	if crop {
		idx := make([]int32, len(start))
		for i, v := range start {
			idx[i] = int32(v)
		}
		all := make([]int, x.Rank())
		for i := range all {
			all[i] = i
		}
		y = GatherSlices(x, all, Const(x.Graph(), idx), size, true)
	}
	for axis := range dims {
		if lo[axis] == 0 && hi[axis] == 0 {
			continue
		}
		parts := make([]*Node, 0, 3)
		zeros := func(n int) *Node {
			d := slices.Clone(y.Shape().Dimensions)
			d[axis] = n
			return Zeros(x.Graph(), shapes.Make(x.DType(), d...))
		}
		if lo[axis] > 0 {
			parts = append(parts, zeros(lo[axis]))
		}
		parts = append(parts, y)
		if hi[axis] > 0 {
			parts = append(parts, zeros(hi[axis]))
		}
		y = Concatenate(parts, axis)
	}
	return y
}

// stackedWindows returns the windows window(x, axes, offs[j], lens) of every
// j, concatenated on axis 0 (the channels of CHWN: an im2col). x is cropped
// or zero-padded once to the region the windows read, and one GatherSlices
// copies every window out of it: one copy per window, where windows built
// one by one cost a crop, a zero concatenation per padded axis and the final
// concatenation (up to four copies; BenchmarkConvWindows). axes must be
// increasing.
func stackedWindows(x *Node, axes []int, offs [][]int, lens []int) *Node {
	if len(offs) == 1 {
		return window(x, axes, offs[0], lens)
	}
	lo, n := slices.Clone(offs[0]), make([]int, len(axes))
	hi := make([]int, len(axes))
	for j := range axes {
		hi[j] = offs[0][j] + lens[j]
		for _, o := range offs[1:] {
			lo[j], hi[j] = min(lo[j], o[j]), max(hi[j], o[j]+lens[j])
		}
		n[j] = hi[j] - lo[j]
	}
	region := window(x, axes, lo, n)
	starts := make([]int32, 0, len(offs)*len(axes))
	sorted := true
	for i, o := range offs {
		for j := range axes {
			starts = append(starts, int32(o[j]-lo[j]))
		}
		if i > 0 && slices.Compare(offs[i-1], o) > 0 {
			sorted = false
		}
	}
	sizes := make([]int, len(axes))
	copy(sizes, lens)
	g := GatherSlices(region, axes, Const(x.Graph(), tensors.FromFlatDataAndDimensions(starts, len(offs), len(axes))), sizes, sorted)
	dims := slices.Clone(g.Shape().Dimensions[1:])
	dims[0] *= len(offs)
	return Reshape(g, dims...)
}

// tapSource holds the input of a lowered convolution (4-D, spatial axes 1
// and 2, either layout) prepared for reading forward taps: as is for stride
// 1, split into parities for stride 2.
type tapSource struct {
	gh, gw axisGeom
	x      *Node // stride 1: [A,H,W,Z]; stride 2: [A,H/2,2,W/2,2,Z]
}

func newTapSource(x *Node, k, stride int) *tapSource {
	dims := x.Shape().Dimensions
	t := &tapSource{gh: newAxisGeom(dims[1], k, stride), gw: newAxisGeom(dims[2], k, stride), x: x}
	if stride == 2 {
		// Even sizes for the parity split (the extra row/column is never read).
		hh, hw := t.gh.half(), t.gw.half()
		x = window(x, []int{1, 2}, []int{0, 0}, []int{2 * hh, 2 * hw})
		t.x = Reshape(x, dims[0], hh, 2, hw, 2, dims[3])
	}
	return t
}

// reads reports whether kernel tap (dy, dx) reads any input element.
func (t *tapSource) reads(dy, dx int) bool { return t.gh.reads(dy) && t.gw.reads(dx) }

// at returns the [A,outH,outW,Z] window that kernel tap (dy, dx) reads.
func (t *tapSource) at(dy, dx int) *Node {
	qy, oy := t.gh.fwdTap(dy)
	qx, ox := t.gw.fwdTap(dx)
	if t.gh.s == 1 {
		return window(t.x, []int{1, 2}, []int{oy, ox}, []int{t.gh.out, t.gw.out})
	}
	w := window(t.x, []int{1, 2, 3, 4}, []int{oy, qy, ox, qx}, []int{t.gh.out, 1, t.gw.out, 1})
	dims := t.x.Shape().Dimensions
	return Reshape(w, dims[0], t.gh.out, t.gw.out, dims[5])
}

// stacked returns the windows of the given taps concatenated on axis 0 (the
// channels of CHWN), as [len(taps)·A, outH, outW, Z] (see stackedWindows).
func (t *tapSource) stacked(taps [][2]int) *Node {
	offs := make([][]int, len(taps))
	var axes, lens []int
	for j, tap := range taps {
		qy, oy := t.gh.fwdTap(tap[0])
		qx, ox := t.gw.fwdTap(tap[1])
		if t.gh.s == 1 {
			offs[j], axes, lens = []int{oy, ox}, []int{1, 2}, []int{t.gh.out, t.gw.out}
		} else {
			offs[j], axes, lens = []int{oy, qy, ox, qx}, []int{1, 2, 3, 4}, []int{t.gh.out, 1, t.gw.out, 1}
		}
	}
	w := stackedWindows(t.x, axes, offs, lens)
	dims := t.x.Shape().Dimensions
	return Reshape(w, len(taps)*dims[0], t.gh.out, t.gw.out, dims[len(dims)-1])
}

// windowSet is the windows of dy that the taps reaching one input phase read
// (see transposed): each is window(dy, [1, 2], offs[j], lens).
type windowSet struct {
	dy   *Node
	offs [][]int
	lens []int
	taps [][2]int
}

// each returns the windows one by one.
func (s windowSet) each() []*Node {
	w := make([]*Node, len(s.offs))
	for j, o := range s.offs {
		w[j] = window(s.dy, []int{1, 2}, o, s.lens)
	}
	return w
}

// stacked returns the windows concatenated on axis 0 (stackedWindows).
func (s windowSet) stacked() *Node { return stackedWindows(s.dy, []int{1, 2}, s.offs, s.lens) }

// transposed builds the input gradient of a lowered convolution from dy
// (4-D, spatial axes 1 and 2, either layout): for each input phase,
// term(taps) combines the windows of dy for the taps reaching that phase
// (each window with its tap, spatially phaseH×phaseW) into the phase's part
// of the gradient, or returns nil when no tap reaches it (zero). The phases
// are interleaved back into the input's spatial size.
func transposed(dy *Node, gh, gw axisGeom, term func(windows windowSet) *Node) *Node {
	ph, pw := gh.phaseLen(), gw.phaseLen()
	phase := func(py, px int) *Node {
		set := windowSet{dy: dy, lens: []int{ph, pw}}
		for _, ty := range gh.bwdTaps(py) {
			for _, tx := range gw.bwdTaps(px) {
				set.offs = append(set.offs, []int{ty.off, tx.off})
				set.taps = append(set.taps, [2]int{ty.d, tx.d})
			}
		}
		if len(set.offs) == 0 {
			return nil
		}
		return term(set)
	}
	if gh.s == 1 {
		return phase(0, 0)
	}
	// Interleave: [A,ph,1,pw,1,Z] parts concatenated on the parity axes give
	// [A,ph,2,pw,2,Z], i.e. [A,2ph,2pw,Z]. Missing phases are zero: pad instead.
	var a, z int // The outer axes of the phases.
	split := func(p *Node) *Node {
		d := p.Shape().Dimensions
		a, z = d[0], d[3]
		return Reshape(p, a, ph, 1, pw, 1, z)
	}
	var rows []*Node
	for py := range 2 {
		p0, p1 := phase(py, 0), phase(py, 1)
		var row *Node
		switch {
		case p0 != nil && p1 != nil:
			row = Concatenate([]*Node{split(p0), split(p1)}, 4)
		case p0 != nil:
			row = window(split(p0), []int{4}, []int{0}, []int{2})
		case p1 != nil:
			row = window(split(p1), []int{4}, []int{-1}, []int{2})
		}
		rows = append(rows, row)
	}
	var full *Node
	switch {
	case rows[0] != nil && rows[1] != nil:
		full = Concatenate(rows, 2)
	case rows[0] != nil:
		full = window(rows[0], []int{2}, []int{0}, []int{2})
	default:
		full = window(rows[1], []int{2}, []int{-1}, []int{2})
	}
	full = Reshape(full, a, 2*ph, 2*pw, z)
	return window(full, []int{1, 2}, []int{0, 0}, []int{gh.n, gw.n})
}

// upsample2 is the transpose of subsampling by 2: g [A,h,w,Z] placed at the
// even rows and columns of an [A,H,W,Z] zero tensor (H ∈ {2h−1, 2h}). One
// Pad of g seen as [A,h,1,w,1,Z] (not Pad's interior padding, which ONNX
// Runtime lacks), and a crop for odd sizes.
func upsample2(g *Node, h, w int) *Node {
	d := g.Shape().Dimensions
	x := Reshape(g, d[0], d[1], 1, d[2], 1, d[3])
	x = window(x, []int{2, 4}, []int{0, 0}, []int{2, 2})
	x = Reshape(x, d[0], 2*d[1], 2*d[2], d[3])
	return window(x, []int{1, 2}, []int{0, 0}, []int{h, w})
}
