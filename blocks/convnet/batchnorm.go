package convnet

import (
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
// TF/Keras behaviour), and it holds exactly 4 variables per channel.
func BatchNorm(scope *model.Scope, x *Node, momentum, epsilon float64) *Node {
	g := x.Graph()
	c := x.Shape().Dimensions[x.Rank()-1]
	vshape := shapes.Make(x.DType(), c)
	gamma := scope.WithInitializer(initializer.One).VariableWithShape(BNGamma, vshape)
	beta := scope.WithInitializer(initializer.Zero).VariableWithShape(BNBeta, vshape)
	mmVar := scope.WithInitializer(initializer.Zero).VariableWithShape(BNMovingMean, vshape).SetTrainable(false)
	mvVar := scope.WithInitializer(initializer.One).VariableWithShape(BNMovingVariance, vshape).SetTrainable(false)
	bcast := make([]int, x.Rank())
	for i := range bcast {
		bcast[i] = 1
	}
	bcast[len(bcast)-1] = c
	expand := func(v *Node) *Node { return Reshape(v, bcast...) }

	if !scope.IsTraining(g) {
		// Folded into one scale and shift: two passes over x.
		scale := Mul(gamma.NodeValue(g), Reciprocal(Sqrt(AddScalar(mvVar.NodeValue(g), epsilon))))
		shift := Sub(beta.NodeValue(g), Mul(mmVar.NodeValue(g), scale))
		return Add(Mul(x, expand(scale)), expand(shift))
	}

	axes := make([]int, x.Rank()-1)
	for i := range axes {
		axes[i] = i
	}
	mean := ReduceMean(x, axes...)
	xc := Sub(x, expand(mean))
	variance := ReduceMean(Square(xc), axes...)
	if momentum < 0 || momentum >= 1 {
		exceptions.Panicf("convnet.BatchNorm: momentum must be in [0, 1), got %g", momentum)
	}
	m := Scalar(g, x.DType(), momentum)
	update := func(v *model.Variable, batch *Node) {
		v.SetNodeValue(Add(Mul(v.NodeValue(g), m), Mul(OneMinus(m), StopGradient(batch))))
	}
	update(mmVar, mean)
	update(mvVar, variance)
	scale := Mul(gamma.NodeValue(g), Reciprocal(Sqrt(AddScalar(variance, epsilon))))
	return Add(Mul(xc, expand(scale)), expand(beta.NodeValue(g)))
}
