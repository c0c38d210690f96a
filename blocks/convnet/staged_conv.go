package convnet

import (
	"sync"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/support/exceptions"

	"github.com/multihw/multihw/blocks"
)

// A full k×k convolution at inference (the stem, the expansion of a fused
// inverted bottleneck) as a Go stage: its im2col columns (im2colDirect) and
// their product with the folded weights (pointwiseDirect), with the residual
// addition that may follow it. The one graph builds the same two steps
// (Ops.Conv: the windows concatenated, one FusedDense), where the windows are
// copies of runs of a few values; Go writes them in one pass, and the product
// skips the backend's packing of the activations (mobilenet_edgetpu at 224 px:
// 21 → 10-11 ms a batch-1 inference).
//
// On small maps some taps read only padding and the graph leaves them out of
// its columns (convTaps): the stage does the same, with the weights of the
// taps it keeps, so that its sums are the graph's whatever the input's size.

// convStage is a full convolution with folded BatchNorm.
type convStage struct {
	k, stride, in, out int // in: the input's channels
	act                blocks.Activation
	norm               *InputNorm
	// w ([k·k·in, out], rows by tap then channel) and bias are the folded
	// weights; all is their packed product, byTaps that of the taps a
	// smaller map reads (keyed by their rectangle), made on first use.
	w, bias []float32
	all     *directPW
	mu      sync.Mutex
	byTaps  map[[4]int]*directPW
	// cols and normed hold scratch slices (*[]float32) of the columns and
	// of the normalised images: one pool each, so that a Get returns a
	// slice of the size it needs.
	cols, normed sync.Pool
}

// newConvStage makes the stage of the layer op with folded weights w and
// bias; norm, if not nil, normalises its input (the images) first.
func newConvStage(op netOp, w, bias []float32, norm *InputNorm) (*convStage, error) {
	o := op.op
	all, err := newDirectPW(w, bias, o.Kernel*o.Kernel*o.In, o.Out, o.Act)
	if err != nil {
		return nil, err
	}
	return &convStage{k: o.Kernel, stride: o.Stride, in: o.In, out: o.Out, act: o.Act, norm: norm, w: w, bias: bias, all: all,
		byTaps: map[[4]int]*directPW{}}, nil
}

// product returns the packed product of the taps used, the rectangle
// [y0,y1)×[x0,x1) of the kernel (convTaps).
func (c *convStage) product(used [][2]int, y0, y1, x0, x1 int) (*directPW, error) {
	if len(used) == c.k*c.k {
		return c.all, nil
	}
	key := [4]int{y0, y1, x0, x1}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.byTaps[key]; p != nil {
		return p, nil
	}
	p, err := newDirectPW(tapValues(c.w, c.k, c.in*c.out, used), c.bias, len(used)*c.in, c.out, c.act)
	if err != nil {
		return nil, err
	}
	c.byTaps[key] = p
	return p, nil
}

// buffer returns a scratch slice of n values from pool; put it back.
func buffer(pool *sync.Pool, n int) *[]float32 {
	b, _ := pool.Get().(*[]float32)
	if b == nil || cap(*b) < n {
		b = new(make([]float32, n))
	}
	*b = (*b)[:n]
	return b
}

// run computes the convolution of x (NHWC [batch, h, w, in], flat) into y
// (NHWC [batch, oh, ow, out]), adding res (y's shape) when it is not nil.
func (c *convStage) run(x []float32, batch, h, w int, res, y []float32) {
	gh, gw := newAxisGeom(h, c.k, c.stride), newAxisGeom(w, c.k, c.stride)
	used, y0, y1, x0, x1 := convTaps(h, w, c.k, c.stride)
	p, err := c.product(used, y0, y1, x0, x1)
	if err != nil {
		panic(err)
	}
	m := batch * gh.out * gw.out
	cols := buffer(&c.cols, m*c.k*c.k*c.in)
	defer c.cols.Put(cols)
	var normed []float32 // im2colDirect's scratch for the normalised images
	if c.norm != nil {
		b := buffer(&c.normed, len(x))
		defer c.normed.Put(b)
		normed = *b
	}
	im2colDirect(x, batch, h, w, c.in, c.k, c.stride, c.norm, *cols, normed)
	in := *cols
	if len(used) < c.k*c.k {
		// Keep the used taps' runs of each pixel's columns, in place (a
		// pixel's kept runs never pass its full ones).
		full, kept := c.k*c.k*c.in, len(used)*c.in
		for i := range m {
			o := i * kept
			for _, t := range used {
				s := i*full + (t[0]*c.k+t[1])*c.in
				copy(in[o:o+c.in], in[s:s+c.in])
				o += c.in
			}
		}
		in = in[:m*kept]
	}
	pointwiseDirect(p, in, m, res, y)
}

// conv runs a convolution stage on x, adding res when it is not nil, into
// y (see output).
func (s *Staged) conv(c *convStage, x, res, y *tensors.Tensor) *tensors.Tensor {
	d := x.Shape().Dimensions
	if x.Rank() != 4 || x.DType() != dtypes.Float32 || d[3] != c.in {
		exceptions.Panicf("%dx%d convolution stage: input %s for %d→%d channels", c.k, c.k, x.Shape(), c.in, c.out)
	}
	gh, gw := newAxisGeom(d[1], c.k, c.stride), newAxisGeom(d[2], c.k, c.stride)
	y = s.output(y, d[0], gh.out, gw.out, c.out)
	if res != nil && !res.Shape().Equal(y.Shape()) {
		exceptions.Panicf("%dx%d convolution stage: residual %s for an output %s", c.k, c.k, res.Shape(), y.Shape())
	}
	tensors.MustConstFlatData(x, func(in []float32) {
		tensors.MustMutableFlatData(y, func(out []float32) {
			switch res {
			case nil:
				c.run(in, d[0], d[1], d[2], nil, out)
			case x: // a block adding its input to a convolution of it: one lock
				c.run(in, d[0], d[1], d[2], in, out)
			default:
				tensors.MustConstFlatData(res, func(r []float32) { c.run(in, d[0], d[1], d[2], r, out) })
			}
		})
	})
	return y
}
