package convnet

import (
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/support/exceptions"

	"github.com/multihw/multihw/blocks"
)

// Activate applies act to x: identity (""), ReLU (Relu) or ReLU6 (the
// activations of the search space and the reference models). Every network
// of the project, the supernet's paths included, activates through it. It
// panics, as gomlx graph functions do, on any other activation.
func Activate(x *Node, act blocks.Activation) *Node {
	switch act {
	case "":
		return x
	case blocks.ReLU:
		return Relu(x)
	case blocks.ReLU6:
		return ClipScalar(x, 0, 6)
	}
	exceptions.Panicf("unsupported activation %q", act)
	return nil
}

// SmoothedCrossEntropy is the mean cross-entropy of logits [B, C] against
// integer labels [B] with label smoothing eps: the target is
// (1−eps)·onehot + eps/C (Szegedy et al. 2016, "Rethinking the Inception
// Architecture for Computer Vision", section 7). Training and the supernet
// both minimise it.
func SmoothedCrossEntropy(logits, labels *Node, eps float64) *Node {
	c := logits.Shape().Dimensions[1]
	logp := LogSoftmax(logits, -1)
	target := AddScalar(MulScalar(OneHot(labels, c, logits.DType()), 1-eps), eps/float64(c))
	return Neg(ReduceAllMean(ReduceSum(Mul(target, logp), -1)))
}
