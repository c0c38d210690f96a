package export

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"google.golang.org/protobuf/proto"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/blocks/convnet"
	"github.com/multihw/multihw/internal/testenv"
	"github.com/multihw/multihw/train"
	"github.com/multihw/multihw/train/data"
)

// network is an architecture with random weights and random BatchNorm
// statistics (an initialised network's BatchNorm is the identity, which
// would leave the fold untested), and its reference: the Go backend running
// blocks/convnet's inference graph on the same variables, raw pixels
// normalised as train.NewInference does.
type network struct {
	arch  *blocks.Arch
	info  train.DatasetInfo
	store *model.Store
	ref   *model.Exec
}

func newNetwork(t *testing.T, arch *blocks.Arch, seed uint64) *network {
	t.Helper()
	be, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	r, c := arch.Resolution, arch.Channels
	classes := make([]string, arch.Classes)
	for i := range classes {
		classes[i] = fmt.Sprintf("class%d", i)
	}
	norm := data.Norm{}
	for i := range c {
		norm.Mean = append(norm.Mean, 0.3+0.1*float32(i))
		norm.Std = append(norm.Std, 0.2+0.05*float32(i))
	}
	n := &network{arch: arch, info: train.DatasetInfo{Classes: classes, Height: r, Width: r, Channels: c, Norm: norm}, store: model.NewStore()}
	t.Cleanup(n.store.Finalize)
	n.store.SetParam(model.ParamInitialSeed, int64(seed))
	b := convnet.New(arch)
	sub, mul := train.PixelNormalization(norm)
	fn := func(scope *model.Scope, images *graph.Node) *graph.Node {
		g := images.Graph()
		x := graph.Mul(graph.Sub(images, graph.Const(g, tensors.FromFlatDataAndDimensions(sub, 1, 1, 1, c))),
			graph.Const(g, tensors.FromFlatDataAndDimensions(mul, 1, 1, 1, c)))
		return b.Logits(scope.In(train.ModelScope), x)
	}
	// Create the variables, then randomise BatchNorm and the biases.
	init, err := model.NewExec(be, n.store, fn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := init.Exec(tensors.FromShape(shapes.Make(dtypes.Float32, 1, r, r, c))); err != nil {
		t.Fatal(err)
	}
	init.Finalize()
	rng := rand.New(rand.NewPCG(seed, 7))
	for v := range n.store.IterVariables() {
		var gen func() float32
		switch v.Name() {
		case convnet.BNGamma:
			gen = func() float32 { return 0.5 + rng.Float32() }
		case convnet.BNBeta, convnet.VarBiases:
			gen = func() float32 { return 0.3 * float32(rng.NormFloat64()) }
		case convnet.BNMovingMean:
			gen = func() float32 { return 0.5 * float32(rng.NormFloat64()) }
		case convnet.BNMovingVariance:
			gen = func() float32 { return 0.2 + 2*rng.Float32() }
		default:
			continue
		}
		vals := make([]float32, v.Shape().Size())
		for i := range vals {
			vals[i] = gen()
		}
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(vals, v.Shape().Dimensions...)); err != nil {
			t.Fatal(err)
		}
	}
	if n.ref, err = model.NewExec(be, n.store, fn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.ref.Finalize)
	return n
}

// weights reads the network's variables as DeployModel does a checkpoint's.
func (n *network) weights(path string) (*tensors.Tensor, error) {
	v := n.store.GetVariable("/" + train.ModelScope + "/" + path)
	if v == nil {
		return nil, fmt.Errorf("no variable %q", path)
	}
	t, err := v.Value()
	if err != nil {
		return nil, err
	}
	return t.LocalClone()
}

func (n *network) deploy(t *testing.T, opset int) []byte {
	t.Helper()
	m, err := DeployModel(n.arch, n.info, n.weights, opset)
	if err != nil {
		t.Fatalf("%s: %v", n.arch.Name, err)
	}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compareORT runs model in ONNX Runtime and the reference on random images,
// in batches of the given sizes (one session: the batch is dynamic), and
// returns the largest logit difference, relative to max(1, |logit|), and the
// top-1 agreement.
func (n *network) compareORT(t *testing.T, ort compute.Backend, model []byte, seed uint64, batches ...int) (maxRel, agree float64) {
	t.Helper()
	m, err := loadORT(ort, model, n.info)
	if err != nil {
		t.Fatalf("%s: %v", n.arch.Name, err)
	}
	defer m.Finalize()
	rng := rand.New(rand.NewPCG(seed, 3))
	r, c := n.arch.Resolution, n.arch.Channels
	var got, want []float32
	for _, b := range batches {
		img := make([]float32, b*r*r*c)
		for i := range img {
			img[i] = float32(rng.IntN(256))
		}
		g, err := m.logits(img, b)
		if err != nil {
			t.Fatalf("%s, batch %d: %v", n.arch.Name, b, err)
		}
		out, err := n.ref.Exec(tensors.FromFlatDataAndDimensions(img, b, r, r, c))
		if err != nil {
			t.Fatal(err)
		}
		w, err := tensors.CopyFlatData[float32](out[0])
		if err != nil {
			t.Fatal(err)
		}
		got, want = append(got, g...), append(want, w...)
	}
	scale := 1.0
	for _, v := range want {
		scale = max(scale, math.Abs(float64(v)))
	}
	for i := range want {
		d := math.Abs(float64(got[i])-float64(want[i])) / scale
		if !(d <= maxRel) {
			maxRel = d
		}
	}
	t.Logf("%s: largest |logit| %.3g", n.arch.Name, scale)
	_, agree = compare(want, got, n.arch.Classes)
	return maxRel, agree
}

func needORT(t *testing.T) compute.Backend {
	t.Helper()
	ort, err := ONNXRuntime()
	testenv.NeedONNX(t, err)
	return ort
}

// kindsSpec has every block kind and option: IBN (expansion 1 with and
// without keepexp, kernels 3 and 5, stride 2, residuals), fused IBN (the
// same), every UIB variant (start and middle depthwise, either, none; the
// stride on the middle or the start depthwise), conv blocks (1×1 and k×k,
// stride 2, ReLU6), a block without its residual, and a head with conv and
// hidden layer, on an odd input size (SAME padding of odd maps).
const kindsSpec = `name kinds
input 15x15x3
classes 5
stem cn_k3_s2_c8
ir_k3_s1_e1_c8
ir_k3_s1_e1_c8_keepexp
ir_k5_s2_e3_c16
er_k3_s1_e1_c16
er_k3_s1_e1_c16_keepexp
er_k5_s2_e2_c24
uir_a3_k5_s1_e2_c24
uir_a0_k3_s2_e2_c32
uir_a5_k0_s1_e3_c32
uir_a0_k0_s1_e2_c32
uir_a3_k0_s2_e2_c40
cn_k1_s1_c40
cn_k3_s2_c48_nr6
ir_k3_s1_e2_c48_noskip
ir_k3_s1_e2_c48_nr6
head c64_h32_d0.2
`

// TestDeployEqualsGoBackend: the deployment graph in ONNX Runtime computes
// the Go backend's logits, for every block kind and option, every head
// variant, one and three input channels, and every reference model.
func TestDeployEqualsGoBackend(t *testing.T) {
	ort := needORT(t)
	kinds, err := blocks.Parse(kindsSpec)
	if err != nil {
		t.Fatal(err)
	}
	archs := []*blocks.Arch{kinds}
	for _, head := range []string{"none", "c24", "h16_d0.5", "c24_h16"} {
		a, err := blocks.Parse(fmt.Sprintf("name head_%s\ninput 8x8x1\nclasses 3\nstem cn_k1_s1_c8\nir_k3_s2_e2_c8\nhead %s\n", head, head))
		if err != nil {
			t.Fatal(err)
		}
		archs = append(archs, a)
	}
	for _, name := range blocks.ReferenceNames() {
		a, err := blocks.Model(name)
		if err != nil {
			t.Fatal(err)
		}
		a.Resolution, a.Classes = 32, 10 // small enough for the Go backend; every stride still applies
		archs = append(archs, a)
	}
	for i, a := range archs {
		n := newNetwork(t, a, uint64(i+1))
		model := n.deploy(t, DefaultOpset)
		s, err := Summarize(model)
		if err != nil {
			t.Fatal(err)
		}
		rel, agree := n.compareORT(t, ort, model, uint64(i), 3, 1)
		t.Logf("%-22s %3d nodes (%s): max relative |Δlogit| %.2g, top-1 agreement %g", a.Name, s.Nodes, s.Histogram(), rel, agree)
		if rel > 1e-4 || agree != 1 {
			t.Errorf("%s: ONNX Runtime vs Go backend: max relative logit difference %g, top-1 agreement %g", a.Name, rel, agree)
		}
		checkDeployGraph(t, a, s)
	}
}

// checkDeployGraph checks the structure every deployment graph has: the
// input's Transpose and normalisation, then one node per op of the plan (a
// Conv per convolution, BatchNorm folded: no BatchNormalization, Sqrt or
// Div) and one per activation; as many stored weights as blocks.Analyze
// counts for the deployed network (kernels and biases, BatchNorm folded);
// a symbolic batch.
func checkDeployGraph(t *testing.T, a *blocks.Arch, s *Summary) {
	t.Helper()
	np, err := a.Plan()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"Transpose": 1, "Sub": 1, "Mul": 1}
	for _, p := range append(append([]blocks.Plan{np.Stem}, np.Blocks...), np.Head) {
		for _, op := range p.Ops {
			switch op.Op {
			case blocks.OpConv, blocks.OpFused, blocks.OpPW, blocks.OpDW:
				want["Conv"]++
			case blocks.OpAdd:
				want["Add"]++
			case blocks.OpPool:
				want["GlobalAveragePool"]++
				want["Flatten"]++
			case blocks.OpFC:
				want["Gemm"]++
			}
			switch op.Act {
			case blocks.ReLU:
				want["Relu"]++
			case blocks.ReLU6:
				want["Clip"]++
			}
		}
	}
	if fmt.Sprint(s.Ops) != fmt.Sprint(want) {
		t.Errorf("%s: ops %v, want %v (one node per op of the plan)", a.Name, s.Ops, want)
	}
	an, err := blocks.Analyze(a, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The normalisation's mean and 1/std, and Clip's bounds.
	extra := int64(2 * a.Channels)
	if want["Clip"] > 0 {
		extra += 2
	}
	if s.Weights != an.Weights+extra {
		t.Errorf("%s: %d stored values, want the analysis' %d deployed weights + %d", a.Name, s.Weights, an.Weights, extra)
	}
	if !slices.Equal(s.InputDims, []string{BatchDim, fmt.Sprint(a.Resolution), fmt.Sprint(a.Resolution), fmt.Sprint(a.Channels)}) ||
		!slices.Equal(s.OutputDims, []string{BatchDim, fmt.Sprint(a.Classes)}) {
		t.Errorf("%s: input %v, output %v", a.Name, s.InputDims, s.OutputDims)
	}
	if s.Opset != DefaultOpset || s.IRVersion != IRVersion(DefaultOpset) {
		t.Errorf("%s: opset %d, IR %d", a.Name, s.Opset, s.IRVersion)
	}
}

// TestDeployMultiAVG: MobileNet-MultiHW-AVG as published (224 px, 1001
// classes) is close to the minimal graph, under 150 nodes, and matches the Go
// backend.
func TestDeployMultiAVG(t *testing.T) {
	ort := needORT(t)
	a, err := blocks.Model("multi_avg")
	if err != nil {
		t.Fatal(err)
	}
	n := newNetwork(t, a, 11)
	model := n.deploy(t, DefaultOpset)
	s, err := Summarize(model)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("multi_avg at %d px: %d nodes: %s; %d initializers, %.1f MB", a.Resolution, s.Nodes, s.Histogram(), s.Initializers, float64(len(model))/1e6)
	if s.Nodes >= 150 {
		t.Errorf("multi_avg: %d nodes, want < 150: %s", s.Nodes, s.Histogram())
	}
	checkDeployGraph(t, a, s)
	rel, agree := n.compareORT(t, ort, model, 1, 2, 1)
	t.Logf("multi_avg: max relative |Δlogit| %.2g, top-1 agreement %g", rel, agree)
	if rel > 1e-4 || agree != 1 {
		t.Errorf("multi_avg: max relative logit difference %g, top-1 agreement %g", rel, agree)
	}
	path := filepath.Join(t.TempDir(), "multi_avg.onnx")
	if err := os.WriteFile(path, model, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := onnxCheck(t, testenv.PythonONNX(t), path), "ir 7 opset 13 output [batch, 1001]"; got != want {
		t.Errorf("multi_avg: checker says %q, want %q", got, want)
	}
}

// TestConsistencyRunsDeployedGraph: consistency's "onnx" backend is the
// exported deployment graph in ONNX Runtime, and it agrees with the Go
// backend on the test images.
func TestConsistencyRunsDeployedGraph(t *testing.T) {
	needORT(t)
	ck, ds := tinyCheckpoint(t)
	res, err := Consistency(ck, ds, []string{"go", "onnx"}, 16, 40)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.PerBackend) != 2 {
		t.Fatalf("backends %v", res.Backends)
	}
	o := res.PerBackend[1]
	t.Logf("%+v", o)
	if !strings.Contains(o.Backend, "exported deployment graph") || o.Lowered || res.N != 40 {
		t.Errorf("onnx ran %q (lowered %v) on %d images, want the exported deployment graph on 40", o.Backend, o.Lowered, res.N)
	}
	if o.Top1Agreement != 1 || o.MaxAbsLogitDiff > 1e-4 || o.Accuracy != res.PerBackend[0].Accuracy {
		t.Errorf("go vs deployed graph: agreement %g, max |Δlogit| %g, accuracies %g and %g", o.Top1Agreement, o.MaxAbsLogitDiff, res.PerBackend[0].Accuracy, o.Accuracy)
	}
	// Test images of another size than the checkpoint's are refused.
	small := *ds
	small.Test = &data.Split{Height: 8, Width: 8, Channels: 1, Pixels: make([]uint8, 64), Labels: []int32{0}}
	if _, err := Consistency(ck, &small, []string{"go", "onnx"}, 16, 0); err == nil || !strings.Contains(err.Error(), "test images are 8x8x1") {
		t.Errorf("8x8 test images: %v", err)
	}
}

// TestDeployOpsets: every accepted opset passes onnx.checker with
// full_check (Debian's python3-onnx, onnx 1.12, which accepts IR <= 8 and
// opset <= 17) and runs in ONNX Runtime with the same logits; others are
// refused with the supported range.
func TestDeployOpsets(t *testing.T) {
	ort := needORT(t)
	py := testenv.PythonONNX(t)
	a, err := blocks.Parse(kindsSpec)
	if err != nil {
		t.Fatal(err)
	}
	n := newNetwork(t, a, 5)
	dir := t.TempDir()
	for opset := MinOpset; opset <= MaxOpset; opset++ {
		model := n.deploy(t, opset)
		path := filepath.Join(dir, fmt.Sprintf("kinds_%d.onnx", opset))
		if err := os.WriteFile(path, model, 0o644); err != nil {
			t.Fatal(err)
		}
		got := onnxCheck(t, py, path)
		if want := fmt.Sprintf("ir %d opset %d output [batch, 5]", IRVersion(opset), opset); got != want {
			t.Errorf("opset %d: checker says %q, want %q", opset, got, want)
		}
		if rel, agree := n.compareORT(t, ort, model, 2, 2, 1); rel > 1e-4 || agree != 1 {
			t.Errorf("opset %d: max relative logit difference %g, agreement %g", opset, rel, agree)
		}
	}
	for _, opset := range []int{0, MinOpset - 1, MaxOpset + 1, 21} {
		if _, err := DeployModel(a, n.info, n.weights, opset); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("opsets %d to %d", MinOpset, MaxOpset)) {
			t.Errorf("opset %d: %v, want an error naming the supported range", opset, err)
		}
	}
}

// onnxCheck runs onnx.checker.check_model(full_check=True) on path and
// returns the IR version, the opset and the inferred output shape.
func onnxCheck(t *testing.T, py, path string) string {
	t.Helper()
	const script = `import sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
out = m.graph.output[0].type.tensor_type.shape.dim
print("ir %d opset %d output [%s]" % (m.ir_version, m.opset_import[0].version, ", ".join(d.dim_param or str(d.dim_value) for d in out)))
`
	out, err := exec.Command(py, "-c", script, path).CombinedOutput()
	if err != nil {
		t.Fatalf("onnx.checker on %s: %v\n%s", filepath.Base(path), err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestDeployBadWeights: a missing variable, one of the wrong shape or a
// non-finite value is an error naming the variable; an architecture that
// does not fit the images too.
func TestDeployBadWeights(t *testing.T) {
	a, err := blocks.Parse("name small\ninput 8x8x1\nclasses 3\nstem cn_k3_s2_c8\nir_k3_s1_e2_c8\nhead c16\n")
	if err != nil {
		t.Fatal(err)
	}
	n := newNetwork(t, a, 3)
	for _, c := range []struct {
		name string
		w    Weights
		want string
	}{
		{"missing", func(p string) (*tensors.Tensor, error) {
			if p == "block_00/dw/bn/moving_variance" {
				return nil, fmt.Errorf("no such variable")
			}
			return n.weights(p)
		}, "variable block_00/dw/bn/moving_variance: no such variable"},
		{"shape", func(p string) (*tensors.Tensor, error) {
			if p == "block_00/expand/weights" {
				return tensors.FromShape(shapes.Make(dtypes.Float32, 8, 8)), nil
			}
			return n.weights(p)
		}, "variable block_00/expand/weights is (Float32)[8, 8], the architecture needs float32 [8 16]"},
		{"NaN", func(p string) (*tensors.Tensor, error) {
			if p == "classifier/biases" {
				return tensors.FromFlatDataAndDimensions([]float32{0, float32(math.NaN()), 0}, 3), nil
			}
			return n.weights(p)
		}, "variable classifier/biases holds NaN"},
		{"negative variance", func(p string) (*tensors.Tensor, error) {
			if p == "stem/bn/moving_variance" {
				return tensors.FromFlatDataAndDimensions(slices.Repeat([]float32{-5}, 8), 8), nil
			}
			return n.weights(p)
		}, "op stem: convnet.FoldBatchNorm: channel 0"},
	} {
		_, err := DeployModel(a, n.info, c.w, DefaultOpset)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.want)
		}
	}
	if _, err := DeployBytes(nil, DefaultOpset); err == nil || !strings.Contains(err.Error(), "checkpoint is nil") {
		t.Errorf("nil checkpoint: %v", err)
	}
	info := n.info
	info.Channels = 3
	if _, err := DeployModel(a, info, n.weights, DefaultOpset); err == nil || !strings.Contains(err.Error(), "do not fit") {
		t.Errorf("3-channel images for a 1-channel architecture: %v", err)
	}
	info = n.info
	info.Classes = info.Classes[:2]
	if _, err := DeployModel(a, info, n.weights, DefaultOpset); err == nil || !strings.Contains(err.Error(), "class names") {
		t.Errorf("2 class names for 3 classes: %v", err)
	}
}
