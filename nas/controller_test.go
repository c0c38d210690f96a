package nas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// toy is a separable problem with a known optimum: quality is the mean of
// per-option values, cost the sum of per-option costs.
type toy struct {
	value, cost [][]float64
}

func newToy(rng *rand.Rand, sizes []int) *toy {
	t := &toy{}
	for _, n := range sizes {
		v, c := make([]float64, n), make([]float64, n)
		for i := range v {
			v[i] = rng.Float64()
			c[i] = 0.5 + rng.Float64()
		}
		t.value = append(t.value, v)
		t.cost = append(t.cost, c)
	}
	return t
}

func (t *toy) Sizes() []int {
	s := make([]int, len(t.value))
	for i, v := range t.value {
		s[i] = len(v)
	}
	return s
}

func (t *toy) Evaluate(p Point) (float64, float64, error) {
	var q, c float64
	for d, i := range p {
		q += t.value[d][i]
		c += t.cost[d][i]
	}
	return q / float64(len(p)), c, nil
}

func (t *toy) argmaxQuality() Point {
	p := make(Point, len(t.value))
	for d, v := range t.value {
		for i := range v {
			if v[i] > v[p[d]] {
				p[d] = i
			}
		}
	}
	return p
}

func TestControllerConvergesToToyOptimum(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	prob := newToy(rng, []int{3, 4, 5, 2, 6, 3})
	// A reward that ignores cost: T = T0 makes the abs penalty zero.
	ctl := NewController(prob.Sizes(), DefaultControllerConfig(0.05))
	h0 := ctl.Entropy()
	for range 3000 {
		p := ctl.Sample(rng)
		q, _, _ := prob.Evaluate(p)
		if _, err := ctl.Update(p, nil, q, 1); err != nil {
			t.Fatal(err)
		}
	}
	want := prob.argmaxQuality()
	got := ctl.Argmax()
	for d := range want {
		if got[d] != want[d] {
			t.Fatalf("decision %d: argmax %d, optimum %d (probs %v)", d, got[d], want[d], ctl.Probs()[d])
		}
	}
	if p := math.Exp(ctl.LogProb(want, nil)); p < 0.5 {
		t.Errorf("probability of the optimum %.3f, want > 0.5", p)
	}
	if h := ctl.Entropy(); h > h0/4 {
		t.Errorf("entropy %.3f did not fall from %.3f", h, h0)
	}
}

func TestControllerZeroLRLeavesPolicyUniformButTracksBaseline(t *testing.T) {
	ctl := NewController([]int{4}, DefaultControllerConfig(0.1))
	for _, r := range []float64{1, 2, 3} {
		if _, err := ctl.Update(Point{1}, nil, r, 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range ctl.Logits[0] {
		if l != 0 {
			t.Fatalf("logits moved during warm-up: %v", ctl.Logits)
		}
	}
	// Baseline: 1, then .95·1+.05·2 = 1.05, then .95·1.05+.05·3 = 1.1475.
	if math.Abs(ctl.Baseline-1.1475) > 1e-12 {
		t.Errorf("baseline %v, want 1.1475", ctl.Baseline)
	}
	if _, err := ctl.Update(Point{9, 9}, nil, 1, 1); err == nil {
		t.Error("wrong-length point accepted")
	}
	if _, err := ctl.Update(Point{0}, nil, math.NaN(), 1); err == nil {
		t.Error("NaN reward accepted")
	}
}

func TestLRScale(t *testing.T) {
	cases := []struct {
		step, total int
		want        float64
	}{{0, 100, 0}, {24, 100, 0}, {25, 100, 1}, {100, 100, 10}}
	for _, c := range cases {
		if got := LRScale(c.step, c.total, 0.25, 10); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("LRScale(%d,%d) = %v, want %v", c.step, c.total, got, c.want)
		}
	}
	// Halfway through the growth phase: 10^0.5.
	if got := LRScale(62, 100, 0.25, 10); math.Abs(got-math.Pow(10, 37.0/75)) > 1e-9 {
		t.Errorf("mid schedule %v", got)
	}
}

func TestRewardValues(t *testing.T) {
	abs := Reward{Kind: RewardAbs, T0: 1, Beta: -0.1}
	// R = Q + β·|T/T0 − 1| = 0.8 − 0.1·0.2 = 0.78, above and below T0 alike.
	if v := abs.Value(0.8, 1.2); math.Abs(v-0.78) > 1e-12 {
		t.Errorf("abs = %v, want 0.78", v)
	}
	if v := abs.Value(0.8, 0.8); math.Abs(v-0.78) > 1e-12 {
		t.Errorf("abs below target = %v, want 0.78 (absolute penalty)", v)
	}
	mnas := Reward{Kind: RewardMnas, T0: 2, Beta: -0.07}
	if v := mnas.Value(0.7, 4); math.Abs(v-0.7*math.Pow(2, -0.07)) > 1e-12 {
		t.Errorf("mnas = %v", v)
	}
	hard := Reward{Kind: RewardMnasHard, T0: 2, Beta: -0.07}
	if v := hard.Value(0.7, 1); v != 0.7 {
		t.Errorf("mnas_hard under budget = %v, want 0.7", v)
	}
	budget := Reward{Kind: RewardBudget, T0: 0.5}
	if budget.Value(0.01, 0.5) <= budget.Value(0.99, 0.51) {
		t.Error("an infeasible point outranks a feasible one")
	}
	if budget.Value(0, 0.6) <= budget.Value(0, 0.9) {
		t.Error("infeasible points are not ranked by how far over budget they are")
	}
	for _, bad := range []Reward{{Kind: "x", T0: 1}, {Kind: RewardAbs, T0: 0}, {Kind: RewardAbs, T0: 1, Beta: 0.1}} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	// Settings whose reward overflows are refused up front (they failed at
	// the first step): T/T0 with T0 = 5e-324 is +Inf for any cost; β·|T/T0 −
	// 1| with β = −1e308 overflows beyond T = 2·T0; (T/T0)^−20 spans 20
	// orders of magnitude over a tenfold cost.
	for _, tc := range []struct {
		r    Reward
		want string
	}{
		{Reward{Kind: RewardAbs, T0: 5e-324, Beta: -0.1}, "T0 must be in [1e-06, 1e+12], got 5e-324"},
		{Reward{Kind: RewardBudget, T0: math.Inf(1)}, "T0 must be in [1e-06, 1e+12], got +Inf"},
		{Reward{Kind: RewardAbs, T0: 1, Beta: -1e308}, "beta must be in [-1e+06, 0], got -1e+308"},
		{Reward{Kind: RewardAbs, T0: 1, Beta: math.NaN()}, "beta must be in [-1e+06, 0], got NaN"},
		{Reward{Kind: RewardMnas, T0: 1, Beta: -20}, "beta must be in [-10, 0], got -20"},
	} {
		if err := tc.r.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want an error containing %q", tc.r, err, tc.want)
		}
	}
	for _, ok := range []Reward{{Kind: RewardAbs, T0: 1e-6, Beta: -1e6}, {Kind: RewardMnas, T0: 1e12, Beta: -10}, {Kind: RewardMnasHard, T0: 1e9, Beta: -0.07}} {
		if err := ok.Validate(); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
}

func TestEvolutionBeatsRandomUnderABudget(t *testing.T) {
	sizes := []int{5, 5, 5, 5, 5, 5}
	var evoHits, randHits int
	for seed := range uint64(10) {
		rng := rand.New(rand.NewPCG(seed, 99))
		prob := newToy(rng, sizes)
		// Budget at the 10th percentile of random costs: few points are feasible.
		var costs []float64
		for range 2000 {
			_, c, _ := prob.Evaluate(randomPoint(rng, sizes))
			costs = append(costs, c)
		}
		r := Reward{Kind: RewardBudget, T0: quantile(costs, 0.1)}
		// Exact optimum by enumeration (5^6 points).
		best := math.Inf(-1)
		p := make(Point, len(sizes))
		var walk func(d int)
		walk = func(d int) {
			if d == len(sizes) {
				if q, c, _ := prob.Evaluate(p); c <= r.T0 && q > best {
					best = q
				}
				return
			}
			for i := 0; i < sizes[d]; i++ {
				p[d] = i
				walk(d + 1)
			}
		}
		walk(0)
		evo, err := Evolution(prob, r, 400, DefaultEvolution, rng)
		if err != nil {
			t.Fatal(err)
		}
		rnd, _ := RandomSearch(prob, r, 400, rng)
		if evo.Best != nil && best-evo.Best.Quality < 0.01 {
			evoHits++
		}
		if rnd.Best != nil && best-rnd.Best.Quality < 0.01 {
			randHits++
		}
	}
	t.Logf("within 0.01 of the optimum: evolution %d/10, random %d/10", evoHits, randHits)
	if evoHits <= randHits || evoHits < 6 {
		t.Errorf("evolution %d/10 vs random %d/10: evolution should clearly win", evoHits, randHits)
	}
}

func quantile(x []float64, q float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

// TestControllerUpdatesOnlyActiveDecisions: TuNAS's hierarchical sampling.
// A decision outside log π(a) keeps its logits and Adam moments exactly; an
// active one moves by the hand-derived step. Derivation: the first reward
// only sets the baseline (advantage 0); the second, r = 1 against baseline
// 0, has advantage 1; for a uniform decision of n options and chosen a, the
// gradient of −adv·log π(a) is q − 1[i=a] = 1/n − 1[i=a]; with β1 = 0, Adam's
// first step is lr·g/(√(v/(1−β2)) + ε) with v = (1−β2)·g², i.e. lr·sign(g)
// up to ε: the chosen logit rises by lr, the others fall by lr.
func TestControllerUpdatesOnlyActiveDecisions(t *testing.T) {
	const lr = 0.1
	ctl := NewController([]int{2, 3, 4}, DefaultControllerConfig(lr))
	p := Point{1, 2, 0}
	active := []bool{true, false, true}
	for _, r := range []float64{0, 1} {
		if _, err := ctl.Update(p, active, r, 1); err != nil {
			t.Fatal(err)
		}
	}
	for d, act := range active {
		for i, l := range ctl.Logits[d] {
			want := 0.0
			if act {
				want = -lr
				if i == p[d] {
					want = lr
				}
			}
			if math.Abs(l-want) > 1e-6 {
				t.Errorf("decision %d (active %v) option %d: logit %g, want %g", d, act, i, l, want)
			}
			if !act && (ctl.M[d][i] != 0 || ctl.V[d][i] != 0) {
				t.Errorf("inactive decision %d: Adam moments changed (%g, %g)", d, ctl.M[d][i], ctl.V[d][i])
			}
		}
	}
	// More steps with other rewards: the inactive decision stays untouched.
	for _, r := range []float64{0.3, -2, 5} {
		if _, err := ctl.Update(p, active, r, 1); err != nil {
			t.Fatal(err)
		}
	}
	for i := range ctl.Logits[1] {
		if ctl.Logits[1][i] != 0 || ctl.M[1][i] != 0 || ctl.V[1][i] != 0 {
			t.Fatalf("inactive decision moved: logits %v, m %v, v %v", ctl.Logits[1], ctl.M[1], ctl.V[1])
		}
	}
	// log π(p) counts the active decisions only.
	probs := ctl.Probs()
	want := math.Log(probs[0][1]) + math.Log(probs[2][0])
	if got := ctl.LogProb(p, active); math.Abs(got-want) > 1e-12 {
		t.Errorf("LogProb %g, want %g", got, want)
	}
	if _, err := ctl.Update(p, []bool{true}, 1, 1); err == nil {
		t.Error("short active mask accepted")
	}
}

// TestSkippedBlocksNeverMove: over a space's points of depth 1 (blocks 2-4 of
// every stage skipped), Space.Active keeps their decisions out of every
// update.
func TestSkippedBlocksNeverMove(t *testing.T) {
	s := MultiHWSpace()
	l := s.Layout()
	prob := &spaceProblem{s: s}
	ctl := NewController(prob.Sizes(), DefaultControllerConfig(0.5))
	rng := rand.New(rand.NewPCG(4, 4))
	for range 200 {
		p := ctl.Sample(rng)
		for _, sl := range l.Stages {
			p[sl.Depth] = 0
		}
		q, _, _ := prob.Evaluate(p)
		act, err := prob.Active(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ctl.Update(p, act, q+rng.NormFloat64()*0.1, 1); err != nil {
			t.Fatal(err)
		}
	}
	for _, sl := range l.Stages {
		for _, d := range sl.Blocks[1:] {
			for _, i := range []int{d.Kind, d.Kernel, d.Expand} {
				for _, v := range ctl.Logits[i] {
					if v != 0 {
						t.Fatalf("decision %d of a skipped block moved: %v", i, ctl.Logits[i])
					}
				}
			}
		}
		if d := sl.Blocks[0]; slicesAllZero(ctl.Logits[d.Kind]) {
			t.Fatalf("decision %d of an active block never moved", d.Kind)
		}
	}
}

func slicesAllZero(v []float64) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

// spaceProblem is a HierarchicalProblem over a space with a quality that
// prefers fused blocks.
type spaceProblem struct{ s *Space }

func (sp *spaceProblem) Sizes() []int { return sp.s.Layout().Sizes }

func (sp *spaceProblem) Evaluate(p Point) (float64, float64, error) {
	a, err := sp.s.Arch(p)
	if err != nil {
		return 0, 0, err
	}
	q := 0.0
	for _, b := range a.Blocks {
		if b.Kind == "fused" {
			q++
		}
	}
	return q / float64(len(a.Blocks)), 1, nil
}

func (sp *spaceProblem) Active(p Point) ([]bool, error) { return sp.s.Active(p) }

// TestReinforceUsesActiveMask: nas.Reinforce asks a HierarchicalProblem
// which decisions a point uses; one it never uses keeps its logits.
func TestReinforceUsesActiveMask(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	prob := &maskedToy{toy: newToy(rng, []int{3, 4, 2})}
	res, ctl, err := Reinforce(prob, Reward{Kind: RewardAbs, T0: 1, Beta: -0.1}, 300,
		ReinforceConfig{Controller: DefaultControllerConfig(0.2)}, rng)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Trials) != 300 || slicesAllZero(ctl.Logits[0]) {
		t.Fatalf("%d trials; active decision 0 logits %v", len(res.Trials), ctl.Logits[0])
	}
	if !slicesAllZero(ctl.Logits[1]) {
		t.Errorf("never-active decision 1 moved: %v", ctl.Logits[1])
	}
}

// maskedToy is the toy problem with decision 1 never active.
type maskedToy struct{ *toy }

func (m *maskedToy) Active(p Point) ([]bool, error) {
	a := make([]bool, len(p))
	for i := range a {
		a[i] = i != 1
	}
	return a, nil
}

// TestMutateKeepsInactiveDecisions: evolution's mutation changes exactly
// one decision, always an active one.
func TestMutateKeepsInactiveDecisions(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	sizes := []int{3, 4, 2, 5}
	active := []bool{false, true, false, true}
	p := Point{1, 2, 0, 4}
	for range 200 {
		q := mutate(rng, p, sizes, active)
		changed := 0
		for d := range p {
			if q[d] != p[d] {
				changed++
				if !active[d] {
					t.Fatalf("inactive decision %d mutated: %v → %v", d, p, q)
				}
			}
		}
		if changed != 1 {
			t.Fatalf("%d decisions changed: %v → %v", changed, p, q)
		}
	}
}

// TestControllerRefusesBadPoints: a point with an option outside its
// decision is an error for Update (it used to take a step as if no option
// had been chosen) and NaN for LogProb; the searches check their problem.
func TestControllerRefusesBadPoints(t *testing.T) {
	c := NewController([]int{2, 3}, DefaultControllerConfig(0.1))
	for _, p := range []Point{{2, 0}, {0, 3}, {-1, 0}} {
		if _, err := c.Update(p, nil, 1, 1); err == nil {
			t.Errorf("Update(%v): no error", p)
		}
		if lp := c.LogProb(p, nil); !math.IsNaN(lp) {
			t.Errorf("LogProb(%v) = %g, want NaN", p, lp)
		}
	}
	if c.Updates != 0 || c.Baseline != 0 {
		t.Errorf("a refused update changed the controller: %+v", c)
	}
	r := Reward{Kind: RewardAbs, T0: 1}
	rng := rand.New(rand.NewPCG(1, 2))
	if _, err := RandomSearch(nil, r, 5, rng); err == nil {
		t.Error("RandomSearch without a problem: no error")
	}
	if _, _, err := Reinforce(nil, r, 5, ReinforceConfig{}, nil); err == nil {
		t.Error("Reinforce without a problem: no error")
	}
	empty := &toy{value: [][]float64{{0.5}, {}}, cost: [][]float64{{1}, {}}}
	if _, err := Evolution(empty, r, 5, DefaultEvolution, rng); err == nil {
		t.Error("a decision without options: no error")
	}
	if _, err := RandomSearch(newToy(rng, []int{2}), r, 5, nil); err == nil {
		t.Error("no random source: no error")
	}
}

// TestControllerDivergenceIsAnError: a learning rate whose product with the
// schedule overflows (1e308 × TuNAS's growth up to 10 = +Inf: Inf·0 made
// every logit NaN) and an update that overflows a logit (Adam moves it by
// about lr: 1e308 + 1e308) are errors, not NaN probabilities left to every
// later sample. A large but finite policy is no error.
func TestControllerDivergenceIsAnError(t *testing.T) {
	c := NewController([]int{2, 3}, DefaultControllerConfig(1e308))
	if _, err := c.Update(Point{0, 1}, nil, 1, 10); err == nil || !strings.Contains(err.Error(), "is +Inf") {
		t.Errorf("lr 1e308 × 10: %v, want an error", err)
	}
	c = NewController([]int{2}, DefaultControllerConfig(1e308))
	c.Logits[0][0] = 1e308
	if _, err := c.Update(Point{1}, nil, 1, 1); err != nil {
		t.Fatal(err)
	}
	// adv = 0 − 1; option 0 (q = 1) gets g = adv·q = −1, so logit 0 rises by lr.
	if _, err := c.Update(Point{1}, nil, 0, 1); err == nil || !strings.Contains(err.Error(), "diverged: logit 0 of decision 0 is +Inf") {
		t.Errorf("a logit of 1e308 raised by 1e308: %v, want a divergence error", err)
	}
	c = NewController([]int{2, 3}, DefaultControllerConfig(1e6))
	for i := range 20 {
		if _, err := c.Update(Point{0, 1}, nil, float64(i%2), 10); err != nil {
			t.Fatalf("lr 1e6, update %d: %v", i, err)
		}
	}
	for _, p := range c.Probs() {
		for _, q := range p {
			if math.IsNaN(q) {
				t.Fatalf("lr 1e6: probabilities %v", c.Probs())
			}
		}
	}
}

// TestControllerConfigValidate: settings under which Adam's steps are not
// descent steps are refused by the controller, by Reinforce and by the
// search's configuration, before any state changes. With β1 = −0.5 two
// steps average the gradients as m̂ = (1.5·g2 − 0.75·g1)/(1 − 0.25) =
// 2·g2 − g1: a first gradient larger than the second turns the step uphill,
// and nothing becomes NaN (so the divergence check cannot see it).
func TestControllerConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		edit func(*ControllerConfig)
		want string
	}{
		{func(c *ControllerConfig) { c.Beta1 = -0.5 }, "beta1 must be in [0, 1), got -0.5"},
		{func(c *ControllerConfig) { c.Beta1 = 1 }, "beta1 must be in [0, 1), got 1"},
		{func(c *ControllerConfig) { c.Beta2 = 1.5 }, "beta2 must be in [0, 1), got 1.5"},
		{func(c *ControllerConfig) { c.Beta2 = math.NaN() }, "beta2 must be in [0, 1), got NaN"},
		{func(c *ControllerConfig) { c.Eps = 0 }, "epsilon must be positive and finite, got 0"},
		{func(c *ControllerConfig) { c.Eps = -1e-8 }, "epsilon must be positive and finite, got -1e-08"},
		{func(c *ControllerConfig) { c.Eps = math.Inf(1) }, "epsilon must be positive and finite, got +Inf"},
		{func(c *ControllerConfig) { c.LR = -1 }, "learning rate must be >= 0, got -1"},
		{func(c *ControllerConfig) { c.BaselineMomentum = 1 }, "baseline momentum must be in [0, 1), got 1"},
	} {
		cfg := DefaultControllerConfig(0.1)
		tc.edit(&cfg)
		c := NewController([]int{2, 3}, cfg)
		before := fmt.Sprintf("%+v", *c)
		if _, err := c.Update(Point{0, 1}, nil, 1, 1); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Update: want an error containing %q, got %v", tc.want, err)
		}
		if fmt.Sprintf("%+v", *c) != before {
			t.Errorf("%q: the refused update changed the controller", tc.want)
		}
		if _, _, err := Reinforce(newToy(rand.New(rand.NewPCG(3, 3)), []int{2, 3}), Reward{Kind: RewardAbs, T0: 1}, 10, ReinforceConfig{Controller: cfg}, rand.New(rand.NewPCG(1, 2))); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Reinforce: want an error containing %q, got %v", tc.want, err)
		}
	}
	good := DefaultControllerConfig(0.1)
	for _, tc := range []struct {
		cfg  ReinforceConfig
		want string
	}{
		{ReinforceConfig{Controller: good, Warmup: 1, Growth: 10}, "warm-up must be a fraction in [0, 1), got 1"},
		{ReinforceConfig{Controller: good, Growth: -2}, "growth must be 0 (constant rate) or in [1, +Inf), got -2"},
		{ReinforceConfig{Controller: good, Growth: 0.5}, "growth must be 0"},
		{ReinforceConfig{Controller: good, Warmup: 0.25}, "warm-up 0.25 with growth 0"},
	} {
		if _, _, err := Reinforce(newToy(rand.New(rand.NewPCG(3, 3)), []int{2, 3}), Reward{Kind: RewardAbs, T0: 1}, 10, tc.cfg, rand.New(rand.NewPCG(1, 2))); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Reinforce %+v: want an error containing %q, got %v", tc.cfg, tc.want, err)
		}
	}
	if _, _, err := Reinforce(newToy(rand.New(rand.NewPCG(3, 3)), []int{2, 3}), Reward{Kind: RewardAbs, T0: 1}, 10, ReinforceConfig{Controller: good, Warmup: 0.25, Growth: 10}, rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Errorf("TuNAS's schedule: %v", err)
	}
}
