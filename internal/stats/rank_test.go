package stats

import (
	"encoding/json"
	"math"
	"testing"
)

// TestKendallTauBKnownValues: hand-derived values.
func TestKendallTauBKnownValues(t *testing.T) {
	cases := []struct {
		x, y []float64
		want float64
	}{
		{[]float64{1, 2, 3, 4}, []float64{1, 2, 3, 4}, 1},
		{[]float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}, -1},
		// Pairs (0,1) and (0,2) concordant, (1,2) discordant: (2−1)/3.
		{[]float64{1, 2, 3}, []float64{1, 3, 2}, 1.0 / 3},
		// x ties pair (0,1), y ties pair (1,2); the other 4 pairs are
		// concordant: n0 = 6, n1 = n2 = 1, τ_b = 4/√(5·5) = 0.8
		// (scipy.stats.kendalltau gives 0.8).
		{[]float64{1, 1, 2, 3}, []float64{1, 2, 2, 3}, 0.8},
		// A pair tied in both counts in n1 and n2: pairs (0,1) tied in both,
		// (0,2), (1,2) concordant: 2/√(2·2) = 1.
		{[]float64{1, 1, 2}, []float64{5, 5, 6}, 1},
	}
	for _, c := range cases {
		if got := KendallTauB(c.x, c.y); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("KendallTauB(%v, %v) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
	for _, bad := range [][2][]float64{{{1}, {1}}, {{1, 2}, {1}}, {{1, 1, 1}, {1, 2, 3}}} {
		if got := KendallTauB(bad[0], bad[1]); !math.IsNaN(got) {
			t.Errorf("KendallTauB(%v, %v) = %v, want NaN", bad[0], bad[1], got)
		}
	}
}

// TestSpearmanTies: average ranks [1.5 1.5 3 4] and [1 2.5 2.5 4];
// deviations from 2.5: [−1 −1 .5 1.5] and [−1.5 0 0 1.5]; Σdxdy = 3.75,
// Σdx² = Σdy² = 4.5: ρ = 3.75/4.5 = 0.8333.
func TestSpearmanTies(t *testing.T) {
	if got := Spearman([]float64{1, 1, 2, 3}, []float64{1, 2, 2, 3}); math.Abs(got-3.75/4.5) > 1e-12 {
		t.Errorf("Spearman = %v, want %v", got, 3.75/4.5)
	}
}

func TestBootstrap(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5, 6, 7, 8}
	y := []float64{2, 1, 4, 3, 6, 5, 8, 7}
	tau := func(idx []int) float64 { return KendallTauB(Pick(x, idx), Pick(y, idx)) }
	ci := Bootstrap(len(x), 2000, 0.95, 1, tau)
	est := KendallTauB(x, y) // 24 concordant, 4 discordant of 28: 20/28
	if math.Abs(est-20.0/28) > 1e-12 {
		t.Fatalf("τ = %v, want 20/28", est)
	}
	if !(float64(ci.Lo) < est && est < float64(ci.Hi) && ci.Hi <= 1 && ci.Lo > -1) {
		t.Errorf("95%% interval %+v does not bracket the estimate %v", ci, est)
	}
	// Reproducible for a seed, wider at a higher level.
	if again := Bootstrap(len(x), 2000, 0.95, 1, tau); again != ci {
		t.Errorf("same seed, intervals %+v and %+v", ci, again)
	}
	if wide := Bootstrap(len(x), 2000, 0.99, 1, tau); !(wide.Lo <= ci.Lo && wide.Hi >= ci.Hi) {
		t.Errorf("99%% interval %+v narrower than 95%% %+v", wide, ci)
	}
	// A perfect ranking: every resample that ranks at all gives 1.
	if ci := Bootstrap(len(x), 500, 0.95, 2, func(idx []int) float64 { return KendallTauB(Pick(x, idx), Pick(x, idx)) }); ci.Lo != 1 || ci.Hi != 1 {
		t.Errorf("perfect ranking: interval %+v, want [1, 1]", ci)
	}
	// The mean of 0..9: the interval of a mean brackets it.
	v := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	mean := func(idx []int) float64 {
		s := 0.0
		for _, i := range idx {
			s += v[i]
		}
		return s / float64(len(idx))
	}
	if ci := Bootstrap(len(v), 2000, 0.95, 3, mean); !(ci.Contains(4.5) && ci.Lo > 1.5 && ci.Hi < 7.5) {
		t.Errorf("mean interval %+v", ci)
	}
	if ci := Bootstrap(1, 10, 0.95, 1, mean); !math.IsNaN(float64(ci.Lo)) {
		t.Errorf("one observation: %+v, want NaN", ci)
	}
	// Mostly undefined statistics give NaN.
	if ci := Bootstrap(4, 100, 0.95, 1, func([]int) float64 { return math.NaN() }); !math.IsNaN(float64(ci.Hi)) {
		t.Errorf("NaN statistic: %+v", ci)
	}
}

func TestTopKRegret(t *testing.T) {
	score := []float64{0.9, 0.8, 0.7, 0.6}
	truth := []float64{0.5, 0.7, 0.9, 0.6}
	// Top-1 by score is item 0 (truth 0.5): regret 0.9 − 0.5 = 0.4; top-2
	// adds item 1 (0.7): 0.2; top-3 holds the best: 0.
	for k, want := range map[int]float64{1: 0.4, 2: 0.2, 3: 0, 10: 0} {
		if got := TopKRegret(score, truth, k); math.Abs(got-want) > 1e-12 {
			t.Errorf("top-%d regret %v, want %v", k, got, want)
		}
	}
	// Ties in score: the earlier index first.
	if got := TopKRegret([]float64{1, 1}, []float64{0.2, 0.4}, 1); math.Abs(got-0.2) > 1e-12 {
		t.Errorf("tied scores: regret %v, want 0.2", got)
	}
	if !math.IsNaN(TopKRegret(nil, nil, 1)) || !math.IsNaN(TopKRegret(score, truth, 0)) {
		t.Error("bad input: want NaN")
	}
}

func TestFloatJSON(t *testing.T) {
	b, err := json.Marshal(struct {
		A, B Float
		C    Interval
	}{Float(math.NaN()), 0.25, NaNInterval})
	if err != nil || string(b) != `{"A":null,"B":0.25,"C":{"lo":null,"hi":null}}` {
		t.Fatalf("marshal: %s, %v", b, err)
	}
	var back struct {
		A, B Float
		C    Interval
	}
	if err := json.Unmarshal(b, &back); err != nil || !math.IsNaN(float64(back.A)) || back.B != 0.25 || !math.IsNaN(float64(back.C.Hi)) {
		t.Fatalf("unmarshal: %+v, %v", back, err)
	}
}

// MedianRatioInterval: timings whose every pair has the ratio 2 give [2, 2];
// spread timings give an interval around the ratio of the medians; too few
// runs give NaN.
func TestMedianRatioInterval(t *testing.T) {
	onnx := []float64{5, 6, 7, 5.5, 6.5, 8, 5, 6}
	var twice []float64
	for _, v := range onnx {
		twice = append(twice, 2*v)
	}
	if ci := MedianRatioInterval(twice, onnx); ci.Lo != 2 || ci.Hi != 2 {
		t.Errorf("exact ratio 2: interval %+v", ci)
	}
	goMS := []float64{10, 14, 11, 19, 12, 13, 10.5, 12.5}
	ci := MedianRatioInterval(goMS, onnx)
	if r := Median(goMS) / Median(onnx); !(float64(ci.Lo) < r && r < float64(ci.Hi)) || !(ci.Hi-ci.Lo > 0.1) {
		t.Errorf("spread timings: ratio %.3f, interval %+v", r, ci)
	}
	if ci := MedianRatioInterval([]float64{10}, []float64{5}); !math.IsNaN(float64(ci.Lo)) {
		t.Errorf("one run: interval %+v, want NaN", ci)
	}
}

// TestBinomialInterval against Clopper-Pearson 95% intervals computed
// independently (R's binom.test; scipy.stats.beta.ppf of the same Beta laws
// gives 0.187086-0.812914, 0-0.308497, 0.691503-1, 0.839488-0.853710):
// 5/10 → [0.1871, 0.8129]; 0/10 → [0, 0.3085]; 10/10 → [0.6915, 1];
// 8467/10000 → [0.8395, 0.8537].
func TestBinomialInterval(t *testing.T) {
	for _, c := range []struct {
		k, n   int
		lo, hi float64
	}{
		{5, 10, 0.1871, 0.8129},
		{0, 10, 0, 0.3085},
		{10, 10, 0.6915, 1},
		{8467, 10000, 0.8395, 0.8537},
	} {
		ci := BinomialInterval(c.k, c.n, 0.95)
		if math.Abs(float64(ci.Lo)-c.lo) > 5e-5 || math.Abs(float64(ci.Hi)-c.hi) > 5e-5 {
			t.Errorf("%d/%d: [%.5f, %.5f], want [%.4f, %.4f]", c.k, c.n, ci.Lo, ci.Hi, c.lo, c.hi)
		}
	}
	for _, bad := range [][2]int{{0, 0}, {-1, 5}, {6, 5}} {
		if ci := BinomialInterval(bad[0], bad[1], 0.95); !math.IsNaN(float64(ci.Lo)) {
			t.Errorf("%d/%d: %v, want NaN", bad[0], bad[1], ci)
		}
	}
}

// TestMeanInterval: 1..5 has mean 3 and SD √2.5; t(0.975, 4) = 2.776445 (R's
// qt(0.975, 4)), so the half-width is 2.776445·√2.5/√5 = 1.963243.
func TestMeanInterval(t *testing.T) {
	ci := MeanInterval([]float64{1, 2, 3, 4, 5}, 0.95)
	if math.Abs(float64(ci.Lo)-1.036757) > 1e-6 || math.Abs(float64(ci.Hi)-4.963243) > 1e-6 {
		t.Errorf("interval %v, want [1.036757, 4.963243]", ci)
	}
	if ci := MeanInterval([]float64{1}, 0.95); !math.IsNaN(float64(ci.Lo)) {
		t.Errorf("one value: %v, want NaN", ci)
	}
}
