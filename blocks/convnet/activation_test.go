package convnet

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
)

// TestSmoothedCrossEntropy: logits (ln 3, 0) give p = (3/4, 1/4). Label 0
// with eps 0.5 targets (1−0.5)·(1, 0) + 0.5/2 = (3/4, 1/4): the loss is the
// entropy −(¾ ln ¾ + ¼ ln ¼) = 0.562335. Without smoothing it is −ln ¾ =
// 0.287682. ReLU6 clips at 6.
func TestSmoothedCrossEntropy(t *testing.T) {
	be, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ eps, want float64 }{{0.5, 0.562335}, {0, 0.287682}} {
		out := MustExecOnce(be, func(logits, labels *Node) *Node { return SmoothedCrossEntropy(logits, labels, c.eps) },
			tensors.FromFlatDataAndDimensions([]float32{float32(math.Log(3)), 0}, 1, 2), []int32{0})
		if got := float64(tensors.ToScalar[float32](out)); math.Abs(got-c.want) > 1e-5 {
			t.Errorf("eps %g: loss %.6f, want %.6f", c.eps, got, c.want)
		}
	}
	out := MustExecOnce(be, func(x *Node) *Node { return Activate(x, blocks.ReLU6) }, []float32{-1, 3, 7})
	if got := tensors.MustCopyFlatData[float32](out); got[0] != 0 || got[1] != 3 || got[2] != 6 {
		t.Errorf("ReLU6: %v", got)
	}
}
