package convnet

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Batch-normalization variable names (Keras names, 4 per channel, the count
// blocks.Analyze assumes).
const (
	BNGamma          = "gamma"
	BNBeta           = "beta"
	BNMovingMean     = "moving_mean"
	BNMovingVariance = "moving_variance"
)

// BatchNorm normalizes x over every axis but the last (channels): with the batch
// statistics when the graph is training (model.Scope.IsTraining), updating the
// moving averages with the given momentum, and with the moving averages
// otherwise. Its variables (gamma, beta, moving_mean, moving_variance) live in
// scope.
//
// Unlike gomlx's norm.BatchNorm with UseBackendInference(false), the training
// gradient flows through the batch mean and variance (the textbook and
// TF/Keras behaviour), and it holds exactly 4 variables per channel. The
// training gradient is written out (about half the passes over x of autodiff's).
func BatchNorm(scope *model.Scope, x *Node, momentum, epsilon float64) *Node {
	if momentum < 0 || momentum >= 1 {
		exceptions.Panicf("convnet.BatchNorm: momentum must be in [0, 1), got %g", momentum)
	}
	if !(epsilon > 0) {
		exceptions.Panicf("convnet.BatchNorm: epsilon must be positive, got %g", epsilon)
	}
	g := x.Graph()
	c := x.Shape().Dimensions[x.Rank()-1]
	vshape := shapes.Make(x.DType(), c)
	gammaVar := scope.WithInitializer(initializer.One).VariableWithShape(BNGamma, vshape)
	betaVar := scope.WithInitializer(initializer.Zero).VariableWithShape(BNBeta, vshape)
	mmVar := scope.WithInitializer(initializer.Zero).VariableWithShape(BNMovingMean, vshape).SetTrainable(false)
	mvVar := scope.WithInitializer(initializer.One).VariableWithShape(BNMovingVariance, vshape).SetTrainable(false)
	gamma, beta := gammaVar.NodeValue(g), betaVar.NodeValue(g)
	bcast := make([]int, x.Rank())
	for i := range bcast {
		bcast[i] = 1
	}
	bcast[len(bcast)-1] = c
	expand := func(v *Node) *Node { return Reshape(v, bcast...) }
	invStd := func(variance *Node) *Node { return Reciprocal(Sqrt(AddScalar(variance, epsilon))) }

	if !scope.IsTraining(g) {
		// Folded into one scale and shift: two passes over x.
		scale := Mul(gamma, invStd(mvVar.NodeValue(g)))
		shift := Sub(beta, Mul(mmVar.NodeValue(g), scale))
		return Add(Mul(x, expand(scale)), expand(shift))
	}

	axes := make([]int, x.Rank()-1)
	n := 1
	for i := range axes {
		axes[i] = i
		n *= x.Shape().Dimensions[i]
	}
	m := Scalar(g, x.DType(), momentum)
	update := func(v *model.Variable, batch *Node) {
		v.SetNodeValue(Add(Mul(v.NodeValue(g), m), Mul(OneMinus(m), StopGradient(batch))))
	}
	var xc, inv, scale, sumDyXc, sumDyXcOf *Node
	normalize := func() *Node {
		mean := ReduceMean(x, axes...)
		xc = Sub(x, expand(mean))
		variance := ReduceMean(Square(xc), axes...)
		update(mmVar, mean)
		update(mvVar, variance)
		inv = invStd(variance)
		scale = Mul(gamma, inv)
		return Add(Mul(xc, expand(scale)), expand(beta))
	}
	y, ok := withGradient([]*Node{x, gamma, beta}, x.Shape(), normalize,
		func(i int, dy *Node) *Node {
			sumDy := ReduceSum(dy, axes...)
			if sumDyXcOf != dy { // Shared by the three gradients of one backward pass.
				sumDyXc, sumDyXcOf = ReduceSum(Mul(dy, xc), axes...), dy
			}
			switch i {
			case 2:
				return sumDy
			case 1:
				return Mul(sumDyXc, inv)
			}
			// dx = scale·(dy − mean(dy) − x̂·mean(dy·x̂)), x̂ = xc·inv, as
			// dy·scale + xc·a + b with per-channel a and b.
			invN := 1 / float64(n)
			a := MulScalar(Mul(Mul(scale, Square(inv)), sumDyXc), -invN)
			b := MulScalar(Mul(scale, sumDy), -invN)
			return Add(Add(Mul(dy, expand(scale)), Mul(xc, expand(a))), expand(b))
		})
	if !ok {
		return normalize()
	}
	return y
}

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
	if !(epsilon > 0) {
		return nil, nil, fmt.Errorf("convnet.FoldBatchNorm: epsilon must be positive, got %g", epsilon)
	}
	scale := make([]float32, c)
	bias = make([]float32, c)
	eps := float32(epsilon)
	for i := range c {
		scale[i] = gamma[i] * (1 / float32(math.Sqrt(float64(variance[i]+eps))))
		bias[i] = beta[i] - mean[i]*scale[i]
		if s, b := float64(scale[i]), float64(bias[i]); math.IsNaN(s) || math.IsInf(s, 0) || math.IsNaN(b) || math.IsInf(b, 0) {
			return nil, nil, fmt.Errorf("convnet.FoldBatchNorm: channel %d: γ %g, β %g, mean %g, variance %g give a non-finite scale or shift",
				i, gamma[i], beta[i], mean[i], variance[i])
		}
	}
	folded = make([]float32, len(w))
	for i, v := range w {
		folded[i] = v * scale[i%c]
	}
	return folded, bias, nil
}
