package convnet

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/multihw/multihw/blocks"
)

// tinySpec covers every block kind, both strides, a residual, ReLU6 and the
// full head, at 16×16.
const tinySpec = `name tiny
input 16x16x3
classes 4
stem cn_k3_s2_c8
ir_k3_s1_e2_c8
ir_k5_s2_e3_c16_nr6
er_k3_s2_e2_c16
er_k3_s1_e1_c16
uir_a3_k3_s2_e2_c24
uir_a5_k0_s1_e2_c24
uir_a0_k3_s1_e2_c24
cn_k1_s1_c16
head c32_h24_d0.2`

func tinyArch(t testing.TB) *blocks.Arch {
	t.Helper()
	a, err := blocks.Parse(tinySpec)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// buildVariables builds the graph of arch on a [1,res,res,C] input under a
// fresh store (graph construction only) and returns the model's variables.
func buildVariables(t *testing.T, b *Builder, arch *blocks.Arch, res int) map[string]shapes.Shape {
	t.Helper()
	g := NewGraph(testBackend(t), "params")
	defer g.Finalize()
	store := model.NewStore()
	scope := store.RootScope().In("model")
	images := Parameter(g, "images", shapes.Make(dtypes.Float32, 1, res, res, arch.Channels))
	if _, err := b.Build(scope, images); err != nil {
		t.Fatalf("%s: %v", arch.Name, err)
	}
	vars := map[string]shapes.Shape{}
	for v := range scope.IterVariables() {
		vars[v.Path()] = v.Shape()
	}
	return vars
}

// TestParamsMatchAnalysis ties the graph to blocks.Analyze: for every reference
// model, the variables of each layer's scope hold exactly the layer's Params
// (kernel + 4 BatchNorm values per channel, or kernel + bias).
func TestParamsMatchAnalysis(t *testing.T) {
	// The references, and blocks of expansion 1 that keep their expansion.
	keep, err := blocks.Parse(strings.Replace(strings.ReplaceAll(tinySpec, "e1_c16", "e1_c16_keepexp"), "name tiny", "name keep", 1))
	if err != nil {
		t.Fatal(err)
	}
	refs := append(slices.Clone(blocks.References), &blocks.Reference{Name: "keep", Spec: keep.String()})
	for _, r := range refs {
		arch := r.Arch()
		an, err := blocks.Analyze(arch, 0)
		if err != nil {
			t.Fatal(err)
		}
		res := 32 // Parameter counts do not depend on the resolution.
		if arch.Name == "multi_avg" {
			res = 224
		}
		vars := buildVariables(t, New(arch), arch, res)
		var total int64
		perScope := map[string]int64{}
		for path, s := range vars {
			total += int64(s.Size())
			perScope[layerOfPath(path)] += int64(s.Size())
		}
		if total != an.Params {
			t.Errorf("%s: %d parameters in the graph, blocks.Analyze says %d", r.Name, total, an.Params)
		}
		for _, l := range an.Layers {
			if l.Params == 0 {
				continue
			}
			if got := perScope[ScopeOfLayer(l.Name)]; got != l.Params {
				t.Errorf("%s: layer %s (scope %s): %d parameters in the graph, analysis says %d",
					r.Name, l.Name, ScopeOfLayer(l.Name), got, l.Params)
			}
		}
	}
}

// layerOfPath maps "/model/block_03/dw/bn/gamma" to "block_03/dw".
func layerOfPath(path string) string {
	p := strings.TrimPrefix(path, "/model/")
	p = p[:strings.LastIndex(p, "/")]
	return strings.TrimSuffix(p, "/bn")
}

func TestVariableNames(t *testing.T) {
	arch := tinyArch(t)
	vars := buildVariables(t, New(arch), arch, 16)
	for _, want := range []string{
		"/model/stem/weights", "/model/stem/bn/gamma", "/model/stem/bn/beta",
		"/model/stem/bn/moving_mean", "/model/stem/bn/moving_variance",
		"/model/block_00/expand/weights", "/model/block_00/dw/weights", "/model/block_00/project/weights",
		"/model/block_02/fused/weights", "/model/block_03/project/weights",
		"/model/block_04/start_dw/weights", "/model/block_04/mid_dw/weights",
		"/model/block_07/conv/weights", "/model/head/conv/weights",
		"/model/head/hidden/weights", "/model/head/hidden/biases",
		"/model/classifier/weights", "/model/classifier/biases",
	} {
		if _, ok := vars[want]; !ok {
			t.Errorf("missing variable %s", want)
		}
	}
	// er_k3_s1_e1: expanded width == input width, so no expansion conv ...
	if _, ok := vars["/model/block_03/fused/weights"]; ok {
		t.Errorf("block_03 (fused IBN, expansion 1) should have no expansion conv")
	}
	// ... unless the block keeps it (keepexp).
	arch.Blocks[3].KeepExpand = true
	vars = buildVariables(t, New(arch), arch, 16)
	if s := vars["/model/block_03/fused/weights"]; !s.Equal(shapes.Make(dtypes.Float32, 3, 3, 16, 16)) {
		t.Errorf("block_03 (fused IBN, expansion 1, keepexp): expansion weights shaped %s, want [3 3 16 16]", s)
	}
	if s := vars["/model/block_01/dw/weights"]; !s.Equal(shapes.Make(dtypes.Float32, 5, 5, 24)) {
		t.Errorf("block_01 depthwise weights shaped %s, want [5 5 24]", s)
	}
}

func TestDefaultLowered(t *testing.T) {
	if !DefaultLowered(testBackend(t)) {
		t.Errorf("the Go backend should default to the lowered ops")
	}
	if got := New(tinyArch(t)).OpsFor(testBackend(t)); !got.Lowered {
		t.Errorf("Builder.OpsFor(go backend) = %s, want lowered", got)
	}
	if got := New(tinyArch(t)).Lowered(false).OpsFor(testBackend(t)); got.Lowered {
		t.Errorf("Lowered(false) ignored: %s", got)
	}
}

func TestBuildErrors(t *testing.T) {
	arch := tinyArch(t)
	bad := arch.Clone()
	bad.Blocks[1].Kernel = 4
	if err := New(bad).Err(); err == nil || !strings.Contains(err.Error(), "block 1") {
		t.Errorf("even kernel: got error %v, want one naming block 1", err)
	}
	if err := New(nil).Err(); err == nil {
		t.Errorf("nil arch: no error")
	}
	if err := New(arch).BatchNormMomentum(1.5).Err(); err == nil {
		t.Errorf("momentum 1.5: no error")
	}
	g := NewGraph(testBackend(t), "errors")
	defer g.Finalize()
	scope := model.NewStore().RootScope()
	grey := Parameter(g, "grey", shapes.Make(dtypes.Float32, 2, 16, 16, 1))
	if _, err := New(arch).Build(scope, grey); err == nil || !strings.Contains(err.Error(), "images") {
		t.Errorf("1-channel images for a 3-channel arch: got %v", err)
	}
	if _, err := New(bad).Build(scope, grey); err == nil {
		t.Errorf("Build of an invalid arch: no error")
	}
}

func randomBatch(rng *rand.Rand, arch *blocks.Arch, batch int) (*tensors.Tensor, *tensors.Tensor) {
	r, c := arch.Resolution, arch.Channels
	img := make([]float32, batch*r*r*c)
	labels := make([]int32, batch)
	for i := range batch {
		labels[i] = int32(rng.IntN(arch.Classes))
		// A learnable signal: a class-dependent brightness plus noise.
		for j := range r * r * c {
			img[i*r*r*c+j] = float32(rng.NormFloat64()*0.5) + float32(labels[i])
		}
	}
	return tensors.FromFlatDataAndDimensions(img, batch, r, r, c), tensors.FromFlatDataAndDimensions(labels, batch, 1)
}

// TestTrainAndInfer trains the tiny arch a few steps on the Go backend (the
// loss must go down), then checks inference: deterministic, and batch
// independent (BatchNorm uses its moving averages, dropout is off).
func TestTrainAndInfer(t *testing.T) {
	be := testBackend(t)
	arch := tinyArch(t)
	b := New(arch).BatchNormMomentum(0.9)
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(7))
	modelFn := func(scope *model.Scope, images *Node) *Node { return b.Logits(scope.In("model"), images) }
	trainer := train.NewTrainer(be, store, modelFn, loss.SparseCategoricalCrossEntropyLogits,
		optimizer.Adam().LearningRate(3e-3).Done(), nil, nil)
	rng := rand.New(rand.NewPCG(5, 6))
	x, y := randomBatch(rng, arch, 16)
	var first, last float64
	for step := range 12 {
		metrics, err := trainer.TrainStep(train.Batch{Inputs: []*tensors.Tensor{x}, Labels: []*tensors.Tensor{y}})
		if err != nil {
			t.Fatal(err)
		}
		l := float64(metrics[0].Value().(float32))
		if math.IsNaN(l) {
			t.Fatalf("step %d: loss is NaN", step)
		}
		if step == 0 {
			first = l
		}
		last = l
	}
	t.Logf("loss %.4f -> %.4f", first, last)
	if !(last < 0.7*first) {
		t.Errorf("loss did not go down enough: %.4f -> %.4f", first, last)
	}

	infer, err := model.NewExec(be, store, modelFn)
	if err != nil {
		t.Fatal(err)
	}
	run := func(images *tensors.Tensor) []float32 {
		out, err := infer.Exec(images)
		if err != nil {
			t.Fatal(err)
		}
		return tensors.MustCopyFlatData[float32](out[0])
	}
	a1, a2 := run(x), run(x)
	for i := range a1 {
		if a1[i] != a2[i] {
			t.Fatalf("inference is not deterministic: logit %d = %g then %g", i, a1[i], a2[i])
		}
	}
	// The first example alone gives the same logits as inside the batch.
	r, c := arch.Resolution, arch.Channels
	one := tensors.FromFlatDataAndDimensions(tensors.MustCopyFlatData[float32](x)[:r*r*c], 1, r, r, c)
	single := run(one)
	if e := maxRelErr(single, a1[:arch.Classes]); e > 1e-5 {
		t.Errorf("inference depends on the batch (BatchNorm in training mode?): relative difference %.2g", e)
	}
}

// TestLoweredAndNativeShareVariables checks that both flavours compute the same
// logits and gradients from the same variables (a checkpoint trained on one
// runs on the other).
func TestLoweredAndNativeShareVariables(t *testing.T) {
	be := testBackend(t)
	arch := tinyArch(t)
	arch.Head.Dropout = 0
	rng := rand.New(rand.NewPCG(8, 9))
	x, _ := randomBatch(rng, arch, 4)
	// Initialize the variables once (inference graph), then give each flavour
	// its own copy: the training graphs update the BatchNorm moving averages.
	store := initializedStore(t, be, arch, x, 3)
	var results [2][]float32
	for i, lowered := range []bool{false, true} {
		s, err := store.Clone()
		if err != nil {
			t.Fatal(err)
		}
		b := New(arch).Lowered(lowered)
		exec, err := model.NewExec(be, s, func(scope *model.Scope, images *Node) []*Node {
			scope.SetTraining(images.Graph(), true)
			logits := b.Logits(scope.In("model"), images)
			// A gradient with respect to the first conv's weights.
			v := scope.Store().GetVariable("/model/stem/weights")
			return []*Node{logits, Gradient(ReduceAllSum(Square(logits)), v.NodeValue(images.Graph()))[0]}
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Exec(x)
		if err != nil {
			t.Fatalf("lowered=%v: %v", lowered, err)
		}
		results[i] = append(tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])...)
	}
	if e := maxRelErr(results[1], results[0]); e > 1e-4 {
		t.Errorf("lowered and native differ: relative error %.2g", e)
	}
}

// TestLoweredInferenceMatchesNative compares inference logits (BatchNorm with
// moving averages, folded into the lowered convolutions' weights) of the
// lowered ops in both layouts with the native ones, from the same variables
// with random BatchNorm statistics.
func TestLoweredInferenceMatchesNative(t *testing.T) {
	for _, batch := range []int{1, 3} { // One image: the dense layers' own product.
		testLoweredInferenceMatchesNative(t, batch)
	}
}

func testLoweredInferenceMatchesNative(t *testing.T, batch int) {
	be := testBackend(t)
	arch := tinyArch(t)
	rng := rand.New(rand.NewPCG(21, 22))
	x, _ := randomBatch(rng, arch, batch)
	store := initializedStore(t, be, arch, x, 4)
	nbn := randomizeBatchNorm(t, store, rng)
	var want []float32
	for _, o := range []Ops{{}, {Lowered: true}, {Lowered: true, Layout: CHWN}} {
		// Inference changes no variable: one store for all. (A clone's
		// variables enter graphs as parameters, not constants.)
		folded, dense := -1, -1
		exec, err := model.NewExec(be, store, func(scope *model.Scope, images *Node) *Node {
			n, m := NewNet(o), scope.In("model")
			y := n.Stem(m, images, arch.Stem)
			for i, blk := range arch.Blocks {
				y = n.Block(m.In("%s", BlockScope(i)), y, blk)
			}
			logits := n.Head(m, y, arch.Head, arch.Classes)
			folded, dense = stateOf(images.Graph()).folded, stateOf(images.Graph()).dense
			return logits
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Exec(x)
		if err != nil {
			t.Fatalf("%s: %v", o, err)
		}
		got := tensors.MustCopyFlatData[float32](out[0])
		if want == nil {
			want = got
			if folded != 0 {
				t.Errorf("native ops: %d BatchNorms folded, want 0", folded)
			}
			continue
		}
		if folded != nbn {
			t.Errorf("%s: %d of %d BatchNorms folded into the convolutions", o, folded, nbn)
		}
		// NHWC pointwise convolutions become FusedDense ops (with their
		// shift and ReLU) on the Go backend; CHWN ones stay products.
		if wantDense := o.Layout == NHWC; (dense > 0) != wantDense || dense > folded {
			t.Errorf("%s: %d of %d folded BatchNorms in a FusedDense", o, dense, folded)
		}
		if e := maxRelErr(got, want); e > 1e-4 {
			t.Errorf("%s: inference logits differ from the native ones: relative error %.2g", o, e)
		}
	}
}

// randomizeBatchNorm gives every BatchNorm variable of store random values
// (γ, variance in [0.5, 1.5), β, mean in [-0.5, 0.5)) and returns the number
// of BatchNorms.
func randomizeBatchNorm(t *testing.T, store *model.Store, rng *rand.Rand) int {
	t.Helper()
	nbn := 0
	for v := range store.RootScope().IterVariables() {
		if !strings.Contains(v.Path(), "/bn/") {
			continue
		}
		nbn++
		vals := make([]float32, v.Shape().Size())
		for i := range vals {
			vals[i] = float32(0.5 + rng.Float64()) // positive: also a valid variance
			if strings.HasSuffix(v.Path(), BNBeta) || strings.HasSuffix(v.Path(), BNMovingMean) {
				vals[i] -= 1
			}
		}
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(vals, v.Shape().Dimensions...)); err != nil {
			t.Fatal(err)
		}
	}
	return nbn / 4
}

// initializedStore returns a store holding arch's variables under "model",
// initialized with the given seed by running its inference graph on x.
func initializedStore(t *testing.T, be compute.Backend, arch *blocks.Arch, x *tensors.Tensor, seed int64) *model.Store {
	t.Helper()
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, seed)
	initExec, err := model.NewExec(be, store, func(scope *model.Scope, images *Node) *Node {
		return New(arch).Logits(scope.In("model"), images)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := initExec.Exec(x); err != nil {
		t.Fatal(err)
	}
	return store
}
