package convnet

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// InputNorm is a per-channel transformation of a network's input images,
// x ↦ (x − Sub[c])·Mul[c] in float32, the difference rounded before the
// product: raw pixels to the training inputs (train.PixelNormalization).
// Graph applies it in a graph, Staged in Go (the same operations).
type InputNorm struct {
	Sub, Mul []float32
}

func (n *InputNorm) check(channels int) error {
	if len(n.Sub) != channels || len(n.Mul) != channels {
		return fmt.Errorf("convnet: input normalisation of %d and %d values for %d channels", len(n.Sub), len(n.Mul), channels)
	}
	return nil
}

// Graph applies the normalisation to images x [B, H, W, C] (NHWC). The
// constants are tiled over an image row ([1, 1, W, C]): the Go backend runs
// a product by a vector of the channels as one loop per pixel, which for 3
// channels costs 10x more than the whole row.
func (n *InputNorm) Graph(x *Node) *Node {
	w, c := x.Shape().Dimensions[2], len(n.Sub)
	subRow, mulRow := n.row(w)
	g := x.Graph()
	sub := Const(g, tensors.FromFlatDataAndDimensions(subRow, 1, 1, w, c))
	mul := Const(g, tensors.FromFlatDataAndDimensions(mulRow, 1, 1, w, c))
	return Mul(Sub(x, sub), mul)
}

// row returns Sub and Mul tiled over an image row of w pixels: per value of
// the row, (v − sub[j])·mul[j] normalises it (Graph, and im2colDirect's
// normalisation in Go).
func (n *InputNorm) row(w int) (sub, mul []float32) {
	for range w {
		sub, mul = append(sub, n.Sub...), append(mul, n.Mul...)
	}
	return sub, mul
}
