package tunas

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/nas/supernet"
	"github.com/multihw/multihw/train/data"
)

// tinySpace: 3 stages of 1-2 blocks, every decision with two options.
func tinySpace() *nas.Space {
	st := func(stride, base int) nas.StageSpace {
		return nas.StageSpace{Stride: stride, BaseWidth: base, Multipliers: []float64{0.5, 1}, Depths: []int{1, 2},
			Kinds: []blocks.Kind{blocks.KindIBN, blocks.KindFused}, Kernels: []int{3, 5}, Expansions: []float64{1, 3}}
	}
	return &nas.Space{Name: "tiny", Resolution: 64, Channels: 3, Classes: 10,
		Stem:   nas.StemSpace{Kernel: 3, Stride: 2, BaseWidth: 16, Multipliers: []float64{0.5, 1}},
		Stages: []nas.StageSpace{st(2, 16), st(1, 16), st(2, 32)},
		Head:   blocks.Head{Conv: 24, Hidden: 16}}
}

// synthetic is a quality with a known optimum that, like a real one,
// depends only on the decisions active in the architecture (nas.Space.Active):
// 0.5 + 0.3 × the sum over active decisions of a per-option value in [0, 1]
// divided by the number of decisions, plus noise drawn afresh at every
// evaluation (std 0.03, like a validation batch of ~200 images: a real search
// scores every step on a new batch), from a seeded stream.
type synthetic struct {
	space *nas.Space
	value [][]float64
	noise *rand.Rand
}

func newSynthetic(rng *rand.Rand, space *nas.Space) *synthetic {
	s := &synthetic{space: space, noise: rand.New(rand.NewPCG(rng.Uint64(), 7))}
	for _, n := range space.Layout().Sizes {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.Float64()
		}
		s.value = append(s.value, v)
	}
	return s
}

func (s *synthetic) quality(p nas.Point) float64 {
	active, err := s.space.Active(p)
	if err != nil {
		panic(err)
	}
	var q float64
	for d, i := range p {
		if active[d] {
			q += s.value[d][i]
		}
	}
	return 0.5 + 0.3*q/float64(len(p)) + s.noise.NormFloat64()*0.03
}

// optimum returns the noise-free best point (inactive decisions 0) and, per
// decision, the loss of value (in units of v, summed) if that decision takes
// its second-best option while the others stay optimal: the decision's
// advantage. Stages are independent; within a stage, depth d adds the best
// values of its first d blocks.
func (s *synthetic) optimum() (nas.Point, []float64) {
	l := s.space.Layout()
	p := make(nas.Point, len(l.Sizes))
	gap := make([]float64, len(l.Sizes))
	best := func(d int) (int, float64, float64) {
		b, gap := top2(s.value[d])
		return b, s.value[d][b], gap
	}
	set := func(d int) float64 {
		b, val, g := best(d)
		p[d], gap[d] = b, g
		return val
	}
	set(l.StemWidth)
	for i, sl := range l.Stages {
		set(sl.Width)
		depths := s.space.Stages[i].Depths
		totals := make([]float64, len(depths))
		for di, depth := range depths {
			totals[di] = s.value[sl.Depth][di]
			for _, bd := range sl.Blocks[:depth] {
				for _, d := range []int{bd.Kind, bd.Kernel, bd.Expand} {
					_, v, _ := best(d)
					totals[di] += v
				}
			}
		}
		bi, g := top2(totals)
		p[sl.Depth], gap[sl.Depth] = bi, g
		for _, bd := range sl.Blocks[:depths[bi]] {
			for _, d := range []int{bd.Kind, bd.Kernel, bd.Expand} {
				set(d)
			}
		}
	}
	return p, gap
}

// top2 returns the index of the largest value and its lead over the second.
func top2(v []float64) (best int, gap float64) {
	sec := -1
	for i := range v {
		if v[i] > v[best] {
			best = i
		}
	}
	for i := range v {
		if i != best && (sec < 0 || v[i] > v[sec]) {
			sec = i
		}
	}
	return best, v[best] - v[sec]
}

func syntheticConfig(steps int) Config {
	cfg := DefaultConfig()
	cfg.Space = tinySpace()
	cfg.Steps = steps
	cfg.Controller.LR = ControllerLR(steps)
	// A cost-blind reward: mnas_hard never penalises below T0.
	cfg.Reward = nas.Reward{Kind: nas.RewardMnasHard, T0: 1e9, Beta: -0.07}
	cfg.Snapshots = 10
	return cfg
}

// TestSearchConvergesOnSyntheticObjective runs the whole search loop
// (schedules, warm-ups, reward, controller) with a synthetic quality of known
// optimum: the final architecture takes the best option of every decision
// whose advantage exceeds the noise of a few hundred samples.
func TestSearchConvergesOnSyntheticObjective(t *testing.T) {
	const steps = 4000
	cfg := syntheticConfig(steps)
	syn := newSynthetic(rand.New(rand.NewPCG(11, 12)), cfg.Space)
	res, err := New(cfg).SyntheticQuality(syn.quality).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	opt, gap := syn.optimum()
	active, err := cfg.Space.Active(opt)
	if err != nil {
		t.Fatal(err)
	}
	wrong := 0
	for d := range opt {
		// Decisions of the optimum's architecture whose advantage is clear:
		// an effect on Q below 0.3·0.5/25 = 0.006 is too small to demand.
		if !active[d] || gap[d] < 0.5 {
			continue
		}
		if res.Final.Point[d] != opt[d] {
			wrong++
			t.Logf("decision %d (gap %.2f): argmax %d, optimum %d, probs %.2f", d, gap[d], res.Final.Point[d], opt[d], res.Probs[d])
		}
	}
	if wrong > 0 {
		t.Fatalf("%d decisions with a clear optimum missed it", wrong)
	}
	h0, h1 := res.History[0].Entropy, res.History[len(res.History)-1].Entropy
	if !(h1 < 0.5*h0) {
		t.Errorf("entropy %.2f → %.2f: the policy did not concentrate", h0, h1)
	}
	if len(res.History) != steps || len(res.Snapshots) != 11 || res.Snapshots[10].Step != steps {
		t.Errorf("history %d records, %d snapshots", len(res.History), len(res.Snapshots))
	}
	// The history is consistent with the reward and the schedule.
	for _, rec := range res.History {
		if want := cfg.Reward.Value(rec.Q, rec.T); rec.Reward != want {
			t.Fatalf("step %d: reward %g, R(Q, T) = %g", rec.Step, rec.Reward, want)
		}
		if rec.Step < steps/4 && rec.ControllerLR != 0 {
			t.Fatalf("step %d: controller learning rate %g during the warm-up", rec.Step, rec.ControllerLR)
		}
	}
}

// tinyDataset is a synthetic 8×8 RGB dataset of 4 classes whose label is the
// brightest quadrant, so that a network can learn it.
func tinyDataset(t testing.TB) *data.Dataset {
	t.Helper()
	mk := func(n int, seed uint64) *data.Split {
		rng := rand.New(rand.NewPCG(seed, 1))
		s := &data.Split{Height: 8, Width: 8, Channels: 3, Pixels: make([]uint8, n*192), Labels: make([]int32, n)}
		for i := range n {
			c := rng.IntN(4)
			s.Labels[i] = int32(c)
			for y := range 8 {
				for x := range 8 {
					v := rng.IntN(128)
					if (y/4)*2+x/4 == c {
						v += 100
					}
					for ch := range 3 {
						s.Pixels[i*192+(y*8+x)*3+ch] = uint8(v)
					}
				}
			}
		}
		return s
	}
	ds := &data.Dataset{Kind: "synthetic", Dir: "memory", Classes: []string{"a", "b", "c", "d"},
		Train: mk(256, 1), Validation: mk(64, 2), Test: mk(64, 3)}
	var err error
	if ds.Norm, err = ds.Train.Stats(); err != nil {
		t.Fatal(err)
	}
	return ds
}

func tinySearchConfig(steps int) Config {
	cfg := DefaultConfig()
	cfg.Space = tinySpace()
	cfg.Dataset = "synthetic"
	cfg.Steps = steps
	cfg.BatchSize, cfg.ValidationBatch = 8, 16
	cfg.WidthFactor = 1
	cfg.Controller.LR = ControllerLR(steps)
	cfg.Snapshots = 4
	return cfg
}

// TestSearchWritesResult runs a short real search (supernet on the tiny
// dataset) and checks search.json and the spec files.
func TestSearchWritesResult(t *testing.T) {
	dir := t.TempDir()
	cfg := tinySearchConfig(12)
	res, err := New(cfg).Dataset(tinyDataset(t)).Out(dir).Backend(goBackend(t)).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadResult(filepath.Join(dir, ResultFile))
	if err != nil {
		t.Fatal(err)
	}
	if back.Final.Text != res.Final.Text || len(back.History) != 12 || back.Stats.SupernetParams == 0 {
		t.Fatalf("search.json does not hold the result: %d records, %d params", len(back.History), back.Stats.SupernetParams)
	}
	a, err := blocks.Load(filepath.Join(dir, ArchTextFile))
	if err != nil {
		t.Fatal(err)
	}
	b, err := blocks.Load(filepath.Join(dir, ArchJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := cfg.Space.Arch(res.Final.Point)
	want.Name = a.Name
	if a.String() != want.String() || b.String() != want.String() {
		t.Fatalf("spec files differ from the final point's architecture:\n%s\n%s\n%s", a, b, want)
	}
	for _, rec := range res.History {
		if !(rec.Q >= 0 && rec.Q <= 1) || !(rec.T > 0) || !(rec.TrainLoss > 0) || math.IsNaN(rec.Reward) {
			t.Fatalf("step %d: Q %g T %g loss %g reward %g", rec.Step, rec.Q, rec.T, rec.TrainLoss, rec.Reward)
		}
	}
	// A second run into the same directory without Resume is refused.
	if _, err := New(cfg).Dataset(tinyDataset(t)).Out(dir).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "already holds a search") {
		t.Fatalf("rerun without resume: got %v", err)
	}
	// Resuming a finished search returns the same result.
	again, err := New(cfg).Dataset(tinyDataset(t)).Out(dir).Resume(true).Backend(goBackend(t)).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if again.Final.Text != res.Final.Text || len(again.History) != 12 {
		t.Fatal("resuming a finished search changed its result")
	}
	// Resuming with another configuration is refused.
	other := cfg
	other.Seed = 99
	if _, err := New(other).Dataset(tinyDataset(t)).Out(dir).Resume(true).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "configuration differs") {
		t.Fatalf("resume with another configuration: got %v", err)
	}
}

func TestSearchBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"objective", func(c *Config) { c.Objective = "toaster" }, `unknown objective "toaster"`},
		{"target", func(c *Config) { c.Targets = []string{"pixel4-cpu", "abacus"} }, "abacus"},
		{"weighted", func(c *Config) { c.Objective = ObjectiveWeighted }, "needs weights"},
		{"weights", func(c *Config) { c.Objective, c.Weights = ObjectiveWeighted, []float64{1, 2} }, "weights"},
		{"reward", func(c *Config) { c.Reward.Kind = "gold" }, `unknown reward "gold"`},
		{"t0", func(c *Config) { c.Reward.T0 = 0 }, "T0 must be positive"},
		{"steps", func(c *Config) { c.Steps = 0 }, "steps must be in [1, "},
		{"space", func(c *Config) { c.Space = nil }, "no search space"},
		{"warmup", func(c *Config) { c.OpWarmup = 2 }, "op warm-up"},
		{"adam", func(c *Config) { c.Controller.Beta1 = -0.5 }, "search: controller Adam beta1 must be in [0, 1), got -0.5"},
		{"momentum", func(c *Config) { c.Controller.BaselineMomentum = 1 }, "search: baseline momentum must be in [0, 1), got 1"},
	} {
		cfg := syntheticConfig(10)
		cfg.Reward = DefaultConfig().Reward
		tc.edit(&cfg)
		_, err := New(cfg).SyntheticQuality(func(nas.Point) float64 { return 0.5 }).Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := New(syntheticConfig(5)).SyntheticQuality(func(nas.Point) float64 { return math.NaN() }).Run(context.Background()); err == nil {
		t.Error("a NaN quality did not stop the search")
	}
	cfg := syntheticConfig(5)
	cfg.Dataset = filepath.Join(t.TempDir(), "missing")
	if _, err := New(cfg).Run(context.Background()); err == nil {
		t.Error("a missing dataset did not fail the search")
	}
	// Searches of format 1 (before the one-network fix and distinct width
	// options) are refused with a message saying why.
	dir := t.TempDir()
	if _, err := New(syntheticConfig(4)).Out(dir).SyntheticQuality(func(nas.Point) float64 { return 0.5 }).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ResultFile, CheckpointFile} {
		path := filepath.Join(dir, f)
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		old := strings.Replace(string(raw), ResultFormat, "multihw-search/1", 1)
		if f == CheckpointFile {
			// A file of format 1: magic MHWSRCH1, no checksum trailer.
			old = strings.Replace(old[:len(old)-32], checkpointFormat, "multihw-search-checkpoint/1", 1)
			old = checkpointMagicV1 + old[len(checkpointMagic):]
		}
		if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_ = os.Remove(filepath.Join(dir, PrevCheckpointFile))
	if _, err := ReadResult(filepath.Join(dir, ResultFile)); err == nil || !strings.Contains(err.Error(), "rerun the search") {
		t.Errorf("search.json of format 1: got %v", err)
	}
	if _, err := New(syntheticConfig(4)).Out(dir).Resume(true).SyntheticQuality(func(nas.Point) float64 { return 0.5 }).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "rerun the search") {
		t.Errorf("resuming a checkpoint of format 1: got %v", err)
	}
}

// TestBaselinesOverTrainedSupernet: by default a baseline gets the
// controller's budget (its reward evaluations after the warm-up) and scores
// query i on the controller's i-th such validation batch; with EvalBatches it
// scores every point on the same batches.
func TestBaselinesOverTrainedSupernet(t *testing.T) {
	dir := t.TempDir()
	cfg := tinySearchConfig(8)
	ds := tinyDataset(t)
	sres, err := New(cfg).Dataset(ds).Out(dir).Backend(goBackend(t)).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	learning, _ := controllerSteps(sres.History)
	if len(learning) != 6 { // warm-up: 25% of 8 steps
		t.Fatalf("%d controller evaluations after the warm-up, want 6", len(learning))
	}
	sn, _, _, err := LoadSupernet(dir, ds, goBackend(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Close()
	val, err := ds.ValidationStream(cfg.ValidationBatch, cfg.Seed)
	if err != nil {
		t.Fatal(err)
	}
	for _, algo := range []string{AlgoRandom, AlgoEvolution} {
		bc := DefaultBaseline(algo)
		bc.Evolution = nas.EvolutionConfig{Population: 4, Sample: 2}
		res, err := RunBaseline(context.Background(), dir, bc, ds, goBackend(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.ControllerEvaluations != 6 || res.Queries != 6 || len(res.Trials) != 6 || res.Best == nil || res.Controller == nil {
			t.Fatalf("%s: budget %d, %d queries, %d trials, best %v, controller %v", algo, res.ControllerEvaluations, res.Queries, len(res.Trials), res.Best, res.Controller)
		}
		for i, tr := range res.Trials {
			if tr.Reward > res.Best.Reward {
				t.Fatalf("%s: trial reward %g above the best %g", algo, tr.Reward, res.Best.Reward)
			}
			b, err := val.Batch(learning[i])
			if err != nil {
				t.Fatal(err)
			}
			q, err := sn.Accuracy(tr.Point, supernet.Batch{Images: b.Images, Labels: b.Labels, Size: cfg.ValidationBatch})
			if err != nil {
				t.Fatal(err)
			}
			if q != tr.Quality {
				t.Fatalf("%s: query %d scored %g, the controller's batch of step %d gives %g", algo, i, tr.Quality, learning[i], q)
			}
		}
		full, err := OneShotAccuracy(sn, ds, cfg.ValidationBatch, sres.Final.Point)
		if err != nil {
			t.Fatal(err)
		}
		if res.Controller.QValidation != full || res.Controller.Q != full || !(res.Best.QValidation >= 0 && res.Best.QValidation <= 1) {
			t.Fatalf("%s: controller scored %g/%g, one-shot accuracy on the validation split %g", algo, res.Controller.Q, res.Controller.QValidation, full)
		}
		if _, err := os.Stat(filepath.Join(dir, BaselineFile(algo))); err != nil {
			t.Fatal(err)
		}
	}
	// Fixed batches and an explicit number of queries.
	bc := DefaultBaseline(AlgoRandom)
	bc.Queries, bc.EvalBatches = 12, 2
	if res, err := RunBaseline(context.Background(), dir, bc, ds, goBackend(t), nil); err != nil || len(res.Trials) != 12 {
		t.Fatalf("12 queries on 2 batches: %v", err)
	}
	if _, err := RunBaseline(context.Background(), dir, DefaultBaseline("annealing"), ds, goBackend(t), nil); err == nil {
		t.Error("unknown baseline algorithm accepted")
	}
	// Batches held in memory beyond what the validation split fills (2³¹ of
	// them filled the machine's memory), and queries beyond a search's steps.
	for want, mut := range map[string]func(*BaselineConfig){
		"but the validation split's 64 images fill 4": func(bc *BaselineConfig) { bc.EvalBatches = math.MaxInt32 + 1 },
		"queries must be in [0, 10000000]":            func(bc *BaselineConfig) { bc.Queries = math.MaxInt },
	} {
		bc := DefaultBaseline(AlgoRandom)
		mut(&bc)
		if _, err := RunBaseline(context.Background(), dir, bc, ds, goBackend(t), nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: %v, want %q", bc, err, want)
		}
	}
	if _, err := RunBaseline(context.Background(), t.TempDir(), DefaultBaseline(AlgoRandom), ds, goBackend(t), nil); err == nil || !strings.Contains(err.Error(), "no search checkpoint") {
		t.Errorf("baseline without a search: got %v", err)
	}
	// A search stopped half-way has no trained supernet to compare on yet.
	half := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err = New(cfg).Dataset(ds).Out(half).Backend(goBackend(t)).OnStep(func(r Record) {
		if r.Step == 3 {
			cancel()
		}
	}).Run(ctx)
	if err == nil {
		t.Fatal("cancelled search returned no error")
	}
	if _, err := RunBaseline(context.Background(), half, DefaultBaseline(AlgoRandom), ds, goBackend(t), nil); err == nil || !strings.Contains(err.Error(), "stopped at step 4 of 8") {
		t.Errorf("baseline on an unfinished search: got %v", err)
	}
}

func TestRandomPathScores(t *testing.T) {
	cfg := tinySearchConfig(6)
	scores, res, err := RandomPathScores(context.Background(), cfg, tinyDataset(t), goBackend(t), 3, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(scores) != 3 || res.Steps != 6 {
		t.Fatalf("%d scores after %d steps", len(scores), res.Steps)
	}
	for _, s := range scores {
		if !(s >= 0 && s <= 1) {
			t.Fatalf("score %g", s)
		}
	}
	// The policy stays uniform: the controller's learning rate is 0.
	for _, probs := range res.Probs {
		for _, q := range probs {
			if math.Abs(q-probs[0]) > 1e-12 {
				t.Fatalf("probabilities moved: %v", probs)
			}
		}
	}
	if _, _, err := RandomPathScores(context.Background(), cfg, tinyDataset(t), goBackend(t), 0, 1, 1); err == nil {
		t.Error("zero points accepted")
	}
	// More batches than the validation split fills (64 images, batches of
	// 16) would score the same images again, each batch held in memory: a
	// huge count grew until the machine ran out of memory, after training.
	for _, c := range []struct {
		points, batches int
		want            string
	}{
		{3, 5, "5 validation batches of 16, but the validation split's 64 images fill 4"},
		{3, math.MaxInt, "fill 4"},
		{MaxBenchPoints + 1, 1, "need points in [1, 100000]"},
	} {
		// A cancelled context: a check after training would meet it first.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, _, err := RandomPathScores(ctx, cfg, tinyDataset(t), goBackend(t), c.points, c.batches, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%d points, %d batches: %v, want %q before training", c.points, c.batches, err, c.want)
		}
	}
}

// TestSearchNotesPriorBoundTargets: a search on a target file whose data
// left parameters prior-bound says which, in its notes.
func TestSearchNotesPriorBoundTargets(t *testing.T) {
	ps := hwcost.DefaultParams()
	po := ps.Posteriors["pixel4-cpu"]
	file := filepath.Join(t.TempDir(), "my-phone.json")
	if err := (&hwcost.TargetFile{Target: "my-phone", Precision: hwcost.FP32, Params: ps.Targets["pixel4-cpu"], Posterior: po}).Save(file); err != nil {
		t.Fatal(err)
	}
	bound := po.PriorBoundNames()
	if len(bound) == 0 {
		t.Fatal("pixel4-cpu's fit has no prior-bound parameter to report")
	}
	cfg := syntheticConfig(5)
	cfg.Targets = []string{"pixel4-cpu", file}
	res, err := New(cfg).SyntheticQuality(func(nas.Point) float64 { return 0.5 }).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := "target my-phone (a target file): its data left " + strings.Join(bound, ", ") + " prior-bound"
	if len(res.Notes) != 1 || !strings.HasPrefix(res.Notes[0], want) {
		t.Errorf("notes %q, want one starting %q", res.Notes, want)
	}
}

// TestSearchNotesRankingCaveats: a search on a target whose model ranks its
// published rows worse than MACs held out (hwcost.Metric.Caveats) says so in
// its notes; the paper targets (syntheticConfig's) have nothing to say.
func TestSearchNotesRankingCaveats(t *testing.T) {
	for _, targets := range [][]string{nil, {"pixel4-cpu", "pixel7-gpu"}} {
		cfg := syntheticConfig(5)
		if targets != nil {
			cfg.Targets = targets
		}
		res, err := New(cfg).SyntheticQuality(func(nas.Point) float64 { return 0.5 }).Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		if targets != nil {
			want = 1
		}
		if len(res.Notes) != want || (want == 1 && !strings.HasPrefix(res.Notes[0], "target pixel7-gpu: its model ranks")) {
			t.Errorf("targets %v: notes %q, want %d caveat", targets, res.Notes, want)
		}
	}
	// A search resumed twice says it once per run, not once per resume.
	cfg := syntheticConfig(5)
	cfg.Targets = []string{"pixel4-cpu", "pixel7-gpu"}
	dir := t.TempDir()
	for i := range 3 {
		res, err := New(cfg).Out(dir).Resume(i > 0).SyntheticQuality(func(nas.Point) float64 { return 0.5 }).Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Notes) != 1 || !strings.HasPrefix(res.Notes[0], "target pixel7-gpu: its model ranks") {
			t.Errorf("run %d: notes %q, want the caveat once", i, res.Notes)
		}
	}
}
