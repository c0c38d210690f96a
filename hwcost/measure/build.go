package measure

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/support/exceptions"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/blocks/convnet"
	"github.com/multihw/multihw/hwcost"
)

// This file builds the inference graph of one hwcost.Segment alone, with the
// same ops, layer order and variable names as convnet.Builder uses for that
// part of a whole network. convnet does not export its per-block builder, so
// the few lines that compose convnet.Ops and convnet.BatchNorm into a block are
// repeated here; TestSegmentsChainToConvnet ties the two together (chaining the
// segments under one store gives convnet's logits).

// SegmentInputShape is the input a segment takes at batch size batch:
// float32 [batch, InSize, InSize, InC].
func SegmentInputShape(s hwcost.Segment, batch int) shapes.Shape {
	return shapes.Make(dtypes.Float32, batch, s.InSize, s.InSize, s.InC)
}

// BuildSegment builds the inference graph of segment s on x (float32
// [batch, s.InSize, s.InSize, s.InC]) and returns its output: the feature map
// after the stem or block, the logits after the head. It is a gomlx
// graph-building function and panics on errors.
//
// Variables are created under scope with convnet's names, so that chaining the
// segments of an architecture reproduces convnet.Builder's network and
// variables: the stem creates "stem/...", a block creates its layers ("expand",
// "dw", "project", ...) directly under scope (pass scope.In(convnet.BlockScope(i))
// to match block i), the head creates "head/conv", "head/hidden" and
// "classifier". BatchNorm uses its moving averages unless the graph is
// training; dropout is left out (inference).
func BuildSegment(scope *model.Scope, x *Node, s hwcost.Segment, ops convnet.Ops) *Node {
	dims := x.Shape().Dimensions
	if x.Rank() != 4 || x.DType() != dtypes.Float32 || dims[1] != s.InSize || dims[2] != s.InSize || dims[3] != s.InC {
		exceptions.Panicf("measure.BuildSegment(%s): input must be float32 [batch, %d, %d, %d], got %s",
			s.Key(), s.InSize, s.InSize, s.InC, x.Shape())
	}
	switch s.Kind {
	case hwcost.SegStem:
		b := s.Block
		if b.Kind != blocks.KindConv {
			exceptions.Panicf("measure.BuildSegment(%s): stem must be of kind %q", s.Key(), blocks.KindConv)
		}
		return conv(ops, scope.In("stem"), x, b.Kernel, b.Stride, b.Out, b.Activation())
	case hwcost.SegBlock:
		return block(ops, scope, x, s.Block)
	case hwcost.SegHead:
		head := scope.In("head")
		if s.Head.Conv > 0 {
			x = conv(ops, head.In("conv"), x, 1, 1, s.Head.Conv, blocks.ReLU)
		}
		x = ReduceMean(x, 1, 2) // Global average pooling.
		if s.Head.Hidden > 0 {
			x = activation.Relu(dense(head.In("hidden"), x, s.Head.Hidden))
		}
		return dense(scope.In("classifier"), x, s.Classes)
	}
	exceptions.Panicf("measure.BuildSegment: unknown segment kind %d", int(s.Kind))
	return nil
}

// block mirrors convnet's block builder (op placement follows blocks.Analyze).
func block(ops convnet.Ops, scope *model.Scope, x *Node, b blocks.Block) *Node {
	in := x.Shape().Dimensions[3]
	act := b.Activation()
	e := b.ExpandedWidth(in)
	shortcut := x
	switch b.Kind {
	case blocks.KindConv:
		x = conv(ops, scope.In("conv"), x, b.Kernel, b.Stride, b.Out, act)
	case blocks.KindIBN:
		if b.HasExpandConv(in) {
			x = conv(ops, scope.In("expand"), x, 1, 1, e, act)
		}
		x = depthwise(ops, scope.In("dw"), x, b.Kernel, b.Stride, act)
		x = conv(ops, scope.In("project"), x, 1, 1, b.Out, "")
	case blocks.KindFused:
		stride := b.Stride
		if b.HasExpandConv(in) {
			x = conv(ops, scope.In("fused"), x, b.Kernel, b.Stride, e, act)
			stride = 1
		}
		x = conv(ops, scope.In("project"), x, 1, stride, b.Out, "")
	case blocks.KindUIB:
		if b.StartKernel > 0 {
			s := b.Stride
			if b.Kernel > 0 {
				s = 1
			}
			x = depthwise(ops, scope.In("start_dw"), x, b.StartKernel, s, "")
		}
		x = conv(ops, scope.In("expand"), x, 1, 1, e, act)
		if b.Kernel > 0 {
			x = depthwise(ops, scope.In("mid_dw"), x, b.Kernel, b.Stride, act)
		}
		x = conv(ops, scope.In("project"), x, 1, 1, b.Out, "")
	default:
		exceptions.Panicf("unknown block kind %q", b.Kind)
	}
	if b.Residual(in) {
		x = Add(x, shortcut)
	}
	return x
}

func conv(ops convnet.Ops, scope *model.Scope, x *Node, k, stride, out int, act blocks.Activation) *Node {
	in := x.Shape().Dimensions[3]
	var y *Node
	if k == 1 {
		y = ops.Pointwise(x, weights(scope, x.Graph(), shapes.Make(x.DType(), in, out), in), stride)
	} else {
		y = ops.Conv(x, weights(scope, x.Graph(), shapes.Make(x.DType(), k, k, in, out), k*k*in), stride)
	}
	return activate(convnet.BatchNorm(scope.In("bn"), y, convnet.DefaultBatchNormMomentum, convnet.DefaultBatchNormEpsilon), act)
}

func depthwise(ops convnet.Ops, scope *model.Scope, x *Node, k, stride int, act blocks.Activation) *Node {
	c := x.Shape().Dimensions[3]
	y := ops.Depthwise(x, weights(scope, x.Graph(), shapes.Make(x.DType(), k, k, c), k*k), stride)
	return activate(convnet.BatchNorm(scope.In("bn"), y, convnet.DefaultBatchNormMomentum, convnet.DefaultBatchNormEpsilon), act)
}

func dense(scope *model.Scope, x *Node, out int) *Node {
	in := x.Shape().Dimensions[1]
	w := weights(scope, x.Graph(), shapes.Make(x.DType(), in, out), in)
	bias := scope.WithInitializer(initializer.Zero).VariableWithShape("biases", shapes.Make(x.DType(), out)).NodeValue(x.Graph())
	return Add(MatMul(x, w), Reshape(bias, 1, out))
}

// weights returns the "weights" variable of scope, drawn N(0, 2/fanIn) when new:
// the values do not change the timing, only keep activations in a normal range.
func weights(scope *model.Scope, g *Graph, shape shapes.Shape, fanIn int) *Node {
	std := math.Sqrt(2 / float64(max(fanIn, 1)))
	store := scope.Store()
	init := func(g *Graph, shape shapes.Shape) *Node { return MulScalar(store.RandomNormal(g, shape), std) }
	return scope.WithInitializer(init).VariableWithShape("weights", shape).NodeValue(g)
}

func activate(x *Node, act blocks.Activation) *Node {
	switch act {
	case "":
		return x
	case blocks.ReLU:
		return activation.Relu(x)
	case blocks.ReLU6:
		return ClipScalar(x, 0, 6)
	}
	panic(fmt.Errorf("unsupported activation %q", act))
}
