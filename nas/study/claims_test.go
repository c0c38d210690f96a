package study

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat"

	"github.com/multihw/multihw/hwcost"
)

// TestSeedsNeeded: n is the smallest integer with z·sd·√(2/n) < d.
func TestSeedsNeeded(t *testing.T) {
	for _, tc := range []struct {
		sd, d, z float64
		want     int
	}{
		// 2·2²·(0.005/0.005)² = 8: n = 8 gives exactly d, so 9.
		{0.005, 0.005, 2, 9},
		// 2·4·(0.002/0.01)² = 0.32: one seed would do, but an SD needs 2.
		{0.002, 0.01, 2, 2},
		// 2·4·(0.004/0.0025)² = 20.48: 21.
		{0.004, 0.0025, 2, 21},
		{0, 0.01, 2, 0},
		{0.01, 0, 2, 0},
	} {
		if got := SeedsNeeded(tc.sd, tc.d, tc.z); got != tc.want {
			t.Errorf("SeedsNeeded(%g, %g, %g) = %d, want %d", tc.sd, tc.d, tc.z, got, tc.want)
		}
	}
}

// model makes a trained model of a synthetic summary: costs on cpu, gpu,
// avg, max; test accuracies per seed.
func model(name, group, t0match string, cost [4]float64, acc ...float64) ModelResult {
	m := ModelResult{Name: name, Group: group, Unit: name, Accuracy: acc, SD: math.NaN(),
		Cost: map[string]float64{"cpu": cost[0], "gpu": cost[1], MetricAvg: cost[2], MetricMax: cost[3]}}
	for i := range acc {
		m.Seeds = append(m.Seeds, uint64(i+1))
	}
	if len(acc) > 0 {
		m.Mean = stat.Mean(acc, nil)
	}
	if len(acc) > 1 {
		m.SD = stat.StdDev(acc, nil)
	}
	switch group {
	case GroupMulti:
		m.Search = &SearchJob{Name: name, Group: group, Objective: MetricAvg, T0: T0{Match: t0match}, T0Value: 0.9, Seed: 1}
	case GroupSingle:
		m.Search = &SearchJob{Name: name, Group: group, Objective: t0match, T0: T0{Match: "multi_max@max"}, T0Value: 0.9, Seed: 1}
	}
	return m
}

func synthetic(models ...ModelResult) *Summary {
	cfg := DefaultConfig()
	cfg.SingleT0 = T0{Match: "multi_max@max"}
	s := &Summary{Plan: &Plan{Config: cfg}, Targets: []string{"cpu", "gpu"}, Metrics: []string{"cpu", "gpu", MetricAvg, MetricMax}, Models: models}
	s.pool()
	return s
}

// TestPool checks the pooled SD and the intervals against hand values.
func TestPool(t *testing.T) {
	s := synthetic(
		model("a", GroupReference, "", [4]float64{1, 1, 1, 1}, 0.90, 0.92),
		model("b", GroupReference, "", [4]float64{1, 1, 1, 1}, 0.80, 0.81, 0.82),
		model("c", GroupReference, "", [4]float64{1, 1, 1, 1}, 0.85),
	)
	// s_a² = 0.0002 (1 df), s_b² = 0.0001 (2 df): s_p² = 0.0004/3, df 3.
	sp := math.Sqrt(0.0004 / 3)
	if math.Abs(s.PooledSD-sp) > 1e-12 || s.PooledDF != 3 {
		t.Fatalf("pooled SD %g (df %d), want %g (3)", s.PooledSD, s.PooledDF, sp)
	}
	// t_{0.975, 3} = 3.182446 (tables).
	if math.Abs(s.T975-3.182446) > 1e-5 {
		t.Errorf("t quantile %g, want 3.182446", s.T975)
	}
	a, _ := s.Model("a")
	if se := sp / math.Sqrt2; math.Abs(a.SE-se) > 1e-12 || math.Abs(a.CILo-(0.91-3.182446*se)) > 1e-6 {
		t.Errorf("model a: SE %g CI [%g, %g], want SE %g", a.SE, a.CILo, a.CIHi, se)
	}
	c, _ := s.Model("c")
	if math.Abs(c.SE-sp) > 1e-12 || !math.IsNaN(c.SD) {
		t.Errorf("one seed: SE %g (want the pooled SD %g), own SD %g (want NaN)", c.SE, sp, c.SD)
	}
	b, _ := s.Model("b")
	d, se, ok := s.Compare(a, b)
	if !ok || math.Abs(d-0.1) > 1e-12 || math.Abs(se-sp*math.Sqrt(1.0/2+1.0/3)) > 1e-12 {
		t.Errorf("compare a, b: %g ± %g (%v)", d, se, ok)
	}
}

func verdicts(s *Summary) [3]Verdict {
	var v [3]Verdict
	for i, c := range s.Claims() {
		v[i] = c.Verdict
	}
	return v
}

// TestClaims: the verdicts follow the rules on constructed cases (seed SD
// 0.1 points unless noisy: every 1-point difference is resolved).
func TestClaims(t *testing.T) {
	seeds := func(mean, sd float64) []float64 { return []float64{mean - sd, mean, mean + sd} }
	ref := model("ref", GroupReference, "", [4]float64{1, 1, 1, 1}, seeds(0.85, 0.001)...)
	// A multi-target model, cheap everywhere and most accurate; two
	// single-target models, each cheap on its own target only.
	multi := model("multi", GroupMulti, "multi_max", [4]float64{0.8, 0.8, 0.8, 0.8}, seeds(0.90, 0.001)...)
	cpuOnly := model("cpu-only", GroupSingle, "cpu", [4]float64{0.6, 1.4, 1.0, 1.4}, seeds(0.88, 0.001)...)
	gpuOnly := model("gpu-only", GroupSingle, "gpu", [4]float64{1.4, 0.6, 1.0, 1.4}, seeds(0.87, 0.001)...)
	s := synthetic(ref, multi, cpuOnly, gpuOnly)
	if got := verdicts(s); got != [3]Verdict{Held, Held, Held} {
		t.Errorf("clear case: %v, want all held", got)
	}
	// cpu-only on the cpu panel: multi is costlier there, so the front has both.
	if pos, _ := s.FrontPosition(&s.Models[2], "cpu"); pos != OnFront {
		t.Errorf("cpu-only on cpu: %s, want on", pos)
	}
	if pos, by := s.FrontPosition(&s.Models[2], "gpu"); pos != OffFront || len(by) != 1 || by[0] != "multi" {
		t.Errorf("cpu-only on gpu: %s by %v, want off by multi", pos, by)
	}

	// The same means with seed SD 5 points: nothing is resolved.
	noisy := synthetic(model("ref", GroupReference, "", [4]float64{1, 1, 1, 1}, seeds(0.85, 0.05)...),
		model("multi", GroupMulti, "multi_max", [4]float64{0.8, 0.8, 0.8, 0.8}, seeds(0.90, 0.05)...),
		model("cpu-only", GroupSingle, "cpu", [4]float64{0.6, 1.4, 1.0, 1.4}, seeds(0.88, 0.05)...),
		model("gpu-only", GroupSingle, "gpu", [4]float64{1.4, 0.6, 1.0, 1.4}, seeds(0.87, 0.05)...))
	if got := verdicts(noisy); got != [3]Verdict{Unresolved, Unresolved, Unresolved} {
		t.Errorf("noisy case: %v, want all unresolved", got)
	}

	// A single-target model better and cheaper everywhere: every claim fails.
	strong := model("cpu-only", GroupSingle, "cpu", [4]float64{0.6, 0.7, 0.65, 0.7}, seeds(0.92, 0.001)...)
	bad := synthetic(ref, multi, strong)
	if got := verdicts(bad); got != [3]Verdict{NotHeld, NotHeld, NotHeld} {
		t.Errorf("reversed case: %v, want all not held", got)
	}
	// Both directions of dominance at once (the strong single-target model
	// dominates multi, multi dominates gpu-only): claim 3 is not resolved.
	if got := verdicts(synthetic(ref, multi, strong, gpuOnly))[2]; got != Unresolved {
		t.Errorf("mixed dominance: claim 3 %s, want not resolved", got)
	}
	c2 := bad.Claims()[1]
	if !strings.Contains(c2.Reason, "cpu-only on the front of every other target") {
		t.Errorf("claim 2 reason: %s", c2.Reason)
	}

	// No trained models of a kind: not resolved, saying why.
	empty := synthetic(ref)
	for _, c := range empty.Claims() {
		if c.Verdict != Unresolved || !strings.Contains(c.Reason, "retrained yet") {
			t.Errorf("claim %d without models: %s (%s)", c.Number, c.Verdict, c.Reason)
		}
	}
}

// TestNearMargin: a resolved but small accuracy difference does not count
// as dominance within the "near" margin.
func TestNearMargin(t *testing.T) {
	seeds := func(mean float64) []float64 { return []float64{mean - 0.001, mean, mean + 0.001} }
	a := model("a", GroupMulti, "multi_max", [4]float64{0.9, 0.9, 0.9, 0.9}, seeds(0.900)...)
	b := model("b", GroupReference, "", [4]float64{0.8, 0.8, 0.8, 0.8}, seeds(0.905)...)
	s := synthetic(a, b)
	if pos, _ := s.FrontPosition(&s.Models[0], MetricAvg); pos != OffFront {
		t.Fatalf("0.5 points more accurate and cheaper: a is %s, want off", pos)
	}
	s.Plan.Config.Rules.NearAccuracy = 1
	if pos, _ := s.FrontPosition(&s.Models[0], MetricAvg); pos != NearFront {
		t.Errorf("within a 1-point near margin: a is %s, want ?", pos)
	}
}

// TestCostOrder: with the cost model's draws an ordering needs the rule's
// probability; without them, the tolerance.
func TestCostOrder(t *testing.T) {
	a := model("a", GroupMulti, "multi_max", [4]float64{0.90, 1, 1, 1}, 0.9)
	b := model("b", GroupMulti, "multi_max", [4]float64{0.95, 1, 1, 1}, 0.9)
	s := synthetic(a, b)
	pa, pb := &s.Models[0], &s.Models[1]
	// 0.90 / 0.95 − 1 = −5.3%: beyond the 2% tolerance.
	if got := s.costOrder(pa, pb, "cpu"); got != 1 {
		t.Errorf("fitted 0.90 vs 0.95: %d, want 1", got)
	}
	if got := s.costOrder(pa, pb, "gpu"); got != 0 {
		t.Errorf("equal costs: %d, want 0", got)
	}
	pa.SpreadName, pb.SpreadName = "a", "b"
	s.Spread = &hwcost.SensitivityResult{Draws: 100, Orderings: []hwcost.Ordering{{A: "b", B: "a", Metric: "cpu", P: 0.2}, {A: "a", B: "b", Metric: "gpu", P: 0.97}}}
	// P(a < b on cpu) = 1 − 0.2 = 0.8 < 0.95: not resolved despite the fitted 5%.
	if got := s.costOrder(pa, pb, "cpu"); got != 0 {
		t.Errorf("cpu with draws: %d, want 0", got)
	}
	if got, rev := s.costOrder(pa, pb, "gpu"), s.costOrder(pb, pa, "gpu"); got != 1 || rev != -1 {
		t.Errorf("gpu with draws (P 0.97): %d and %d, want 1 and -1", got, rev)
	}
	// A pair missing from the draws falls back to the fitted values.
	if got := s.costOrder(pa, pb, MetricMax); got != 0 {
		t.Errorf("max without the pair: %d, want 0 (equal fitted)", got)
	}
	pb.Unit = pa.Unit
	if got := s.costOrder(pa, pb, "cpu"); got != 0 {
		t.Errorf("same architecture: %d, want 0", got)
	}
}
