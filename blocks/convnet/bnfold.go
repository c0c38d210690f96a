package convnet

import (
	"fmt"
	"math"
)

// FoldBatchNorm folds inference-mode BatchNorm into the convolution it
// follows: BN(conv(x, w)) = conv(x, w') + b' with, per output channel c,
//
//	scale[c] = γ[c]/√(var[c]+ε),  w'[…, c] = w[…, c]·scale[c],  b'[c] = β[c] − mean[c]·scale[c]
//
// (Ioffe & Szegedy 2015, "Batch Normalization", §3.2: at inference BN is a
// per-channel affine map, which composes with the linear convolution). w is
// in this package's layouts, output channel on the last axis ([Cin, Cout],
// [k, k, C], [k, k, Cin, Cout]; see Ops); gamma, beta, mean and variance are
// BatchNorm's variables, one value per output channel. The float32
// arithmetic is BatchNorm's own at inference (γ·(1/√(var+ε)), then β −
// mean·scale), so a folded graph differs from the unfolded one only by the
// rounding of w·scale. The one place this fold is computed: the ONNX export
// and inference-time folding on the Go backend both call it.
func FoldBatchNorm(w, gamma, beta, mean, variance []float32, epsilon float64) (folded, bias []float32, err error) {
	c := len(gamma)
	if c == 0 || len(beta) != c || len(mean) != c || len(variance) != c {
		return nil, nil, fmt.Errorf("convnet.FoldBatchNorm: BatchNorm variables of lengths %d, %d, %d, %d (want one equal, positive length)",
			len(gamma), len(beta), len(mean), len(variance))
	}
	if len(w) == 0 || len(w)%c != 0 {
		return nil, nil, fmt.Errorf("convnet.FoldBatchNorm: %d weights are not a whole number of rows of %d output channels", len(w), c)
	}
	scale, bias, err := bnScaleShift(gamma, beta, mean, variance, epsilon)
	if err != nil {
		return nil, nil, fmt.Errorf("convnet.FoldBatchNorm: %w", err)
	}
	folded = make([]float32, len(w))
	for i, v := range w {
		folded[i] = v * scale[i%c]
	}
	return folded, bias, nil
}

// bnScaleShift returns BatchNorm's per-channel scale γ/√(var+ε) and shift
// β − mean·scale at inference, in BatchNorm's own float32 arithmetic, or an
// error naming the first channel where either is not finite (a negative
// variance, an overflow): every logit would then be NaN.
func bnScaleShift(gamma, beta, mean, variance []float32, epsilon float64) (scale, shift []float32, err error) {
	if !(epsilon > 0) {
		return nil, nil, fmt.Errorf("epsilon must be positive, got %g", epsilon)
	}
	c := len(gamma)
	scale, shift = make([]float32, c), make([]float32, c)
	eps := float32(epsilon)
	for i := range c {
		scale[i] = gamma[i] * (1 / float32(math.Sqrt(float64(variance[i]+eps))))
		shift[i] = beta[i] - mean[i]*scale[i]
		if s, b := float64(scale[i]), float64(shift[i]); math.IsNaN(s) || math.IsInf(s, 0) || math.IsNaN(b) || math.IsInf(b, 0) {
			return nil, nil, fmt.Errorf("channel %d: γ %g, β %g, mean %g, variance %g give a non-finite scale or shift",
				i, gamma[i], beta[i], mean[i], variance[i])
		}
	}
	return scale, shift, nil
}
