package nas

import (
	"math"
	"math/rand/v2"
	"slices"
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
		if _, err := ctl.Update(p, q, 1); err != nil {
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
	if p := math.Exp(ctl.LogProb(want)); p < 0.5 {
		t.Errorf("probability of the optimum %.3f, want > 0.5", p)
	}
	if h := ctl.Entropy(); h > h0/4 {
		t.Errorf("entropy %.3f did not fall from %.3f", h, h0)
	}
}

func TestControllerZeroLRLeavesPolicyUniformButTracksBaseline(t *testing.T) {
	ctl := NewController([]int{4}, DefaultControllerConfig(0.1))
	for _, r := range []float64{1, 2, 3} {
		if _, err := ctl.Update(Point{1}, r, 0); err != nil {
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
	if _, err := ctl.Update(Point{9, 9}, 1, 1); err == nil {
		t.Error("wrong-length point accepted")
	}
	if _, err := ctl.Update(Point{0}, math.NaN(), 1); err == nil {
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
