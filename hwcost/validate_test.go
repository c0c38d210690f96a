package hwcost

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/multihw/multihw/internal/progress"
	"github.com/multihw/multihw/report"
)

func TestResolution(t *testing.T) {
	for _, c := range []struct {
		y    []float64
		want float64
	}{
		{[]float64{0.7, 1.1, 2.4}, 0.1},
		{[]float64{3, 17, 250}, 1},
		{[]float64{0.25, 1}, 0.01},
		{[]float64{0.1234567}, 0},
		{nil, 0},
	} {
		if got := Resolution(c.y); got != c.want {
			t.Errorf("Resolution(%v) = %g, want %g", c.y, got, c.want)
		}
	}
}

func TestRoundingOrder(t *testing.T) {
	// Values 1 ms apart rounded to 0.1 ms: the rounding cannot reorder
	// them, so the exact predictor (ρ = 1) beats the reversed one (ρ = −1)
	// in every draw, by 2.
	y := []float64{1, 2, 3, 4}
	rev := []float64{4, 3, 2, 1}
	if p, d := RoundingOrder(y, rev, y, 0.1, 200); p != 0 || math.Abs(d-2) > 1e-12 {
		t.Errorf("exact vs reversed: P(worse) %g, Δρ %g; want 0, 2", p, d)
	}
	if p, d := RoundingOrder(rev, y, y, 0.1, 200); p != 1 || math.Abs(d+2) > 1e-12 {
		t.Errorf("reversed vs exact: P(worse) %g, Δρ %g; want 1, −2", p, d)
	}
	if p, d := RoundingOrder(rev, y[1:], y, 0.1, 200); !math.IsNaN(p) || !math.IsNaN(d) {
		t.Errorf("lengths differ: %g, %g, want NaN", p, d)
	}
	if p, _ := RoundingOrder(rev, y, y, 0.1, 0); !math.IsNaN(p) {
		t.Errorf("no draws: %g, want NaN", p)
	}
	// Three rows tied at 1 ms: two predictors that order them oppositely
	// (and agree on the fourth) are exchangeable under the rounding, so
	// neither is worse beyond it: mean difference near 0, P(worse) far from
	// 0 and 1 (below 1/2, as draws with equal ρ do not count).
	y = []float64{1, 1, 1, 2}
	a := []float64{1, 2, 3, 4}
	b := []float64{3, 2, 1, 4}
	p, d := RoundingOrder(a, b, y, 1, 2000)
	if !(p > 0.2 && p < 0.6) || math.Abs(d) > 0.05 {
		t.Errorf("exchangeable predictors: P(worse) %g, Δρ %g; want P in (0.2, 0.6), |Δρ| ≤ 0.05", p, d)
	}
}

// TestTargetVerdict: the adapt studies' mean Spearman is called reached or
// not only when its interval over the seeds lies on one side of the target.
// Per-seed means of the two devices below: 0.955, 0.945, 0.945, 0.960 (mean
// 0.95125, SD 0.0075, t(0.975, 3) = 3.1824: ±0.0119), which contains 0.95.
func TestTargetVerdict(t *testing.T) {
	rows := []AdaptRow{
		{Device: "a", Spearman: 0.9525, PerSeed: []float64{0.96, 0.94, 0.95, 0.96}},
		{Device: "b", Spearman: 0.95, PerSeed: []float64{0.95, 0.95, 0.94, 0.96}},
	}
	for _, c := range []struct {
		only   []string
		target float64
		want   string
	}{
		{nil, 0.95, "0.9512, 95% interval over the seeds 0.9393-0.9632 (target 0.95: at it, unresolved"},
		{nil, 0.9, "(target 0.9: reached)"},
		{nil, 0.97, "(target 0.97: **not reached**)"},
		{[]string{"b"}, 0.951, "**not reached**, unresolved"},
	} {
		if got := targetVerdict(rows, c.only, c.target); !strings.Contains(got, c.want) {
			t.Errorf("targetVerdict(%v, %g) = %q, want it to contain %q", c.only, c.target, got, c.want)
		}
	}
}

// The fit report's sentence on HELP's devices with more samples: the
// verdict over the same seeds, each device's mean; nothing without rows.
func TestWriteHELPMore(t *testing.T) {
	rows := []AdaptRow{
		{Device: "a", Train: 20, Spearman: 0.97, PerSeed: []float64{0.97, 0.96, 0.98}},
		{Device: "b", Train: 20, Spearman: 0.96, PerSeed: []float64{0.96, 0.96, 0.96}},
	}
	var d report.Doc
	writeHELPMore(&d, rows)
	got := d.String()
	for _, want := range []string{"With 20 samples instead of 10", "the mean is 0.9650", "(target 0.95: reached)", ": a 0.9700, b 0.9600."} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in %q", want, got)
		}
	}
	var empty report.Doc
	if writeHELPMore(&empty, nil); empty.String() != "" {
		t.Errorf("no rows: %q", empty.String())
	}
}

// The FBNet phones with many samples: each device's ρ next to MACs alone and
// the largest gap between them, computed from the rows.
func TestWriteFBNetLarge(t *testing.T) {
	rows := []AdaptRow{
		{Device: "p", Train: 1000, NTest: 4000, Spearman: 0.79, MACsSpearman: 0.78},
		{Device: "q", Train: 1000, NTest: 4000, Spearman: 0.70, MACsSpearman: 0.73},
	}
	var d report.Doc
	writeFBNetLarge(&d, rows)
	got := d.String()
	for _, want := range []string{"Fitted on 1000 networks instead of 20 (seed 1; test set the other 4000)",
		"p 0.7900 (MACs alone 0.7800), q 0.7000 (MACs alone 0.7300): at most 0.030 from MACs alone"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in %q", want, got)
		}
	}
	var empty report.Doc
	if writeFBNetLarge(&empty, nil); empty.String() != "" {
		t.Errorf("no rows: %q", empty.String())
	}
}

// The fit report's sentence on the 10-sample study over many seeds: the
// verdict, each device's mean and the blocks of ten seeds that reach 0.95.
// Seeds 1-10 of device a at 0.97 and b at 0.94 (block mean 0.955: reaches),
// seeds 11-20 of both at 0.94 (0.94: does not), seeds 21-25 (no full block)
// at 0.99.
func TestWriteHELPWide(t *testing.T) {
	fill := func(vs ...[2]float64) []float64 { // (value, count) pairs
		var out []float64
		for _, v := range vs {
			for range int(v[1]) {
				out = append(out, v[0])
			}
		}
		return out
	}
	rows := []AdaptRow{
		{Device: "a", Train: 10, Spearman: 0.9600, PerSeed: fill([2]float64{0.97, 10}, [2]float64{0.94, 10}, [2]float64{0.99, 5})},
		{Device: "b", Train: 10, Spearman: 0.9480, PerSeed: fill([2]float64{0.94, 10}, [2]float64{0.94, 10}, [2]float64{0.99, 5})},
	}
	var d report.Doc
	writeHELPWide(&d, rows)
	got := d.String()
	for _, want := range []string{"Over seeds 1-25 (the same first 10)", "by device: a 0.9600, b 0.9480",
		"Of the 2 blocks of 10 consecutive seeds (the target's protocol: a mean over 10 seeds), 1 reach 0.95."} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in %q", want, got)
		}
	}
	var empty report.Doc
	if writeHELPWide(&empty, rows[:1:1]); !strings.Contains(empty.String(), "1 reach") {
		t.Errorf("one device: %q", empty.String())
	}
	var none report.Doc
	if writeHELPWide(&none, []AdaptRow{{Device: "a", PerSeed: []float64{0.9, 0.9}}}); none.String() != "" {
		t.Errorf("fewer seeds than two blocks: %q", none.String())
	}
}

// A study prints the fits done within it and a line when it ends, and its
// rows are AdaptStudy's.
func TestStudyProgress(t *testing.T) {
	lib, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	r := studyRunner{lib: lib, pr: progress.New(&out), start: time.Now()}
	seeds := []uint64{1, 2}
	rows, err := r.study("tiny", "nb201-help", []string{"fpga"}, 10, seeds)
	if err != nil {
		t.Fatal(err)
	}
	want, err := AdaptStudy(lib, "nb201-help", []string{"fpga"}, 10, seeds)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || !slices.Equal(rows[0].PerSeed, want[0].PerSeed) {
		t.Errorf("rows %+v, AdaptStudy's %+v", rows, want)
	}
	got := out.String()
	// The first fit is due at once (no line printed before), the end always.
	for _, s := range []string{"adapt study tiny: 1 of 2 fits (", "adapt study tiny: 2 fits done at "} {
		if !strings.Contains(got, s) {
			t.Errorf("progress lacks %q:\n%s", s, got)
		}
	}
	if _, err := r.study("bad", "nb201-help", []string{"no-such-device"}, 10, seeds); err == nil || !strings.Contains(err.Error(), "adapt study bad: ") {
		t.Errorf("unknown device: error %v, want one naming the study", err)
	}
}
