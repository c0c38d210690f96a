package convnet

import (
	"fmt"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/parallel"
)

// A depthwise convolution at inference as one pass over the map, in Go. The
// Go backend has no op for it: lowered, each kernel tap costs a window copy,
// a multiply and an add over the whole map, and those element-wise passes
// were about half the time of a batch-1 MultiAVG inference (PERFORMANCE.md);
// its grouped ConvGeneral is a scalar loop with index arithmetic per value,
// 5-10x slower still. Staged runs the networks' depthwise convolutions
// through this function between graph segments.
//
// The sums are those of the lowered graph (Ops.Depthwise in NHWC), in the
// same order, each product rounded before it is added (no fused
// multiply-add): at stride 1, Σ_dy (Σ_dx x·w) (depthwiseSeparable's rows,
// then their sum); at stride 2, Σ over the taps in row-major order
// (depthwiseTaps); then + bias and the activation. Taps outside the input
// add nothing, where the graph adds a zero product: the results are the
// same floats but for the sign of a zero.

// dwActivation is an activation as the kernels apply it.
type dwActivation int

const (
	dwLinear dwActivation = iota
	dwReLU
	dwReLU6
)

// apply applies the activation to one value.
func (a dwActivation) apply(v float32) float32 {
	switch a {
	case dwReLU:
		return max(v, 0)
	case dwReLU6:
		return min(max(v, 0), 6)
	}
	return v
}

func dwActivationOf(act blocks.Activation) (dwActivation, error) {
	switch act {
	case "":
		return dwLinear, nil
	case blocks.ReLU:
		return dwReLU, nil
	case blocks.ReLU6:
		return dwReLU6, nil
	}
	return 0, fmt.Errorf("convnet: unsupported activation %q", act)
}

// dwTask is a depthwise convolution for depthwiseDirect: NHWC x [batch, h,
// wd, c], weights w [k, k, c], bias [c], output y [batch, gh.out, gw.out,
// c]. separable selects the stride-1 order of the sums (see above).
type dwTask struct {
	x, w, bias, y []float32
	h, wd, c, k   int
	gh, gw        axisGeom
	separable     bool
	act           dwActivation
}

// pixel returns, for output pixel (b, oh, ow), the taps [dy0, dy1) ×
// [dx0, dx1) that read inside the input, the offset in x of tap (0, 0)
// (tap (dy, dx) reads x[xo + (dy·wd + dx)·c + channel]) and the offset of
// the pixel in y.
func (t *dwTask) pixel(b, oh, ow int) (dy0, dy1, dx0, dx1, xo, yo int) {
	dy0, dy1 = t.gh.tapRange(oh)
	dx0, dx1 = t.gw.tapRange(ow)
	ih, iw := oh*t.gh.s-t.gh.lo, ow*t.gw.s-t.gw.lo // may be outside: taps offset them
	return dy0, dy1, dx0, dx1, ((b*t.h+ih)*t.wd + iw) * t.c, ((b*t.gh.out+oh)*t.gw.out + ow) * t.c
}

// dwVector, when set (AVX-512), computes the output rows [r0, r1) (row r:
// image r / gh.out, row r % gh.out) in blocks of 16 channels and returns
// how many channels it computed; dwScalar computes the others.
var dwVector func(t *dwTask, r0, r1 int) int

// dwScalar computes the output rows [r0, r1) for the channels from `from`
// on, one value at a time.
func dwScalar(t *dwTask, r0, r1, from int) {
	c, k := t.c, t.k
	for r := r0; r < r1; r++ {
		for ow := range t.gw.out {
			dy0, dy1, dx0, dx1, xo, yo := t.pixel(r/t.gh.out, r%t.gh.out, ow)
			for ch := from; ch < c; ch++ {
				var acc float32
				first := true
				for dy := dy0; dy < dy1; dy++ {
					xr, wr := xo+dy*t.wd*c+ch, dy*k*c+ch
					if t.separable { // One term per row: the row's sum.
						if dx1 <= dx0 {
							continue
						}
						row := float32(t.x[xr+dx0*c] * t.w[wr+dx0*c])
						for dx := dx0 + 1; dx < dx1; dx++ {
							row += float32(t.x[xr+dx*c] * t.w[wr+dx*c])
						}
						if first {
							acc, first = row, false
						} else {
							acc += row
						}
						continue
					}
					for dx := dx0; dx < dx1; dx++ {
						v := float32(t.x[xr+dx*c] * t.w[wr+dx*c])
						if first {
							acc, first = v, false
						} else {
							acc += v
						}
					}
				}
				t.y[yo+ch] = t.act.apply(acc + t.bias[ch])
			}
		}
	}
}

// depthwiseDirect computes y = act(depthwise(x, w, stride) + bias) for NHWC
// x [batch, h, wd, C] (flat), weights w [k, k, C] and bias [C], TF SAME
// padding, into y [batch, ceil(h/stride), ceil(wd/stride), C], splitting the
// output rows over the available cores.
func depthwiseDirect(x []float32, batch, h, wd, c int, w []float32, k, stride int, bias []float32, act dwActivation, y []float32) {
	t := &dwTask{x: x, w: w, bias: bias, y: y, h: h, wd: wd, c: c, k: k,
		gh: newAxisGeom(h, k, stride), gw: newAxisGeom(wd, k, stride), separable: stride == 1, act: act}
	if len(x) != batch*h*wd*c || len(w) != k*k*c || len(bias) != c || len(y) != batch*t.gh.out*t.gw.out*c {
		panic(fmt.Sprintf("convnet.depthwiseDirect: %d inputs, %d weights, %d biases, %d outputs for batch %d, %dx%dx%d, k %d, stride %d",
			len(x), len(w), len(bias), len(y), batch, h, wd, c, k, stride))
	}
	rows := batch * t.gh.out
	run := func(r0, r1 int) {
		from := 0
		if dwVector != nil {
			from = dwVector(t, r0, r1)
		}
		if from < c {
			dwScalar(t, r0, r1, from)
		}
	}
	// At most one goroutine per 16k values written.
	parallel.Ranges(rows, max(1, len(y)/(1<<14)), run)
}

// tapRange returns the taps [lo, hi) that output i reads inside the axis
// (input s·i + d − lo ∈ [0, n)).
func (a axisGeom) tapRange(i int) (lo, hi int) {
	start := a.s*i - a.lo
	return max(0, -start), min(a.k, a.n-start)
}

// im2colDirect writes the columns of a k×k convolution at the given stride
// (TF SAME) of NHWC x [batch, h, wd, c] into cols [batch, oh, ow, k·k·c]:
// per output pixel every tap (dy, dx) in row-major order, then the
// channels, zero where the tap reads padding, and the values read
// normalised by norm when it is not nil (padding stays zero: the graph pads
// the normalised images). The columns are the Concatenate of the graph's
// windows (Ops.columns) with all taps: on small maps the graph leaves out
// taps that read only padding, whose zero columns add nothing to a product.
//
// scratch, when norm is set, receives the normalised images (len(x) values).
func im2colDirect(x []float32, batch, h, wd, c, k, stride int, norm *InputNorm, cols, scratch []float32) {
	gh, gw := newAxisGeom(h, k, stride), newAxisGeom(wd, k, stride)
	if len(x) != batch*h*wd*c || len(cols) != batch*gh.out*gw.out*k*k*c || (norm != nil && norm.check(c) != nil) {
		panic(fmt.Sprintf("convnet.im2colDirect: %d inputs, %d columns for batch %d, %dx%dx%d, k %d, stride %d",
			len(x), len(cols), batch, h, wd, c, k, stride))
	}
	if norm != nil { // Once per value, not per tap reading it.
		scratch = scratch[:len(x)]
		// By image row, against the constants tiled over a row: no
		// division per value (i % c made this loop dearer than the columns
		// themselves); over the cores; the operations of InputNorm.Graph.
		n := wd * c
		sub, mul := norm.row(wd)
		parallel.Ranges(batch*h, max(1, len(x)/(1<<15)), func(r0, r1 int) {
			for r := r0; r < r1; r++ {
				src, dst := x[r*n:(r+1)*n], scratch[r*n:(r+1)*n]
				for j, v := range src {
					dst[j] = (v - sub[j]) * mul[j]
				}
			}
		})
		x = scratch
	}
	rows := batch * gh.out
	run := func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			b, oh := r/gh.out, r%gh.out
			for ow := range gw.out {
				o := ((b*gh.out+oh)*gw.out + ow) * k * k * c
				dx0, dx1 := gw.tapRange(ow)
				iw0 := ow*stride - gw.lo
				for dy := range k {
					row := cols[o+dy*k*c : o+(dy+1)*k*c]
					ih := oh*stride + dy - gh.lo
					if ih < 0 || ih >= h {
						clear(row)
						continue
					}
					// The taps dx0..dx1 of a row read adjacent pixels: one copy.
					clear(row[:dx0*c])
					i := ((b*h+ih)*wd + iw0 + dx0) * c
					copy(row[dx0*c:dx1*c], x[i:i+(dx1-dx0)*c])
					clear(row[dx1*c:])
				}
			}
		}
	}
	parallel.Ranges(rows, max(1, len(cols)/(1<<15)), run)
}
