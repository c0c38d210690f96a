package convnet

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/multihw/multihw/blocks"
)

// TestPointwiseDirectMatchesFusedDense compares pointwiseDirect with the
// graph ops it replaces at inference: the backend's FusedDense (product,
// bias, ReLU or none; for ReLU6 none and then the clip), then Add of the
// residual. The outputs must be equal floats (a zero's sign aside): pixels
// in whole tiles of 8 and groups of 4 and not, output channels in whole
// strips of 32 and groups of 16 and not, contraction lengths within one
// panel of pwPanel, exactly one and beyond, for products on both of the
// backend's paths (pwLargeMin), some just above and below it, which fail
// here if the backend moves its threshold.
func TestPointwiseDirectMatchesFusedDense(t *testing.T) {
	if pointwiseDirect == nil {
		t.Skip("no AVX-512 kernel on this machine (GOEXPERIMENT=simd, amd64): Staged leaves 1×1 convolutions to the graph")
	}
	be := testBackend(t)
	rng := rand.New(rand.NewPCG(7, 11))
	paths := [2]int{}
	for _, m := range []int{1, 3, 4, 7, 49, 196, 784, 3136} {
		for _, k := range []int{24, 192, 193, 400, 960} {
			for _, n := range []int{16, 24, 40, 48, 80, 96, 200, 1001} {
				if m*k*n > 40<<20 {
					continue // enough of the packed path
				}
				paths[min(1, m*k*n/pwLargeMin)]++
				matchRandomPointwise(t, be, rng, m, k, n, 3) // values where ReLU6 clips
			}
		}
	}
	if paths[0] < 60 || paths[1] < 40 {
		t.Errorf("%d products on the small-matrix path, %d on the packed one", paths[0], paths[1])
	}
}

// TestPointwiseDirectRandomShapes: the same comparison on random shapes
// (seeded): 1-3000 pixels, 1-2000 input and 16-1015 output channels, any
// activation, with and without the residual, on either of the backend's
// paths. (400 such shapes were checked once; 120 run here.)
func TestPointwiseDirectRandomShapes(t *testing.T) {
	if pointwiseDirect == nil {
		t.Skip("no AVX-512 kernel on this machine (GOEXPERIMENT=simd, amd64)")
	}
	be := testBackend(t)
	rng := rand.New(rand.NewPCG(99, 1))
	for trial := range 120 {
		m, k, n := 1+rng.IntN(300), 1+rng.IntN(400), 16+rng.IntN(300)
		if trial%5 == 0 { // mostly the packed path
			m, k, n = 1+rng.IntN(3000), 1+rng.IntN(2000), 16+rng.IntN(1000)
		}
		matchRandomPointwise(t, be, rng, m, k, n, 1)
	}
}

// matchRandomPointwise draws an activation, whether a residual is added, and
// random x [m, k] (scaled by xScale), weights, bias and residual from rng,
// and runs matchFusedDense on them.
func matchRandomPointwise(t *testing.T, be compute.Backend, rng *rand.Rand, m, k, n int, xScale float32) {
	t.Helper()
	acts := []blocks.Activation{"", blocks.ReLU, blocks.ReLU6}
	act, withRes := acts[rng.IntN(len(acts))], rng.IntN(2) == 0
	x, w, bias, res := randTensor(rng, m, k), randTensor(rng, k, n), randTensor(rng, n), randTensor(rng, m, n)
	if xScale != 1 {
		tensors.MustMutableFlatData(x, func(v []float32) {
			for i := range v {
				v[i] *= xScale
			}
		})
	}
	matchFusedDense(t, be, fmt.Sprintf("%dx%dx%d_%q_res%v", m, k, n, act, withRes), x, w, bias, res, act, withRes)
}

// matchFusedDense fails t unless pointwiseDirect on x [m, k], weights w
// [k, n] and bias gives the floats of the graph it replaces: FusedDense
// (for ReLU6 with no activation, then the clip), then Add of res when
// withRes.
func matchFusedDense(t *testing.T, be compute.Backend, name string, x, w, bias, res *tensors.Tensor, act blocks.Activation, withRes bool) {
	t.Helper()
	m, k, n := x.Shape().Dimensions[0], x.Shape().Dimensions[1], w.Shape().Dimensions[1]
	exec, err := NewExec(be, func(x, w, bias, res *Node) *Node {
		a := compute.ActivationNone
		if act == blocks.ReLU {
			a = compute.ActivationRelu
		}
		y := BackendFusedDense(x, w, bias, compute.DenseConfig{Activation: compute.ActivationConfig{Type: a}})
		if act == blocks.ReLU6 {
			y = Activate(y, act)
		}
		if withRes {
			y = Add(y, res)
		}
		return y
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(x, w, bias, res)
	if err != nil {
		t.Fatal(err)
	}
	want := tensors.MustCopyFlatData[float32](out[0])
	p, err := newDirectPW(tensors.MustCopyFlatData[float32](w), tensors.MustCopyFlatData[float32](bias), k, n, act)
	if err != nil {
		t.Fatal(err)
	}
	var r []float32
	if withRes {
		r = tensors.MustCopyFlatData[float32](res)
	}
	got := make([]float32, m*n)
	pointwiseDirect(p, tensors.MustCopyFlatData[float32](x), m, r, got)
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: output %d (pixel %d, channel %d): %g, the graph %g", name, i, i/n, i%n, got[i], want[i])
		}
	}
}

// TestDirectPWRefused: activations the kernels do not apply, and weights
// that do not match the channels, are an error.
func TestDirectPWRefused(t *testing.T) {
	if _, err := newDirectPW(make([]float32, 6), make([]float32, 3), 2, 3, "swish"); err == nil {
		t.Error("swish accepted")
	}
	if _, err := newDirectPW(make([]float32, 5), make([]float32, 3), 2, 3, ""); err == nil {
		t.Error("5 weights for 2×3 accepted")
	}
}

// TestFCDirectMatchesDense compares fcDirect with the graph it replaces for
// one image: Ops.Dense on constant weights (wᵀ·xᵀ in two halves) + bias,
// then the activation. Equal floats, for output counts in whole blocks of
// 64, of 16 and not, odd ones (Dense pads a half), and one.
func TestFCDirectMatchesDense(t *testing.T) {
	if fcDirect == nil {
		t.Skip("no AVX-512 kernel on this machine (GOEXPERIMENT=simd, amd64): Staged leaves fully connected layers to the graph")
	}
	be := testBackend(t)
	rng := rand.New(rand.NewPCG(3, 9))
	for _, in := range []int{1, 17, 960} {
		for _, out := range []int{1, 10, 16, 33, 64, 1001, 1280} {
			for _, act := range []blocks.Activation{"", blocks.ReLU} {
				x, w, bias := randTensor(rng, 1, in), randTensor(rng, in, out), randTensor(rng, out)
				wv, bv := tensors.MustCopyFlatData[float32](w), tensors.MustCopyFlatData[float32](bias)
				exec, err := NewExec(be, func(x *Node) *Node {
					g := x.Graph()
					y := Ops{Lowered: true, Layout: NHWC}.Dense(x, newConst(g, wv, in, out))
					return Activate(Add(y, Reshape(newConst(g, bv, out), 1, out)), act)
				})
				if err != nil {
					t.Fatal(err)
				}
				res, err := exec.Exec(x)
				if err != nil {
					t.Fatal(err)
				}
				want := tensors.MustCopyFlatData[float32](res[0])
				p, err := newDirectFC(wv, bv, in, out, act)
				if err != nil {
					t.Fatal(err)
				}
				got := make([]float32, out)
				fcDirect(p, tensors.MustCopyFlatData[float32](x), got)
				for j := range got {
					if got[j] != want[j] {
						t.Fatalf("%d→%d %q: output %d: %g, the graph %g", in, out, act, j, got[j], want[j])
					}
				}
			}
		}
	}
	if _, err := newDirectFC(make([]float32, 6), make([]float32, 3), 2, 3, blocks.ReLU6); err == nil {
		t.Error("ReLU6 accepted")
	}
}
