package stats

import (
	"math"
	"slices"
	"testing"
)

func TestRanksTies(t *testing.T) {
	got := Ranks([]float64{10, 20, 10, 30})
	want := []float64{1.5, 3, 1.5, 4}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Ranks = %v, want %v", got, want)
		}
	}
}

func TestSpearmanKnownValues(t *testing.T) {
	// Monotone but non-linear: rank correlation 1, Pearson below 1.
	x := []float64{1, 2, 3, 4, 5}
	y := []float64{1, 4, 9, 16, 100}
	if s := Spearman(x, y); math.Abs(s-1) > 1e-12 {
		t.Errorf("Spearman monotone = %v, want 1", s)
	}
	if p := Pearson(x, y); p >= 0.99 {
		t.Errorf("Pearson = %v, want < 0.99", p)
	}
	// Reversed order: -1.
	if s := Spearman(x, []float64{5, 4, 3, 2, 1}); math.Abs(s+1) > 1e-12 {
		t.Errorf("Spearman reversed = %v, want -1", s)
	}
	// One adjacent swap: Σd² = 2 over n = 5, so 1 − 6·2/(5·24) = 0.9.
	if s := Spearman(x, []float64{2, 1, 3, 4, 5}); math.Abs(s-0.9) > 1e-12 {
		t.Errorf("Spearman one swap = %v, want 0.9", s)
	}
	if !math.IsNaN(Spearman([]float64{1, 1}, []float64{1, 2})) {
		t.Error("constant input should give NaN")
	}
}

func TestMedian(t *testing.T) {
	if m := Median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("odd median %v", m)
	}
	if m := Median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("even median %v", m)
	}
	if m := MedianAbsRatioError([]float64{1.1, 0.8, 1}, []float64{1, 1, 1}); math.Abs(m-0.1) > 1e-12 {
		t.Errorf("median ratio error %v", m)
	}
}

// TestProportions: proportions of weights, exact for powers of two, the
// same whatever their common scale (1e308 four times overflowed a plain
// sum), nil without a positive weight.
func TestProportions(t *testing.T) {
	for _, c := range []struct {
		w, want []float64
	}{
		{[]float64{1, 0, 1, 2}, []float64{0.25, 0, 0.25, 0.5}},
		{[]float64{1e308, 1e308, 1e308, 1e308}, []float64{0.25, 0.25, 0.25, 0.25}},
		{[]float64{5e-324, 0, 5e-324, 1e-323}, []float64{0.25, 0, 0.25, 0.5}},
		{[]float64{3}, []float64{1}},
		{[]float64{0, 0}, nil},
		{nil, nil},
	} {
		if got := Proportions(c.w); !slices.Equal(got, c.want) {
			t.Errorf("Proportions(%v) = %v, want %v", c.w, got, c.want)
		}
	}
}
