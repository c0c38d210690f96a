package convnet

import (
	"fmt"

	"github.com/multihw/multihw/blocks"
)

// A 1×1 convolution at inference (folded BatchNorm, an activation, and the
// residual addition that may follow it) as one pass in Go, where an AVX-512
// kernel exists (pointwise_simd.go; elsewhere Staged leaves these ops to the
// graph). The backend runs them as FusedDense (and, for ReLU6, a clip),
// whose MatMul reaches 7-30 GMAC/s on the thin products of a batch-1
// network: it packs the activations on every call and splits the work over
// the cores with more overhead than such products carry. Here the weights
// are packed once, when the Staged is made, the activations are read in
// place, and the bias, activation and residual addition are applied while
// the output tile is in registers.
//
// The sums are the backend's, in the same order, so the outputs are the same
// floats (pointwiseAVX512 says which order for which product), then + bias,
// the activation, + the residual (the graph's separate Add).

// pwPanel is the contraction panel of the Go backend's AVX-512 float32
// MatMul (its AVX512ParamsFloat32.PanelContractingSize): the sums are
// rounded per panel. TestPointwiseDirectMatchesFusedDense fails if the
// backend changes it.
const pwPanel = 192

// pwLargeMin is the fewest multiply-adds of a product the Go backend's
// MatMul runs on its packed (large) path (matmul.SmallMatMulSizeThreshold);
// smaller products take its small-matrix path, which sums in other orders.
// TestPointwiseDirectMatchesFusedDense fails if the backend changes it.
const pwLargeMin = 4 << 20

// pwStrip is the width of a packed weight strip (the kernel's 32 columns).
const pwStrip = 32

// pointwiseDirect runs a directPW on NHWC x of m pixels (rows of p.in
// values) into y (m rows of p.out), adding res (same shape as y) after the
// activation when it is not nil. Set by pointwise_simd.go where the kernel
// exists.
var pointwiseDirect func(p *directPW, x []float32, m int, res, y []float32)

// directPW is a 1×1 convolution with folded BatchNorm for pointwiseDirect,
// its weights in strips of pwStrip outputs.
type directPW struct{ packedDense }

// packedDense is a product's weights [in, out] in blocks of width outputs:
// block b is in·width values, row c of it the weights of input c for the
// outputs [b·width, b·width+width), zero past out (a block is read as one
// stream); with the bias, zero past out to a whole block, and the
// activation.
type packedDense struct {
	in, out int
	wp      []float32
	biasPad []float32
	act     dwActivation
}

// newDirectPW packs folded weights w [in, out] (row-major) with bias [out]
// and activation act.
func newDirectPW(w, bias []float32, in, out int, act blocks.Activation) (*directPW, error) {
	d, err := packDense("1×1 convolution", w, bias, in, out, pwStrip, act)
	return &directPW{d}, err
}

// packDense packs the weights w [in, out] (row-major) of a product in
// blocks of width outputs, with bias [out] and activation act.
func packDense(what string, w, bias []float32, in, out, width int, act blocks.Activation) (packedDense, error) {
	if len(w) != in*out || len(bias) != out || in <= 0 || out <= 0 {
		return packedDense{}, fmt.Errorf("convnet: %s of %d weights and %d biases for %d→%d channels", what, len(w), len(bias), in, out)
	}
	a, err := dwActivationOf(act)
	if err != nil {
		return packedDense{}, fmt.Errorf("convnet: %s: %w", what, err)
	}
	nb := (out + width - 1) / width
	d := packedDense{in: in, out: out, wp: make([]float32, nb*in*width), biasPad: make([]float32, nb*width), act: a}
	copy(d.biasPad, bias)
	for b := range nb {
		for c := range in {
			copy(d.wp[(b*in+c)*width:][:width], w[c*out+b*width:c*out+min(out, (b+1)*width)])
		}
	}
	return d, nil
}

// A fully connected layer of one image (the head's, after pooling) in Go,
// with its bias and ReLU or none, where the kernel exists (fcDirect). The
// graph runs it as wᵀ·xᵀ (Ops.Dense), a product the backend's small-matrix
// path computes with one scalar multiply and add per weight in a dependent
// chain per output: latency-bound, about 2 ms of a MultiAVG inference. Here
// the same chains run for 16 outputs per vector (a product rounded, then
// added, in input order: the backend's floats), memory-bound instead.

// fcDirect computes y = act(x·w + bias) for one image x [in] into y [out].
// Set by pointwise_simd.go where the kernel exists.
var fcDirect func(p *directFC, x, y []float32)

// fcBlock is the number of outputs fcDirect computes together.
const fcBlock = 64

// directFC is a fully connected layer for fcDirect, its weights in blocks
// of fcBlock outputs.
type directFC struct{ packedDense }

// newDirectFC packs the weights w [in, out] of a fully connected layer with
// bias [out] and activation act (linear or ReLU).
func newDirectFC(w, bias []float32, in, out int, act blocks.Activation) (*directFC, error) {
	if act != "" && act != blocks.ReLU {
		return nil, fmt.Errorf("convnet: fully connected layer with activation %q in Go", act)
	}
	d, err := packDense("fully connected layer", w, bias, in, out, fcBlock, act)
	return &directFC{d}, err
}
