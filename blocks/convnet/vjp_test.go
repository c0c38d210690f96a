package convnet

import (
	"math/rand/v2"
	"slices"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
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

// TestTwoGradients takes two gradients in one graph through the written-out
// gradients (depthwise, BatchNorm, ReLU): each must see its own dy.
func TestTwoGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 15))
	x, w := randTensor(rng, 2, 5, 5, 3), randTensor(rng, 3, 3, 3)
	r1, r2 := randTensor(rng, 2, 3, 3, 3), randTensor(rng, 2, 3, 3, 3)
	run := func() []float32 {
		store := model.NewStore()
		exec, err := model.NewExec(testBackend(t), store, func(scope *model.Scope, x, w, r1, r2 *Node) []*Node {
			scope.SetTraining(x.Graph(), true)
			y := Relu(BatchNorm(scope.In("bn"), Ops{Lowered: true}.Depthwise(x, w, 2), 0.9, 1e-3))
			g1 := Gradient(ReduceAllSum(Mul(y, r1)), x, w)
			g2 := Gradient(ReduceAllSum(Mul(y, r2)), x, w)
			return append(g1, g2...)
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Exec(x, w, r1, r2)
		if err != nil {
			t.Fatal(err)
		}
		var flat []float32
		for _, o := range out {
			flat = append(flat, tensors.MustCopyFlatData[float32](o)...)
		}
		return flat
	}
	written := run()
	t.Setenv(FusionEnv, "0") // gomlx's autodiff of the reference lowering.
	if e := maxRelErr(written, run()); e > 1e-4 {
		t.Errorf("two gradients in one graph: written-out and autodiff differ by %.2g", e)
	}
}
