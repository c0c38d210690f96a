package convnet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/internal/testenv"
)

var goBackend = sync.OnceValues(func() (compute.Backend, error) { return backend.New("go") })

func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := goBackend()
	if err != nil {
		t.Fatalf("creating the Go backend: %v", err)
	}
	return b
}

func randTensor(rng *rand.Rand, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(data, dims...)
}

// maxRelErr is the largest absolute difference relative to the largest
// magnitude of want (a per-element ratio blows up near zero).
func maxRelErr(got, want []float32) float64 {
	var diff, scale float64
	for i := range want {
		diff = max(diff, math.Abs(float64(got[i])-float64(want[i])))
		scale = max(scale, math.Abs(float64(want[i])))
	}
	if scale == 0 {
		return diff
	}
	return diff / scale
}

// testFlavours are the ops compared with the native ones (the first): the
// lowered ops in both layouts, with the reference autodiff and with each
// depthwise lowering of the CHWN layout. Activations enter and leave them
// through In and Out.
var testFlavours = []Ops{{}, {Lowered: true}, {Lowered: true, autodiff: true},
	{Lowered: true, Layout: CHWN}, {Lowered: true, Layout: CHWN, autodiff: true},
	{Lowered: true, Layout: CHWN, dw: dwWindows}, {Lowered: true, Layout: CHWN, dw: dwBanded}}

// TestLoweredMatchesNative compares forward outputs and gradients (with respect
// to the input and the weights) of the lowered ops against graph.Convolve.
func TestLoweredMatchesNative(t *testing.T) {
	b := testBackend(t)
	type opFn func(o Ops, x, w *Node, stride int) *Node
	ops := []struct {
		name    string
		fn      opFn
		wDims   func(k, cin, cout int) []int
		kernels []int
	}{
		{"pointwise", func(o Ops, x, w *Node, s int) *Node { return o.Pointwise(x, w, s) },
			func(_, cin, cout int) []int { return []int{cin, cout} }, []int{1}},
		{"depthwise", func(o Ops, x, w *Node, s int) *Node { return o.Depthwise(x, w, s) },
			func(k, cin, _ int) []int { return []int{k, k, cin} }, []int{1, 3, 5}},
		{"conv", func(o Ops, x, w *Node, s int) *Node { return o.Conv(x, w, s) },
			func(k, cin, cout int) []int { return []int{k, k, cin, cout} }, []int{1, 3, 5}},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const batch, cin, cout = 2, 3, 4
	for _, op := range ops {
		for _, k := range op.kernels {
			for _, stride := range []int{1, 2} {
				for _, size := range []int{8, 7, 2, 1} { // 2, 1: most taps read only padding.
					name := fmt.Sprintf("%s/k%d_s%d_%dx%d", op.name, k, stride, size, size)
					t.Run(name, func(t *testing.T) {
						x := randTensor(rng, batch, size, size, cin)
						w := randTensor(rng, op.wDims(k, cin, cout)...)
						_, _, out := SamePadding(size, k, stride)
						outC := cout
						if op.name == "depthwise" {
							outC = cin
						}
						r := randTensor(rng, batch, out, out, outC)
						flavours := testFlavours
						results := make([][]*tensors.Tensor, len(flavours))
						for fi, flavour := range flavours {
							exec, err := NewExec(b, func(x, w, r *Node) []*Node {
								y := flavour.Out(op.fn(flavour, flavour.In(x), w, stride))
								loss := ReduceAllSum(Mul(y, r))
								grads := Gradient(loss, x, w)
								return []*Node{y, grads[0], grads[1]}
							})
							if err != nil {
								t.Fatal(err)
							}
							res, err := exec.Exec(x, w, r)
							if err != nil {
								t.Fatalf("%s: %v", flavour, err)
							}
							results[fi] = res
						}
						for fi, flavour := range flavours[1:] {
							for i, what := range []string{"output", "d/dx", "d/dw"} {
								native, lowered := results[0][i], results[fi+1][i]
								if !native.Shape().Equal(lowered.Shape()) {
									t.Fatalf("%s %s: shape %s, native %s", flavour, what, lowered.Shape(), native.Shape())
								}
								if what == "output" && native.Shape().Dimensions[1] != out {
									t.Fatalf("output size %d, want ceil(%d/%d)=%d", native.Shape().Dimensions[1], size, stride, out)
								}
								e := maxRelErr(tensors.MustCopyFlatData[float32](lowered), tensors.MustCopyFlatData[float32](native))
								if e > 1e-4 {
									t.Errorf("%s %s: relative error %.2g > 1e-4", flavour, what, e)
								}
							}
						}
					})
				}
			}
		}
	}
}

// TestSamePadding checks TF "SAME" padding on known values.
func TestSamePadding(t *testing.T) {
	for _, c := range []struct{ in, k, s, lo, hi, out int }{
		{32, 3, 1, 1, 1, 32}, {32, 3, 2, 0, 1, 16}, {33, 3, 2, 1, 1, 17},
		{32, 5, 2, 1, 2, 16}, {7, 5, 1, 2, 2, 7}, {8, 1, 2, 0, 0, 4}, {7, 1, 2, 0, 0, 4},
	} {
		lo, hi, out := SamePadding(c.in, c.k, c.s)
		if lo != c.lo || hi != c.hi || out != c.out {
			t.Errorf("SamePadding(%d, k=%d, s=%d) = (%d, %d, %d), want (%d, %d, %d)",
				c.in, c.k, c.s, lo, hi, out, c.lo, c.hi, c.out)
		}
	}
}

// TestNativeMatchesDirectSum checks the native path itself against a direct
// loop over TF SAME-padded inputs (so both flavours are anchored to TF, not to
// each other).
func TestNativeMatchesDirectSum(t *testing.T) {
	b := testBackend(t)
	rng := rand.New(rand.NewPCG(3, 4))
	const n, size, cin, cout, k, stride = 1, 6, 2, 3, 3, 2
	x := randTensor(rng, n, size, size, cin)
	w := randTensor(rng, k, k, cin, cout)
	exec, err := NewExec(b, func(x, w *Node) *Node { return Ops{}.Conv(x, w, stride) })
	if err != nil {
		t.Fatal(err)
	}
	res, err := exec.Exec(x, w)
	if err != nil {
		t.Fatal(err)
	}
	got := tensors.MustCopyFlatData[float32](res[0])
	xs, ws := tensors.MustCopyFlatData[float32](x), tensors.MustCopyFlatData[float32](w)
	lo, _, out := SamePadding(size, k, stride)
	want := make([]float32, out*out*cout)
	for oy := range out {
		for ox := range out {
			for co := range cout {
				var s float32
				for dy := range k {
					for dx := range k {
						iy, ix := oy*stride+dy-lo, ox*stride+dx-lo
						if iy < 0 || ix < 0 || iy >= size || ix >= size {
							continue
						}
						for ci := range cin {
							s += xs[(iy*size+ix)*cin+ci] * ws[((dy*k+dx)*cin+ci)*cout+co]
						}
					}
				}
				want[(oy*out+ox)*cout+co] = s
			}
		}
	}
	if e := maxRelErr(got, want); e > 1e-5 {
		t.Errorf("native conv differs from the direct TF SAME sum: relative error %.2g", e)
	}
}

// TestBatchNormGradient compares the written-out BatchNorm training gradient
// with gomlx's autodiff of the same forward (GOMLX_FUSION=0 selects it).
func TestBatchNormGradient(t *testing.T) {
	b := testBackend(t)
	rng := rand.New(rand.NewPCG(7, 8))
	x := randTensor(rng, 4, 3, 3, 5)
	r := randTensor(rng, 4, 3, 3, 5)
	run := func() []*tensors.Tensor {
		store := model.NewStore()
		store.SetParam(model.ParamInitialSeed, int64(1))
		exec, err := model.NewExec(b, store, func(scope *model.Scope, x, r *Node) []*Node {
			g := x.Graph()
			scope.SetTraining(g, true)
			// Non-trivial gamma and beta.
			bn := scope.In("bn")
			gamma := bn.WithInitializer(initializer.RandomNormalFn(scope, 1)).VariableWithShape(BNGamma, shapes.Make(dtypes.Float32, 5))
			beta := bn.WithInitializer(initializer.RandomNormalFn(scope, 1)).VariableWithShape(BNBeta, shapes.Make(dtypes.Float32, 5))
			y := BatchNorm(bn, x, 0.9, 1e-3)
			loss := ReduceAllSum(Mul(Square(y), r))
			grads := Gradient(loss, x, gamma.NodeValue(g), beta.NodeValue(g))
			return append([]*Node{y}, grads...)
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Exec(x, r)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	written := run()
	t.Setenv("GOMLX_FUSION", "0")
	autodiff := run()
	for i, what := range []string{"output", "d/dx", "d/dgamma", "d/dbeta"} {
		e := maxRelErr(tensors.MustCopyFlatData[float32](written[i]), tensors.MustCopyFlatData[float32](autodiff[i]))
		if e > 1e-4 {
			t.Errorf("%s: written-out and autodiff differ by %.2g", what, e)
		}
	}
}

// TestRelu compares Relu (gradient from the output) with gomlx's.
func TestRelu(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	x, r := randTensor(rng, 3, 17), randTensor(rng, 3, 17)
	var res [2][]*tensors.Tensor
	for i, relu := range []func(*Node) *Node{Relu, activation.Relu} {
		exec, err := NewExec(testBackend(t), func(x, r *Node) []*Node {
			y := relu(x)
			return []*Node{y, Gradient(ReduceAllSum(Mul(Square(y), r)), x)[0]}
		})
		if err != nil {
			t.Fatal(err)
		}
		if res[i], err = exec.Exec(x, r); err != nil {
			t.Fatal(err)
		}
	}
	for i, what := range []string{"output", "gradient"} {
		if e := maxRelErr(tensors.MustCopyFlatData[float32](res[0][i]), tensors.MustCopyFlatData[float32](res[1][i])); e > 1e-6 {
			t.Errorf("Relu %s differs from gomlx's by %.2g", what, e)
		}
	}
}

// TestLoweredOnONNX runs the lowered ops (forward and gradients) on ONNX
// Runtime, where gradients of strided convolutions and slices cannot run, and
// compares them with the native ops on the Go backend. Skipped when ONNX
// Runtime is not installed (make setup installs it).
func TestLoweredOnONNX(t *testing.T) {
	_, err := backend.ONNXRuntimeLibrary()
	testenv.NeedONNX(t, err)
	var notices strings.Builder
	backend.Notices = &notices
	defer func() { backend.Notices = os.Stderr }()
	ob, err := backend.New("onnx")
	if err == nil && ob.Name() != "onnxruntime" {
		err = fmt.Errorf("the onnx backend fell back to %s: %s", ob.Name(), notices.String())
	}
	testenv.NeedONNX(t, err)
	rng := rand.New(rand.NewPCG(10, 11))
	type opFn func(o Ops, x, w *Node) *Node
	for _, c := range []struct {
		name  string
		fn    opFn
		wDims []int
	}{
		{"pointwise_s2", func(o Ops, x, w *Node) *Node { return o.Pointwise(x, w, 2) }, []int{3, 4}},
		{"depthwise_k3_s2", func(o Ops, x, w *Node) *Node { return o.Depthwise(x, w, 2) }, []int{3, 3, 3}},
		{"depthwise_k5_s1", func(o Ops, x, w *Node) *Node { return o.Depthwise(x, w, 1) }, []int{5, 5, 3}},
		{"conv_k3_s2", func(o Ops, x, w *Node) *Node { return o.Conv(x, w, 2) }, []int{3, 3, 3, 4}},
	} {
		x := randTensor(rng, 2, 7, 7, 3)
		w := randTensor(rng, c.wDims...)
		graphFn := func(o Ops) func(x, w *Node) []*Node {
			return func(x, w *Node) []*Node {
				y := o.Out(c.fn(o, o.In(x), w))
				return append([]*Node{y}, Gradient(ReduceAllSum(Square(y)), x, w)...)
			}
		}
		var res [4][]*tensors.Tensor
		for i, run := range []struct {
			be compute.Backend
			o  Ops
		}{{testBackend(t), Ops{}}, {ob, Ops{Lowered: true}}, {ob, Ops{Lowered: true, Layout: CHWN, dw: dwWindows}},
			{ob, Ops{Lowered: true, Layout: CHWN, dw: dwBanded}}} {
			exec, err := NewExec(run.be, graphFn(run.o))
			if err != nil {
				t.Fatal(err)
			}
			xc, _ := x.LocalClone()
			wc, _ := w.LocalClone()
			out, err := exec.Exec(xc, wc)
			if err != nil {
				t.Fatalf("%s on %s: %v", c.name, run.be.Name(), err)
			}
			for _, o := range out {
				o.ToLocal()
			}
			res[i] = out
		}
		for j := 1; j < len(res); j++ {
			for i, what := range []string{"output", "d/dx", "d/dw"} {
				if e := maxRelErr(tensors.MustCopyFlatData[float32](res[j][i]), tensors.MustCopyFlatData[float32](res[0][i])); e > 1e-4 {
					t.Errorf("%s %s: ONNX lowered (flavour %d) vs Go native relative error %.2g", c.name, what, j, e)
				}
			}
		}
	}
}

// TestSubsample checks x[:, ::2, ::2, :] and its gradient in every flavour.
func TestSubsample(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	for _, size := range []int{6, 7} {
		x := randTensor(rng, 2, size, size, 3)
		out := (size + 1) / 2
		r := randTensor(rng, 2, out, out, 3)
		var res [][]*tensors.Tensor
		for _, o := range testFlavours {
			exec, err := NewExec(testBackend(t), func(x, r *Node) []*Node {
				y := o.Out(o.Subsample(o.In(x), 2))
				return []*Node{y, Gradient(ReduceAllSum(Mul(y, r)), x)[0]}
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := exec.Exec(x, r)
			if err != nil {
				t.Fatalf("%s: %v", o, err)
			}
			res = append(res, got)
		}
		xs := tensors.MustCopyFlatData[float32](x)
		want := tensors.MustCopyFlatData[float32](res[0][0])
		if want[3*out+1] != xs[3*2*size+1] { // y[0,0,1,1] = x[0,0,2,1]
			t.Fatalf("native subsample is wrong")
		}
		for i := 1; i < len(res); i++ {
			for j := range 2 {
				if e := maxRelErr(tensors.MustCopyFlatData[float32](res[i][j]), tensors.MustCopyFlatData[float32](res[0][j])); e != 0 {
					t.Errorf("size %d flavour %d output %d differs from the strided slice by %.2g", size, i, j, e)
				}
			}
		}
	}
}

// TestDense compares the lowered Dense (output and both gradients) with
// gomlx's MatMul, for weights wider and narrower than the batch (both ways
// of the weight gradient).
func TestDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 15))
	for _, d := range [][3]int{{5, 3, 7}, {5, 7, 3}} {
		x, w := randTensor(rng, d[0], d[1]), randTensor(rng, d[1], d[2])
		r := randTensor(rng, d[0], d[2])
		var res [2][]*tensors.Tensor
		for i, o := range []Ops{{}, {Lowered: true}} {
			exec, err := NewExec(testBackend(t), func(x, w, r *Node) []*Node {
				y := o.Dense(x, w)
				return append([]*Node{y}, Gradient(ReduceAllSum(Mul(y, r)), x, w)...)
			})
			if err != nil {
				t.Fatal(err)
			}
			if res[i], err = exec.Exec(x, w, r); err != nil {
				t.Fatal(err)
			}
		}
		for i, what := range []string{"output", "d/dx", "d/dw"} {
			if e := maxRelErr(tensors.MustCopyFlatData[float32](res[1][i]), tensors.MustCopyFlatData[float32](res[0][i])); e > 1e-5 {
				t.Errorf("%v %s: lowered Dense differs from MatMul by %.2g", d, what, e)
			}
		}
	}
}

// TestCrop compares Crop (output and gradient) with Slice.
func TestCrop(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 17))
	x := randTensor(rng, 5, 5, 3, 4)
	starts, sizes := []int{1, 2, 0, 1}, []int{3, 1, 3, 2}
	r := randTensor(rng, sizes...)
	var res [2][]*tensors.Tensor
	for i, crop := range []func(x *Node) *Node{
		func(x *Node) *Node { return Crop(x, starts, sizes) },
		func(x *Node) *Node {
			return Slice(x, AxisRange(1, 4), AxisRange(2, 3), AxisRange(0, 3), AxisRange(1, 3))
		},
	} {
		exec, err := NewExec(testBackend(t), func(x, r *Node) []*Node {
			y := crop(x)
			return []*Node{y, Gradient(ReduceAllSum(Mul(y, r)), x)[0]}
		})
		if err != nil {
			t.Fatal(err)
		}
		if res[i], err = exec.Exec(x, r); err != nil {
			t.Fatal(err)
		}
	}
	for i, what := range []string{"output", "gradient"} {
		if e := maxRelErr(tensors.MustCopyFlatData[float32](res[0][i]), tensors.MustCopyFlatData[float32](res[1][i])); e != 0 {
			t.Errorf("Crop %s differs from Slice's by %.2g", what, e)
		}
	}
}

// TestDenseOneImage checks Dense's inference form for one image and known
// weights (the transposed weights in two halves, zero-padded when the
// output width is odd) against MatMul.
func TestDenseOneImage(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 17))
	for _, d := range [][2]int{{7, 5}, {6, 8}, {33, 1}} {
		x, w := randTensor(rng, 1, d[0]), randTensor(rng, d[0], d[1])
		var res [2][]float32
		for i, lowered := range []bool{false, true} {
			exec, err := NewExec(testBackend(t), func(x *Node) *Node {
				wc := newConst(x.Graph(), tensors.MustCopyFlatData[float32](w), d[0], d[1])
				return Ops{Lowered: lowered}.Dense(x, wc)
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Exec(x)
			if err != nil {
				t.Fatal(err)
			}
			if got := out[0].Shape().Dimensions; got[0] != 1 || got[1] != d[1] {
				t.Fatalf("%v: output shaped %v", d, got)
			}
			res[i] = tensors.MustCopyFlatData[float32](out[0])
		}
		if e := maxRelErr(res[1], res[0]); e > 1e-5 {
			t.Errorf("%v: one-image Dense differs from MatMul by %.2g", d, e)
		}
	}
}

// TestConvReadTaps compares ConvReadTaps with Conv of the full kernel whose
// taps outside ReadTaps are zero (output and gradients; the weight gradient
// is Conv's on the read taps), in every flavour, on maps small enough that
// most taps read only padding.
func TestConvReadTaps(t *testing.T) {
	b := testBackend(t)
	rng := rand.New(rand.NewPCG(18, 19))
	const batch, cin, cout = 2, 3, 4
	for _, k := range []int{3, 5} {
		for _, stride := range []int{1, 2} {
			for _, size := range [][2]int{{1, 1}, {2, 2}, {2, 3}, {3, 3}, {6, 6}} {
				y0, y1 := ReadTaps(size[0], k, stride)
				x0, x1 := ReadTaps(size[1], k, stride)
				if size == [2]int{6, 6} && (y0 != 0 || y1 != k) {
					t.Errorf("k%d s%d on 6 pixels: read taps [%d, %d), want all", k, stride, y0, y1)
				}
				if size[0] == 1 && stride == 1 && (y0 != k/2 || y1 != k/2+1) {
					t.Errorf("k%d s1 on 1 pixel: read taps [%d, %d), want the centre", k, y0, y1)
				}
				x := randTensor(rng, batch, size[0], size[1], cin)
				wr := randTensor(rng, y1-y0, x1-x0, cin, cout)
				_, _, oh := SamePadding(size[0], k, stride)
				_, _, ow := SamePadding(size[1], k, stride)
				r := randTensor(rng, batch, oh, ow, cout)
				for _, o := range testFlavours {
					name := fmt.Sprintf("k%d_s%d_%dx%d/%s", k, stride, size[0], size[1], o)
					var res [2][]*tensors.Tensor
					for i, read := range []bool{true, false} {
						exec, err := NewExec(b, func(x, wr, r *Node) []*Node {
							var y *Node
							if read {
								y = o.ConvReadTaps(o.In(x), wr, k, stride)
							} else {
								w := window(wr, []int{0, 1}, []int{-y0, -x0}, []int{k, k})
								y = o.Conv(o.In(x), w, stride)
							}
							y = o.Out(y)
							g := Gradient(ReduceAllSum(Mul(y, r)), x, wr)
							return []*Node{y, g[0], g[1]}
						})
						if err != nil {
							t.Fatal(err)
						}
						if res[i], err = exec.Exec(x, wr, r); err != nil {
							t.Fatalf("%s: %v", name, err)
						}
					}
					for i, what := range []string{"output", "d/dx", "d/dw"} {
						if e := maxRelErr(tensors.MustCopyFlatData[float32](res[0][i]), tensors.MustCopyFlatData[float32](res[1][i])); e > 1e-5 {
							t.Errorf("%s %s: ConvReadTaps differs from Conv by %.2g", name, what, e)
						}
					}
				}
			}
		}
	}
}
