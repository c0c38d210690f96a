package convnet

import (
	"slices"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestWithGradient checks that the written-out gradient is the one used (a
// deliberately "wrong" one: 3·dy for a forward of 2·x), and that GOMLX_FUSION=0
// is reported.
func TestWithGradient(t *testing.T) {
	b := testBackend(t)
	var asked []int
	build := func(x, c *Node) []*Node {
		asked = nil
		y, ok := withGradient([]*Node{x, c}, x.Shape(),
			func() *Node { return Mul(x, c) },
			func(i int, dy *Node) *Node {
				asked = append(asked, i)
				return MulScalar(dy, 3)
			})
		if !ok {
			return []*Node{x, x}
		}
		return []*Node{y, Gradient(ReduceAllSum(y), x)[0]}
	}
	exec, err := NewExec(b, build)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec([]float32{1, 2}, []float32{2, 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := tensors.MustCopyFlatData[float32](out[0]); got[0] != 2 || got[1] != 4 {
		t.Errorf("forward = %v, want [2 4]", got)
	}
	if got := tensors.MustCopyFlatData[float32](out[1]); got[0] != 3 || got[1] != 3 {
		t.Errorf("gradient = %v, want the written-out [3 3]", got)
	}
	if !slices.Contains(asked, 0) {
		t.Errorf("gradient asked for inputs %v, want x (0) among them", asked)
	}

	t.Setenv(FusionEnv, "0")
	exec, err = NewExec(b, func(x *Node) *Node {
		_, ok := withGradient([]*Node{x}, x.Shape(), func() *Node { return Neg(x) }, nil)
		return Scalar(x.Graph(), x.DType(), map[bool]float64{true: 1, false: 0}[ok])
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err = exec.Exec([]float32{1})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Value().(float32) != 0 {
		t.Errorf("with %s=0 withGradient should report ok=false", FusionEnv)
	}
}
