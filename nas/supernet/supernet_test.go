package supernet

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/blocks/convnet"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/train/optim"
)

// tinySpace has every decision kind with two options, both kinds, strides 1
// and 2, kernels 3 and 5, an expansion of 1 (with or without its expansion
// conv, by the space's ExpandOne rule) and widths that change between stages
// (no residual) or not (residual).
func tinySpace() *nas.Space {
	st := func(stride, base int) nas.StageSpace {
		return nas.StageSpace{Stride: stride, BaseWidth: base, Multipliers: []float64{0.5, 1}, Depths: []int{1, 2},
			Kinds: []blocks.Kind{blocks.KindIBN, blocks.KindFused}, Kernels: []int{3, 5}, Expansions: []float64{1, 3}}
	}
	return &nas.Space{Name: "tiny", Resolution: 64, Channels: 1, Classes: 10,
		Stem:   nas.StemSpace{Kernel: 3, Stride: 2, BaseWidth: 16, Multipliers: []float64{0.5, 1}},
		Stages: []nas.StageSpace{st(2, 16), st(1, 16), st(2, 32)},
		Head:   blocks.Head{Conv: 24, Hidden: 16}}
}

func goBackend(t testing.TB) compute.Backend {
	t.Helper()
	be, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	return be
}

func randBatch(rng *rand.Rand, n, h, w, c, classes int) Batch {
	b := Batch{Images: make([]float32, n*h*w*c), Labels: make([]int32, n), Size: n}
	for i := range b.Images {
		b.Images[i] = float32(rng.NormFloat64())
	}
	for i := range b.Labels {
		b.Labels[i] = int32(rng.IntN(classes))
	}
	return b
}

// sharedSource names the supernet variable of a convnet variable at the
// path's block slots: "stem/weights" → "/supernet/stem/weights",
// "block_03/dw/weights" → "/supernet/s2/b1/ibn/dw/weights", ... (by the
// supernet's sharing mode).
func sharedSource(sn *Supernet, convPath string, slots [][2]int, kinds []blocks.Kind) string {
	rest := strings.TrimPrefix(convPath, "/model/")
	if !strings.HasPrefix(rest, "block_") {
		return "/supernet/" + rest
	}
	var i int
	if _, err := fmt.Sscanf(rest, "block_%02d", &i); err != nil {
		panic(err)
	}
	op, leaf, _ := strings.Cut(rest[len("block_00/"):], "/")
	return "/supernet/" + sn.geo.blockVar(slots[i][0], slotPrefix(slots[i][0], slots[i][1]), kinds[i], op) + "/" + leaf
}

func slotsOf(p *Path) [][2]int {
	var s [][2]int
	for _, b := range p.blocks {
		s = append(s, [2]int{b.stage, b.index})
	}
	return s
}

// sliceDims is the shape of the slice of a supernet variable shaped full
// that a convnet variable shaped conv uses: a 1×1 expansion shared with a
// k×k one is its centre tap.
func sliceDims(full, conv []int) []int {
	if len(full) == 4 && len(conv) == 2 {
		return []int{1, 1, conv[0], conv[1]}
	}
	return conv
}

// extract returns the sub-array of full (row-major, shape full) of shape want:
// kernels (the first two axes of rank-3 and rank-4 weights) centred, every
// other axis from 0 — the sharing rule, written independently of forRuns.
func extract(full []float32, fullShape, want []int) []float32 {
	r := len(want)
	off := make([]int, r)
	if r >= 3 {
		off[0] = (fullShape[0] - want[0]) / 2
		off[1] = (fullShape[1] - want[1]) / 2
	}
	out := make([]float32, prod(want))
	idx := make([]int, r)
	for n := range out {
		rem := n
		for a := r - 1; a >= 0; a-- {
			idx[a] = rem % want[a]
			rem /= want[a]
		}
		flat := 0
		for a := range r {
			flat = flat*fullShape[a] + idx[a] + off[a]
		}
		out[n] = full[flat]
	}
	return out
}

// convnetRun runs blocks/convnet's standalone build of arch (BatchNorm in
// training mode) on b with the supernet's weights copied into its variables,
// and returns the logits and the gradients of the loss (no label smoothing)
// with respect to its trainable variables, by path.
func convnetRun(t *testing.T, sn *Supernet, path *Path, b Batch) (logits []float32, grads map[string][]float32, dims map[string][]int) {
	t.Helper()
	arch := path.Proxy.Clone()
	arch.Head.Dropout = 0
	kinds := make([]blocks.Kind, len(arch.Blocks))
	for i, blk := range arch.Blocks {
		kinds[i] = blk.Kind
	}
	be := sn.Backend()
	// Discover convnet's variables by building the graph once.
	store := model.NewStore()
	net := convnet.New(arch).Lowered(sn.ops.Lowered)
	g := NewGraph(be, "discover")
	images := Parameter(g, "images", shapes.Make(dtypes.Float32, b.Size, sn.cfg.Height, sn.cfg.Width, sn.cfg.Channels))
	if _, err := net.Build(store.RootScope().In("model"), images); err != nil {
		t.Fatal(err)
	}
	g.Finalize()
	var trainable []string
	dims = map[string][]int{}
	for v := range store.IterVariables() {
		if !v.Trainable {
			continue
		}
		src := sharedSource(sn, v.Path(), slotsOf(path), kinds)
		p := sn.byPath[src]
		if p == nil {
			t.Fatalf("convnet variable %s: no supernet variable %s", v.Path(), src)
		}
		d := v.Shape().Dimensions
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(extract(p.w, p.spec.shape, sliceDims(p.spec.shape, d)), d...)); err != nil {
			t.Fatal(err)
		}
		dims[v.Path()] = d
		trainable = append(trainable, v.Path())
	}
	ex, err := model.NewExec(be, store, func(scope *model.Scope, images, labels *Node) []*Node {
		g := images.Graph()
		scope.Store().SetTraining(g, true)
		logits := net.Logits(scope.In("model"), images)
		loss := convnet.SmoothedCrossEntropy(logits, labels, 0)
		var vars []*Node
		for _, p := range trainable {
			vars = append(vars, store.GetVariable(p).NodeValue(g))
		}
		return append([]*Node{logits}, Gradient(loss, vars...)...)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Finalize()
	out, err := ex.Exec(tensors.FromFlatDataAndDimensions(b.Images, b.Size, sn.cfg.Height, sn.cfg.Width, sn.cfg.Channels),
		tensors.FromFlatDataAndDimensions(b.Labels, b.Size))
	if err != nil {
		t.Fatal(err)
	}
	logits = tensors.MustCopyFlatData[float32](out[0])
	grads = map[string][]float32{}
	for i, p := range trainable {
		grads[p] = tensors.MustCopyFlatData[float32](out[1+i])
	}
	return logits, grads, dims
}

func maxAbsDiff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

func maxAbs(a []float32) float64 {
	var m float64
	for _, v := range a {
		m = math.Max(m, math.Abs(float64(v)))
	}
	return m
}

func maxRelDiff(a, b []float32) float64 {
	var num, den float64
	for i := range a {
		num = math.Max(num, math.Abs(float64(a[i]-b[i])))
		den = math.Max(den, math.Abs(float64(b[i])))
	}
	return num / math.Max(den, 1e-12)
}

// TestPathEqualsStandaloneConvnet is the strong check of the weight sharing
// and of the one-network rule: for points that take every option of every
// decision (nas.Space.CoveringPoints: every kind × kernel × expansion,
// expansion 1 included, every width and depth), under both expansion-1 rules,
// the supernet's path graph computes the same logits as blocks/convnet's
// build of the architecture the space deploys (blocks.ProxyArch of
// space.Arch(point) at the proxy width, built here independently of the
// supernet) with the weights copied from the shared variables by the sharing
// rule (centred kernels, leading channels); one plain SGD step changes
// exactly those slices, by −lr × convnet's gradient; and the path uses one
// weight slice per variable of that network, whose layers are those
// blocks.Analyze counts.
func TestPathEqualsStandaloneConvnet(t *testing.T) {
	be := goBackend(t)
	sgd := Optimizer{Kind: optim.SGD}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, mode := range []struct {
		width   float64
		sharing Sharing
		rule    nas.ExpandOne
	}{{1, ShareExpandProject, nas.ExpandOneKeep}, {0.5, ShareNothing, nas.ExpandOneKeep}, {1, ShareProject, nas.ExpandOneKeep},
		{1, ShareExpandProject, nas.ExpandOneOmit}, {0.5, ShareProject, nas.ExpandOneOmit}} {
		sp := tinySpace()
		sp.ExpandOne = mode.rule
		width := mode.width
		sn, err := New(sp).Input(12, 12, 1, 10).WidthFactor(width).Sharing(mode.sharing).Optimizer(sgd).Backend(be).Seed(5).Build()
		if err != nil {
			t.Fatal(err)
		}
		points := append([]nas.Point{sp.MaxPoint(), make(nas.Point, len(sp.Layout().Sizes))}, sp.CoveringPoints()...)
		for i, p := range points {
			// Batches of 4 and 8: the lowered ops' layouts for both (NHWC, CHWN).
			checkPathEqualsStandalone(t, sn, p, rng, 4+4*(i%2))
		}
		sn.Close()
	}
}

// checkPathEqualsStandalone is TestPathEqualsStandaloneConvnet's check of one
// point (the supernet has plain SGD, no momentum nor weight decay).
func checkPathEqualsStandalone(t *testing.T, sn *Supernet, p nas.Point, rng *rand.Rand, batch int) {
	t.Helper()
	sp, cfg := sn.space, sn.cfg
	width := cfg.WidthFactor
	h, w, c, classes := cfg.Height, cfg.Width, cfg.Channels, cfg.Classes

	path, err := sn.Path(p)
	if err != nil {
		t.Fatal(err)
	}
	deployed, err := sp.Arch(p)
	if err != nil {
		t.Fatal(err)
	}
	standalone, err := blocks.ProxyArch(deployed.WithWidth(width), cfg.Adapt, h, w, c, classes)
	if err != nil {
		t.Fatal(err)
	}
	standalone.Name = path.Proxy.Name
	if !reflect.DeepEqual(standalone, path.Proxy) {
		t.Fatalf("%s: the path trains\n%s\nbut the space deploys (as proxy)\n%s", sp.ExpandOne, path.Proxy, standalone)
	}
	b := randBatch(rng, batch, h, w, c, classes)
	want, grads, shapes := convnetRun(t, sn, path, b)
	got, err := sn.Logits(p, b)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxRelDiff(got, want); d > 1e-4 {
		t.Fatalf("%s, width %g, path %s: logits differ from convnet's by %.3g (relative)", sp.ExpandOne, width, path.Key, d)
	}
	checkPlanDrivesAll(t, sn, path, grads)
	// One SGD step without momentum, weight decay or smoothing: the
	// used slices move by −lr·grad, everything else stays.
	before := map[string][]float32{}
	for _, q := range sn.params {
		before[q.spec.path] = append([]float32(nil), q.w...)
	}
	const lr = 0.5
	if _, _, err := sn.TrainStep(p, b, lr); err != nil {
		t.Fatal(err)
	}
	kinds := make([]blocks.Kind, len(path.Proxy.Blocks))
	for i, blk := range path.Proxy.Blocks {
		kinds[i] = blk.Kind
	}
	touched := map[string]bool{}
	for cp, gr := range grads {
		src := sharedSource(sn, cp, slotsOf(path), kinds)
		q := sn.byPath[src]
		touched[src] = true
		dims := sliceDims(q.spec.shape, shapes[cp])
		delta := extract(q.w, q.spec.shape, dims)
		old := extract(before[src], q.spec.shape, dims)
		for i := range delta {
			delta[i] = (old[i] - delta[i]) / lr
		}
		// Absolute floor: some gradients are zero up to rounding
		// (a BatchNorm offset followed by a conv and a BatchNorm), more so
		// in the 20 blocks of the paper space.
		if d := maxAbsDiff(delta, gr); d > 2e-3*maxAbs(gr)+1e-4 {
			t.Fatalf("width %g, path %s: update of %s differs from −lr × convnet's gradient of %s by %.3g (max gradient %.3g)", width, path.Key, src, cp, d, maxAbs(gr))
		}
		// Outside the slice: unchanged. Compare whole arrays after
		// writing the slice back from before.
		if n := changedOutside(before[src], q.w, q.spec.shape, dims); n > 0 {
			t.Fatalf("path %s: %d values of %s outside the used slice changed", path.Key, n, src)
		}
	}
	for _, q := range sn.params {
		if touched[q.spec.path] {
			continue
		}
		for i, v := range q.w {
			if v != before[q.spec.path][i] {
				t.Fatalf("path %s: unused variable %s changed", path.Key, q.spec.path)
			}
		}
	}
}

// checkPlanDrivesAll ties the three builders to the one plan: the layers
// blocks.Analyze counts (with parameters) are the scopes of blocks/convnet's
// trainable variables, and the supernet's path takes exactly one weight
// slice per such variable.
func checkPlanDrivesAll(t *testing.T, sn *Supernet, path *Path, grads map[string][]float32) {
	t.Helper()
	an, err := blocks.Analyze(path.Proxy, 0)
	if err != nil {
		t.Fatal(err)
	}
	layers := map[string]bool{}
	for _, l := range an.Layers {
		if l.Params > 0 {
			layers[convnet.ScopeOfLayer(l.Name)] = true
		}
	}
	scopes := map[string]bool{}
	for v := range grads {
		p := strings.TrimPrefix(v, "/model/")
		p = strings.TrimSuffix(p[:strings.LastIndex(p, "/")], "/bn")
		scopes[p] = true
	}
	if !reflect.DeepEqual(layers, scopes) {
		t.Fatalf("path %s: analysis layers %v, convnet scopes %v", path.Key, layers, scopes)
	}
	c, err := sn.compile(path, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.g.Finalize()
	if len(c.uses) != len(grads) {
		t.Fatalf("path %s: the supernet uses %d weight slices, convnet has %d variables", path.Key, len(c.uses), len(grads))
	}
}

// changedOutside counts the values of after that differ from before outside
// the slice dims (kernels centred, other axes from 0).
func changedOutside(before, after []float32, shape, dims []int) int {
	inside := make([]bool, len(before))
	r := len(shape)
	off := make([]int, r)
	if r >= 3 {
		off[0] = (shape[0] - dims[0]) / 2
		off[1] = (shape[1] - dims[1]) / 2
	}
	idx := make([]int, r)
	for n := range prod(dims) {
		rem := n
		for a := r - 1; a >= 0; a-- {
			idx[a] = rem % dims[a]
			rem /= dims[a]
		}
		flat := 0
		for a := range r {
			flat = flat*shape[a] + idx[a] + off[a]
		}
		inside[flat] = true
	}
	n := 0
	for i := range before {
		if !inside[i] && before[i] != after[i] {
			n++
		}
	}
	return n
}

func TestStateRoundTrip(t *testing.T) {
	sp := tinySpace()
	be := goBackend(t)
	build := func(seed uint64) *Supernet {
		sn, err := New(sp).Input(12, 12, 1, 10).Backend(be).Seed(seed).Build()
		if err != nil {
			t.Fatal(err)
		}
		return sn
	}
	a, b := build(1), build(2)
	defer a.Close()
	defer b.Close()
	rng := rand.New(rand.NewPCG(1, 1))
	p := sp.Sample(rng, nil)
	batch := randBatch(rng, 4, 12, 12, 1, 10)
	if _, _, err := a.TrainStep(p, batch, 0.1); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := a.WriteState(&buf); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	// A different seed is the same configuration apart from the seed: rejected.
	if err := b.ReadState(bytes.NewReader(raw)); err == nil || !strings.Contains(err.Error(), "configuration differs") {
		t.Fatalf("reading a state of another configuration: got %v", err)
	}
	c := build(1)
	defer c.Close()
	if err := c.ReadState(bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	for i, p := range a.params {
		q := c.params[i]
		if !slices.Equal(p.w, q.w) || !slices.Equal(p.slots[0], q.slots[0]) || !slices.Equal(p.slots[1], q.slots[1]) {
			t.Fatalf("variable %s differs after the round trip", p.spec.path)
		}
	}
	bad := slices.Clone(raw)
	bad[len(bad)-100] ^= 1
	if err := c.ReadState(bytes.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("corrupted state: got %v", err)
	}
	if err := c.ReadState(bytes.NewReader(raw[:len(raw)/2])); err == nil {
		t.Fatal("truncated state read without error")
	}
}

// TestEverySampledPointTrains trains one step on many random points of the
// tiny space (every decision kind and option occurs), the extremes, and a
// few points of the paper's space; it also checks the LRU cache.
func TestEverySampledPointTrains(t *testing.T) {
	sp := tinySpace()
	be := goBackend(t)
	sn, err := New(sp).Input(12, 12, 1, 10).Backend(be).CacheSize(3).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Close()
	rng := rand.New(rand.NewPCG(9, 9))
	points := []nas.Point{sp.MaxPoint(), make(nas.Point, len(sp.Layout().Sizes))}
	for range 30 {
		points = append(points, sp.Sample(rng, nil))
	}
	for _, p := range points {
		b := randBatch(rng, 2, 12, 12, 1, 10)
		loss, acc, err := sn.TrainStep(p, b, 0.05)
		if err != nil {
			t.Fatalf("point %v: %v", p, err)
		}
		if !(loss > 0) || acc < 0 || acc > 1 {
			t.Fatalf("point %v: loss %g, accuracy %g", p, loss, acc)
		}
		if _, err := sn.Accuracy(p, b); err != nil {
			t.Fatalf("point %v: %v", p, err)
		}
	}
	if n := sn.CachedGraphs(); n != 3 {
		t.Errorf("cache holds %d graphs, want its size 3", n)
	}
	st := sn.Stats()
	if st.TrainSteps != len(points) || st.Evals != len(points) || st.Builds+st.Hits != 2*len(points) || st.Builds < len(points) {
		t.Errorf("stats %+v inconsistent with %d points", st, len(points))
	}
	// The same path twice in a row is a cache hit.
	before := sn.Stats().Hits
	b := randBatch(rng, 2, 12, 12, 1, 10)
	for range 2 {
		if _, err := sn.Accuracy(points[0], b); err != nil {
			t.Fatal(err)
		}
	}
	if got := sn.Stats().Hits - before; got < 1 {
		t.Errorf("repeating a path gave %d cache hits", got)
	}
}

// TestPaperSpacePathsEqualStandalone runs the equality check on the paper's
// space: its covering points take every width (4, 6 or 7 per stage), depth
// 1-4, and every kind × kernel × expansion 1-6 of every block slot, under
// both expansion-1 rules. The input is 24 px so that no map shrinks to 1×1,
// where BatchNorm over a batch of 4 values makes single gradients
// ill-conditioned (at 12 px, 1 in ~40 slices misses the 0.2% tolerance while
// the logits agree).
func TestPaperSpacePathsEqualStandalone(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 7))
	for _, rule := range []nas.ExpandOne{nas.ExpandOneKeep, nas.ExpandOneOmit} {
		sp := nas.MultiHWSpace()
		sp.ExpandOne = rule
		sn, err := New(sp).Input(24, 24, 1, 10).WidthFactor(0.25).Optimizer(Optimizer{Kind: optim.SGD}).Backend(goBackend(t)).Build()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range sp.CoveringPoints() {
			checkPathEqualsStandalone(t, sn, p, rng, 4)
		}
		sn.Close()
	}
}

func TestPaperSpacePathsTrain(t *testing.T) {
	sp := nas.MultiHWSpace()
	sn, err := New(sp).WidthFactor(0.25).Backend(goBackend(t)).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Close()
	rng := rand.New(rand.NewPCG(2, 2))
	for range 2 {
		p := sp.Sample(rng, nil)
		if _, _, err := sn.TrainStep(p, randBatch(rng, 2, 28, 28, 1, 10), 0.01); err != nil {
			t.Fatalf("point %v: %v", p, err)
		}
	}
}

// TestOtherSpaces trains a step on paths of the TuNAS MobileNetV3-like space
// (IBN only, kernels up to 7): single-kind stages keep 1×1 expansions.
func TestOtherSpaces(t *testing.T) {
	sp := nas.MobileNetV3LikeSpace()
	sn, err := New(sp).WidthFactor(0.25).Backend(goBackend(t)).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Close()
	if v := sn.byPath["/supernet/s2/b1/ibn/expand/weights"]; v == nil || len(v.spec.shape) != 2 {
		t.Fatalf("IBN-only stage: expansion variable %v, want a 1×1 [in, e] variable", v)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	for range 2 {
		if _, _, err := sn.TrainStep(sp.Sample(rng, nil), randBatch(rng, 2, 28, 28, 1, 10), 0.01); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBadInput(t *testing.T) {
	sp := tinySpace()
	be := goBackend(t)
	for _, tc := range []struct {
		name string
		b    *Builder
		want string
	}{
		{"no space", New(nil), "no search space"},
		{"input", New(sp).Input(0, 12, 1, 10), "invalid input"},
		{"width", New(sp).WidthFactor(-1), "width factor"},
		{"adapt", New(sp).Adapt("sideways"), "unknown adaptation"},
		{"optimizer", New(sp).Optimizer(Optimizer{Kind: "adagrad"}), "unknown kind"},
		{"momentum", New(sp).Optimizer(Optimizer{Kind: optim.SGD, Hyper: optim.Hyper{Momentum: 1}}), "momentum"},
		{"cache", New(sp).CacheSize(0), "cache size"},
		{"invalid space", New(&nas.Space{Name: "empty"}), "space \"empty\""},
	} {
		if _, err := tc.b.Backend(be).Build(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	uib := tinySpace()
	uib.Stages[0].Kinds = []blocks.Kind{blocks.KindUIB}
	if _, err := New(uib).Backend(be).Build(); err == nil {
		t.Error("a space with UIB blocks built without error")
	}
	sn, err := New(sp).Input(12, 12, 1, 10).Backend(be).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	good := randBatch(rng, 2, 12, 12, 1, 10)
	p := sp.Sample(rng, nil)
	short := good
	short.Images = short.Images[1:]
	badLabel := randBatch(rng, 2, 12, 12, 1, 10)
	badLabel.Labels[1] = 10
	for _, tc := range []struct {
		name string
		err  func() error
		want string
	}{
		{"short batch", func() error { _, _, err := sn.TrainStep(p, short, 0.1); return err }, "image values"},
		{"label", func() error { _, err := sn.Accuracy(p, badLabel); return err }, "outside the 10 classes"},
		{"point length", func() error { _, _, err := sn.TrainStep(p[1:], good, 0.1); return err }, "decisions"},
		{"point option", func() error {
			q := slices.Clone(p)
			q[0] = 7
			_, err := sn.Logits(q, good)
			return err
		}, "option 7"},
		{"lr", func() error { _, _, err := sn.TrainStep(p, good, math.NaN()); return err }, "learning rate"},
	} {
		if err := tc.err(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// TestForRuns checks the slice walker against direct index arithmetic.
func TestForRuns(t *testing.T) {
	for _, tc := range []struct{ shape, starts, dims []int }{
		{[]int{5, 5, 3, 4}, []int{1, 1, 0, 0}, []int{3, 3, 2, 4}},
		{[]int{5, 5, 3, 4}, []int{0, 0, 0, 0}, []int{5, 5, 3, 4}},
		{[]int{5, 5, 6}, []int{2, 2, 0}, []int{1, 1, 6}},
		{[]int{7, 3}, []int{0, 0}, []int{4, 3}},
		{[]int{7}, []int{0}, []int{2}},
	} {
		full := make([]float32, prod(tc.shape))
		for i := range full {
			full[i] = float32(i)
		}
		got := make([]float32, prod(tc.dims))
		covered := 0
		forRuns(tc.shape, tc.starts, tc.dims, func(f, p, n int) {
			copy(got[p:p+n], full[f:f+n])
			covered += n
		})
		if covered != len(got) {
			t.Fatalf("%v: runs cover %d values, want %d", tc, covered, len(got))
		}
		// The sharing rule of the tests centres kernels, as the starts do here.
		want := make([]float32, len(got))
		idx := make([]int, len(tc.dims))
		for n := range want {
			rem := n
			for a := len(tc.dims) - 1; a >= 0; a-- {
				idx[a] = rem % tc.dims[a]
				rem /= tc.dims[a]
			}
			flat := 0
			for a := range tc.dims {
				flat = flat*tc.shape[a] + idx[a] + tc.starts[a]
			}
			want[n] = full[flat]
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%v: got %v, want %v", tc, got, want)
		}
	}
}

// TestMixedPaths checks TuNAS's op warm-up mixtures on a network whose head
// is linear (no head conv, no hidden layer): averaging a last block's kinds,
// or the last stage's depths, averages the logits of the single choices.
func TestMixedPaths(t *testing.T) {
	sp := &nas.Space{Name: "linear-head", Resolution: 32, Channels: 1, Classes: 5,
		Stem: nas.StemSpace{Kernel: 3, Stride: 2, BaseWidth: 8, Multipliers: []float64{1}},
		Stages: []nas.StageSpace{{Stride: 1, BaseWidth: 16, Multipliers: []float64{1}, Depths: []int{1, 2, 3},
			Kinds: []blocks.Kind{blocks.KindIBN, blocks.KindFused}, Kernels: []int{3, 5}, Expansions: []float64{1, 2}}}}
	l := sp.Layout()
	be := goBackend(t)
	rng := rand.New(rand.NewPCG(5, 5))
	b := randBatch(rng, 3, 10, 10, 1, 5)
	for _, sharing := range Sharings {
		sn, err := New(sp).Input(10, 10, 1, 5).Sharing(sharing).Backend(be).Build()
		if err != nil {
			t.Fatal(err)
		}
		logits := func(p nas.Point) []float32 {
			t.Helper()
			out, err := sn.Logits(p, b)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		avg := func(ps ...nas.Point) []float32 {
			var sum []float32
			for _, p := range ps {
				l := logits(p)
				if sum == nil {
					sum = make([]float32, len(l))
				}
				for i, v := range l {
					sum[i] += v / float32(len(ps))
				}
			}
			return sum
		}
		base := sp.Sample(rng, nil)
		base[l.Stages[0].Depth] = 2 // three blocks
		last := l.Stages[0].Blocks[2]
		mixed := func(p nas.Point, decisions ...int) []float32 {
			t.Helper()
			m := make([]bool, len(p))
			for _, d := range decisions {
				m[d] = true
			}
			out, err := sn.MixedLogits(p, m, b)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		// The last block's kinds.
		ibn, fused := slices.Clone(base), slices.Clone(base)
		ibn[last.Kind], fused[last.Kind] = 0, 1
		if d := maxRelDiff(mixed(base, last.Kind), avg(ibn, fused)); d > 1e-4 {
			t.Errorf("%s: kind mixture differs from the average of the kinds by %.3g", sharing, d)
		}
		// The stage's depths.
		var depths []nas.Point
		for i := range 3 {
			p := slices.Clone(base)
			p[l.Stages[0].Depth] = i
			depths = append(depths, p)
		}
		if d := maxRelDiff(mixed(base, l.Stages[0].Depth), avg(depths...)); d > 1e-4 {
			t.Errorf("%s: depth mixture differs from the average of the depths by %.3g", sharing, d)
		}
		// Everything mixed at once trains, and a filter decision cannot mix.
		all := make([]bool, len(base))
		for i, d := range sp.Decisions() {
			all[i] = isOp(d.Kind)
		}
		if _, _, err := sn.TrainMixed(base, all, b, 0.1); err != nil {
			t.Fatalf("%s: %v", sharing, err)
		}
		bad := make([]bool, len(base))
		bad[last.Expand] = true
		if _, err := sn.MixedLogits(base, bad, b); err == nil || !strings.Contains(err.Error(), "cannot average") {
			t.Errorf("averaging an expansion: got %v", err)
		}
		if _, err := sn.MixedLogits(base, bad[1:], b); err == nil || !strings.Contains(err.Error(), "averaging mask") {
			t.Errorf("short averaging mask: got %v", err)
		}
		sn.Close()
	}
}

// TestKernelMixture checks the averaged kernel of kernels 3 and 5: the
// centre 3×3 taps at full weight, the outer ring at half; restricted to read
// taps, the same values on those taps only.
func TestKernelMixture(t *testing.T) {
	sn, err := New(tinySpace()).Input(12, 12, 1, 10).Backend(goBackend(t)).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Close()
	for _, read := range [][4]int{{0, 5, 0, 5}, {1, 4, 1, 4}, {0, 3, 1, 4}, {2, 3, 2, 3}} {
		g := NewGraph(sn.Backend(), "mix")
		pn := &pathNet{sn: sn, g: g, index: map[*param]int{}}
		w := pn.kernelSlice("s1/b1/ibn/dw/weights", 5, []int{3, 5}, read, 2)
		if err := g.Compile(w); err != nil {
			t.Fatal(err)
		}
		h, wd := read[1]-read[0], read[3]-read[2]
		if u := pn.uses[0]; !slices.Equal(u.starts, []int{read[0], read[2], 0}) || !slices.Equal(u.dims, []int{h, wd, 2}) ||
			(h < 5) != (u.upd != nil) || (u.upd != nil && (!slices.Equal(u.upd.starts, []int{0, 0, 0}) || !slices.Equal(u.upd.dims, []int{5, 5, 2}))) {
			t.Fatalf("read taps %v: use %+v, want the read taps within the 5x5 kernel", read, u)
		}
		ones := make([]float32, h*wd*2)
		for i := range ones {
			ones[i] = 1
		}
		out := g.Run(tensors.FromFlatDataAndDimensions(ones, h, wd, 2))
		got := tensors.MustCopyFlatData[float32](out[0])
		for y := read[0]; y < read[1]; y++ {
			for x := read[2]; x < read[3]; x++ {
				want := float32(0.5)
				if y >= 1 && y <= 3 && x >= 1 && x <= 3 {
					want = 1
				}
				for c := range 2 {
					if v := got[((y-read[0])*wd+x-read[2])*2+c]; v != want {
						t.Fatalf("read taps %v, tap (%d,%d): weight %g, want %g", read, y, x, v, want)
					}
				}
			}
		}
		g.Finalize()
	}
}
