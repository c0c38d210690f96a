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

// directPW is a 1×1 convolution with folded BatchNorm for pointwiseDirect.
type directPW struct {
	in, out int
	// wp holds the folded weights [in, out] in strips of pwStrip columns:
	// strip s is in·pwStrip values, row c of it the weights of input
	// channel c for the outputs [s·pwStrip, s·pwStrip+pwStrip), zero past
	// out.
	wp []float32
	// biasPad is the bias, zero past out to a whole strip.
	biasPad []float32
	act     dwActivation
}

// newDirectPW packs folded weights w [in, out] (row-major) with bias [out]
// and activation act.
func newDirectPW(w, bias []float32, in, out int, act blocks.Activation) (*directPW, error) {
	if len(w) != in*out || len(bias) != out || in <= 0 || out <= 0 {
		return nil, fmt.Errorf("convnet: 1×1 convolution of %d weights and %d biases for %d→%d channels", len(w), len(bias), in, out)
	}
	a, err := dwActivationOf(act)
	if err != nil {
		return nil, err
	}
	strips := (out + pwStrip - 1) / pwStrip
	p := &directPW{in: in, out: out, wp: make([]float32, strips*in*pwStrip), biasPad: make([]float32, strips*pwStrip), act: a}
	copy(p.biasPad, bias)
	for s := range strips {
		for c := range in {
			dst := p.wp[(s*in+c)*pwStrip:][:pwStrip]
			copy(dst, w[c*out+s*pwStrip:c*out+min(out, (s+1)*pwStrip)])
		}
	}
	return p, nil
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

// directFC is a fully connected layer for fcDirect.
type directFC struct {
	in, out int
	// wp holds the weights [in, out] in blocks of fcBlock outputs: block b
	// is in·fcBlock values, row k of it the weights of input k for the
	// outputs [b·fcBlock, b·fcBlock+fcBlock), zero past out (each block is
	// then read as one stream).
	wp []float32
	// biasPad is the bias, zero past out to a whole block.
	biasPad []float32
	relu    bool
}

func newDirectFC(w, bias []float32, in, out int, act blocks.Activation) (*directFC, error) {
	if len(w) != in*out || len(bias) != out || in <= 0 || out <= 0 {
		return nil, fmt.Errorf("convnet: fully connected layer of %d weights and %d biases for %d→%d features", len(w), len(bias), in, out)
	}
	if act != "" && act != blocks.ReLU {
		return nil, fmt.Errorf("convnet: fully connected layer with activation %q in Go", act)
	}
	nb := (out + fcBlock - 1) / fcBlock
	p := &directFC{in: in, out: out, wp: make([]float32, nb*in*fcBlock), biasPad: make([]float32, nb*fcBlock), relu: act == blocks.ReLU}
	copy(p.biasPad, bias)
	for b := range nb {
		for k := range in {
			copy(p.wp[(b*in+k)*fcBlock:][:fcBlock], w[k*out+b*fcBlock:k*out+min(out, (b+1)*fcBlock)])
		}
	}
	return p, nil
}
