package plots

import (
	"math"
	"reflect"
	"testing"

	"gonum.org/v1/plot"
)

func TestParetoFront(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		name string
		x, y []float64
		want []int
	}{
		{"empty", nil, nil, nil},
		{"one", []float64{1}, []float64{2}, []int{0}},
		{"chain", []float64{3, 1, 2}, []float64{3, 1, 2}, []int{1, 2, 0}},
		{"dominated", []float64{1, 2, 3}, []float64{5, 4, 6}, []int{0, 2}},
		{"tie in x keeps best y", []float64{1, 1, 2}, []float64{1, 3, 4}, []int{1, 2}},
		{"tie in y keeps lowest x", []float64{2, 1}, []float64{5, 5}, []int{1}},
		{"duplicates once", []float64{1, 1}, []float64{2, 2}, []int{0}},
		{"NaN ignored", []float64{nan, 1, 2}, []float64{9, 1, nan}, []int{1}},
	} {
		got, err := ParetoFront(c.x, c.y)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: front %v, want %v", c.name, got, c.want)
		}
	}
	if _, err := ParetoFront([]float64{1, 2}, []float64{1}); err == nil {
		t.Error("mismatched lengths: no error")
	}
}

func TestSmooth(t *testing.T) {
	got, err := Smooth([]float64{1, 0, math.NaN(), 1}, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	// s1 = 0.5/0.5 = 1; s2 = 0.25/0.75 = 1/3; NaN skipped; s3 = (0.125+0.5)/0.875.
	want := []float64{1, 1.0 / 3, math.NaN(), 0.625 / 0.875}
	for i := range want {
		if math.IsNaN(want[i]) != math.IsNaN(got[i]) || !math.IsNaN(want[i]) && math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("Smooth = %v, want %v", got, want)
		}
	}
	// Debiasing: a constant stays constant from the first step.
	got, _ = Smooth([]float64{3, 3, 3}, 0.99)
	for _, v := range got {
		if math.Abs(v-3) > 1e-12 {
			t.Fatalf("constant smoothed to %v", got)
		}
	}
	got, _ = Smooth([]float64{1, 5, 2}, 0)
	if !reflect.DeepEqual(got, []float64{1, 5, 2}) {
		t.Errorf("weight 0: %v", got)
	}
	for _, w := range []float64{-0.1, 1, math.NaN()} {
		if _, err := Smooth([]float64{1}, w); err == nil {
			t.Errorf("weight %g: no error", w)
		}
	}
}

func labels(ts []plot.Tick) []string {
	var out []string
	for _, t := range ts {
		if t.Label != "" {
			out = append(out, t.Label)
		}
	}
	return out
}

func TestTicks(t *testing.T) {
	if got := labels((logTicks{}).Ticks(2, 40)); !reflect.DeepEqual(got, []string{"2", "5", "10", "20"}) {
		t.Errorf("log ticks 2..40: %v", got)
	}
	if got := labels((logTicks{}).Ticks(0.5, 2e4)); !reflect.DeepEqual(got, []string{"1", "10", "100", "1000", "10000"}) {
		t.Errorf("log ticks 0.5..2e4: %v", got)
	}
	if got := labels((logTicks{}).Ticks(2.1, 2.4)); len(got) != 2 {
		t.Errorf("narrow log range should label its ends, got %v", got)
	}
	if got := (logTicks{}).Ticks(-1, 10); got != nil {
		t.Errorf("non-positive log range: %v", got)
	}
	if got := labels((niceTicks{}).Ticks(0, 1)); !reflect.DeepEqual(got, []string{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}) {
		t.Errorf("nice ticks 0..1: %v", got)
	}
	if got := labels((niceTicks{}).Ticks(71.6, 75.9)); !reflect.DeepEqual(got, []string{"72", "73", "74", "75"}) {
		t.Errorf("nice ticks 71.6..75.9: %v", got)
	}
	if got := labels((niceTicks{}).Ticks(0.6, 1.55)); !reflect.DeepEqual(got, []string{"0.6", "0.8", "1.0", "1.2", "1.4"}) {
		t.Errorf("nice ticks 0.6..1.55: %v", got)
	}
	if got := labels((niceTicks{}).Ticks(-0.55, 0.55)); !reflect.DeepEqual(got, []string{"-0.4", "-0.2", "0.0", "0.2", "0.4"}) {
		t.Errorf("nice ticks -0.55..0.55: %v", got)
	}
	if got := labels((niceTicks{}).Ticks(0, 99990)); !reflect.DeepEqual(got, []string{"0", "20k", "40k", "60k", "80k"}) {
		t.Errorf("nice ticks 0..99990: %v", got)
	}
	if got := (niceTicks{}).Ticks(1, 1); got != nil {
		t.Errorf("empty range: %v", got)
	}
}
