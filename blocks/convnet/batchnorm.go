package convnet

import (
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/support/exceptions"

	"github.com/multihw/multihw/blocks"
)

// Batch-normalization variable names (Keras names, 4 per channel, the count
// blocks.Analyze assumes).
const (
	BNGamma          = "gamma"
	BNBeta           = "beta"
	BNMovingMean     = "moving_mean"
	BNMovingVariance = "moving_variance"
)

// BatchNorm is Ops.BatchNorm on NHWC activations.
func BatchNorm(scope *model.Scope, x *Node, momentum, epsilon float64) *Node {
	return Ops{}.BatchNorm(scope, x, momentum, epsilon)
}

// BatchNorm normalizes activations x (in the ops' layout) over every axis but
// the channels: with the batch statistics when the graph is training
// (model.Scope.IsTraining), updating the moving averages with the given
// momentum, and with the moving averages otherwise. Its variables (gamma,
// beta, moving_mean, moving_variance) live in scope.
//
// Unlike gomlx's norm.BatchNorm with UseBackendInference(false), the training
// gradient flows through the batch mean and variance (the textbook and
// TF/Keras behaviour), and it holds exactly 4 variables per channel. The
// training gradient is written out (about half the passes over x of
// autodiff's). At inference on the Go backend, where the variables are
// constants, the scale is folded into the weights of the lowered convolution
// that produced x (see fold.go).
func (o Ops) BatchNorm(scope *model.Scope, x *Node, momentum, epsilon float64) *Node {
	return o.BatchNormAct(scope, x, momentum, epsilon, "")
}

// BatchNormAct is Activate(o.BatchNorm(scope, x, momentum, epsilon), act).
// At inference, where BatchNorm folds into the lowered op that produced x,
// the activation may join that op too (FusedDense for NHWC pointwise
// convolutions: one pass over the output for the product, shift and ReLU).
func (o Ops) BatchNormAct(scope *model.Scope, x *Node, momentum, epsilon float64, act blocks.Activation) *Node {
	if momentum < 0 || momentum >= 1 {
		exceptions.Panicf("convnet.BatchNorm: momentum must be in [0, 1), got %g", momentum)
	}
	if !(epsilon > 0) {
		exceptions.Panicf("convnet.BatchNorm: epsilon must be positive, got %g", epsilon)
	}
	checkImage("BatchNorm", x)
	g := x.Graph()
	c := o.Channels(x)
	vshape := shapes.Make(x.DType(), c)
	gammaVar := scope.WithInitializer(initializer.One).VariableWithShape(BNGamma, vshape)
	betaVar := scope.WithInitializer(initializer.Zero).VariableWithShape(BNBeta, vshape)
	mmVar := scope.WithInitializer(initializer.Zero).VariableWithShape(BNMovingMean, vshape).SetTrainable(false)
	mvVar := scope.WithInitializer(initializer.One).VariableWithShape(BNMovingVariance, vshape).SetTrainable(false)
	gamma, beta := gammaVar.NodeValue(g), betaVar.NodeValue(g)

	if !scope.IsTraining(g) {
		mm, mv := mmVar.NodeValue(g), mvVar.NodeValue(g)
		for _, nv := range []struct {
			n *Node
			v *model.Variable
		}{{gamma, gammaVar}, {beta, betaVar}, {mm, mmVar}, {mv, mvVar}} {
			noteVariable(nv.n, nv.v)
		}
		y, activated := o.inferenceNorm(x, gamma, beta, mm, mv, epsilon, act)
		if activated {
			return y
		}
		return Activate(y, act)
	}

	y, mean, variance := o.batchStatsNorm(x, gamma, beta, epsilon)
	m := Scalar(g, x.DType(), momentum)
	update := func(v *model.Variable, batch *Node) {
		v.SetNodeValue(Add(Mul(v.NodeValue(g), m), Mul(OneMinus(m), StopGradient(batch))))
	}
	update(mmVar, mean)
	update(mvVar, variance)
	return Activate(y, act)
}

// inferenceNorm is x·scale + shift with scale = γ/√(var+ε) and shift = β −
// mean·scale: folded into the weights of the lowered op that produced x
// (FoldBatchNorm) when the statistics and those weights are known constants.
// activated reports whether act was applied as well (see foldBatchNorm).
func (o Ops) inferenceNorm(x, gamma, beta, mean, variance *Node, epsilon float64, act blocks.Activation) (y *Node, activated bool) {
	if o.Lowered {
		if y, activated := o.foldBatchNorm(x, gamma, beta, mean, variance, epsilon, act); y != nil {
			return y, activated
		}
	}
	scale := Mul(gamma, Reciprocal(Sqrt(AddScalar(variance, epsilon))))
	shift := Sub(beta, Mul(mean, scale))
	return Add(Mul(x, o.perChannel(scale)), o.perChannel(shift)), false
}

// BatchStatsNorm normalizes activations x (in the ops' layout) with their
// batch statistics, scaled by gamma and shifted by beta ([C] each; any
// nodes, e.g. slices of shared variables): BatchNorm's training forward
// without moving averages, with its written-out gradient.
func (o Ops) BatchStatsNorm(x, gamma, beta *Node, epsilon float64) *Node {
	checkImage("BatchStatsNorm", x)
	y, _, _ := o.batchStatsNorm(x, gamma, beta, epsilon)
	return y
}

// batchStatsNorm returns the normalized x and the batch mean and variance.
func (o Ops) batchStatsNorm(x, gamma, beta *Node, epsilon float64) (y, mean, variance *Node) {
	axes := o.otherAxes()
	n := 1
	for _, a := range axes {
		n *= x.Shape().Dimensions[a]
	}
	expand := o.perChannel
	var xc, inv, scale, sumDyXc, sumDyXcOf *Node
	normalize := func() *Node {
		mean = ReduceMean(x, axes...)
		xc = Sub(x, expand(mean))
		variance = ReduceMean(Square(xc), axes...)
		inv = Reciprocal(Sqrt(AddScalar(variance, epsilon)))
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
		y = normalize()
	}
	return y, mean, variance
}
