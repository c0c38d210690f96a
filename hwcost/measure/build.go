package measure

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/blocks/convnet"
	"github.com/multihw/multihw/hwcost"
)

// This file builds the inference graph of one hwcost.Segment alone with
// convnet's part builder (convnet.Net), so a segment has exactly the ops, layer
// order and variable names of that part of a whole network;
// TestSegmentsChainToConvnet checks that chaining the segments gives
// convnet's logits.

// SegmentInputShape is the input a segment takes at batch size batch:
// float32 [batch, InSize, InSize, InC].
func SegmentInputShape(s hwcost.Segment, batch int) shapes.Shape {
	return shapes.Make(dtypes.Float32, batch, s.InSize, s.InSize, s.InC)
}

// SegmentPlan returns the op plan of segment s, as BuildSegment builds it
// (and convnet.Net.NewStaged stages it).
func SegmentPlan(s hwcost.Segment) (blocks.Plan, error) {
	switch s.Kind {
	case hwcost.SegStem:
		if s.Block.Kind != blocks.KindConv {
			return blocks.Plan{}, fmt.Errorf("measure: stem %s must be of kind %q", s.Key(), blocks.KindConv)
		}
		return convnet.StemPlan(s.Block, s.InC), nil
	case hwcost.SegBlock:
		return s.Block.Plan(s.InC), nil
	case hwcost.SegHead:
		return s.Head.Plan(s.InC, s.Classes), nil
	}
	return blocks.Plan{}, fmt.Errorf("measure: unknown segment kind %d", int(s.Kind))
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
// "classifier". BatchNorm uses its moving averages and dropout is off unless
// the graph is training.
func BuildSegment(scope *model.Scope, x *Node, s hwcost.Segment, ops convnet.Ops) *Node {
	dims := x.Shape().Dimensions
	if x.Rank() != 4 || x.DType() != dtypes.Float32 || dims[1] != s.InSize || dims[2] != s.InSize || dims[3] != s.InC {
		exceptions.Panicf("measure.BuildSegment(%s): input must be float32 [batch, %d, %d, %d], got %s",
			s.Key(), s.InSize, s.InSize, s.InC, x.Shape())
	}
	n := convnet.NewNet(ops)
	switch s.Kind {
	case hwcost.SegStem:
		return n.Stem(scope, x, s.Block)
	case hwcost.SegBlock:
		return n.Block(scope, x, s.Block)
	case hwcost.SegHead:
		return n.Head(scope, x, s.Head, s.Classes)
	}
	exceptions.Panicf("measure.BuildSegment: unknown segment kind %d", int(s.Kind))
	return nil
}
