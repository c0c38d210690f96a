package convnet

import (
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/support/exceptions"
)

// withGradient returns the node built by forward, whose gradient with respect
// to inputs[i] is grad(i, dy) (dy: the gradient with respect to the output,
// which has shape out). grad is called only when a gradient is taken, possibly
// also for inputs that need none (gomlx marks the whole stand-in subgraph
// below as useful); such results are unused and never run.
//
// It returns ok=false (and nil) when gomlx's fused-op mechanism is disabled
// (GOMLX_FUSION=0): the caller must then build a version gomlx can
// differentiate itself.
//
// Why: the fast lowered forward uses ops whose gomlx gradients are slow
// (Slice's gradient is a zero-filled Pad; DotGeneral's weight gradient
// transposes both 4-D operands) or missing (a Pad with negative padding, used
// as a fast crop). gomlx only offers single-input custom gradients
// (IdentityWithCustomGradient), so this uses the mechanism of its fused ops
// (InternalFusedOpCaller): the node returned is forward's, and its gradient is
// taken through a stand-in subgraph built from identities with custom
// gradients. The stand-in's own forward values are never used, so the backend
// eliminates them as dead code; only forward and grad's nodes run.
func withGradient(inputs []*Node, out shapes.Shape, forward func() *Node, grad func(i int, dy *Node) *Node) (y *Node, ok bool) {
	var dy *Node
	standIn := func() *Node {
		var link *Node
		for i, in := range inputs {
			routed := IdentityWithCustomGradient(in, func(_, _ *Node) *Node {
				// Reverse-mode visits the output's stand-in (which records dy)
				// before these identities, created earlier.
				return grad(i, dy)
			})
			s := ReduceAllSum(routed)
			if link == nil {
				link = s
			} else {
				link = Add(link, s)
			}
		}
		ones := make([]int, out.Rank())
		for i := range ones {
			ones[i] = 1
		}
		shaped := BroadcastToDims(Reshape(link, ones...), out.Dimensions...)
		return IdentityWithCustomGradient(shaped, func(_, v *Node) *Node {
			dy = v
			return v
		})
	}
	y, fused := InternalFusedOpCaller(forward, standIn, true)
	if !fused {
		return nil, false
	}
	if !y.Shape().Equal(out) {
		exceptions.Panicf("convnet: internal error: forward built shape %s, gradient expects %s", y.Shape(), out)
	}
	return y, true
}
