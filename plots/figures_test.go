package plots

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func wantErr(t *testing.T, what string, err error, contains string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	if !strings.Contains(err.Error(), contains) {
		t.Errorf("%s: error %q does not mention %q", what, err, contains)
	}
}

func TestTradeoff(t *testing.T) {
	d := tradeoffFixture()
	f, err := Tradeoff(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Panels) != 2 || f.Rows != 1 || f.Cols != 2 {
		t.Fatalf("got %d panels in %dx%d, want AVG and MAX side by side", len(f.Panels), f.Rows, f.Cols)
	}
	wantLegend := []string{"reference model (latency 1)", "Pareto front", "searched", "reference"}
	if got := f.LegendEntries(); !reflect.DeepEqual(got, wantLegend) {
		t.Errorf("legend %q, want %q", got, wantLegend)
	}
	avg := f.Panels[0]
	pts := avg.SeriesOf(KindPoints)
	if len(pts) != 2 || pts[0].Len() != 3 || pts[1].Len() != 6 {
		t.Errorf("AVG panel: %d point series, want searched (3) and reference (6)", len(pts))
	}
	labels := avg.SeriesOf(KindLabels)
	if len(labels) != 1 || len(labels[0].Labels) != len(d.Models) || labels[0].Labels[0] != "Multi-AVG" {
		t.Errorf("AVG panel: labels %v", labels)
	}
	// Front on AVG: Multi-AVG 0.75x, Multi-MAX, Multi-AVG, MobileNet-EdgeTPU.
	front := avg.SeriesOf(KindLine)
	if len(front) != 1 || !reflect.DeepEqual(front[0].X, []float64{0.68, 0.90, 0.95, 1.45}) || !front[0].Step {
		t.Errorf("AVG front %+v", front)
	}
	// MAX front: 0.80, 1.02, 1.15, 2.45.
	if fr := f.Panels[1].SeriesOf(KindLine); len(fr) != 1 || !reflect.DeepEqual(fr[0].X, []float64{0.80, 1.02, 1.15, 2.45}) {
		t.Errorf("MAX front %+v", fr)
	}
	// The range leaves room around the data and includes the reference.
	if !(avg.XMin < 0.68 && avg.XMax > 1.45 && avg.YMin < 72 && avg.YMax > 75.6) {
		t.Errorf("AVG range x %g..%g y %g..%g does not hold the data", avg.XMin, avg.XMax, avg.YMin, avg.YMax)
	}

	// Uncertainty bands: one horizontal segment per model that has one, at
	// its accuracy, under the markers (before the point series).
	banded := tradeoffFixture()
	banded.Models[0].AvgBand = [2]float64{0.8, 1.1}
	banded.Models[1].AvgBand = [2]float64{0.7, 0.75}
	fb, err := Tradeoff(banded)
	if err != nil {
		t.Fatal(err)
	}
	lines := fb.Panels[0].SeriesOf(KindLine)
	if len(lines) != 3 || !reflect.DeepEqual(lines[1].X, []float64{0.8, 1.1}) || lines[1].Y[0] != banded.Models[0].Accuracy || lines[1].Name != "" {
		t.Errorf("AVG bands: %+v", lines)
	}
	if n := len(fb.Panels[1].SeriesOf(KindLine)); n != 1 {
		t.Errorf("MAX panel: %d lines, want the front only (no MAX bands)", n)
	}
	banded.Models[2].MaxBand = [2]float64{-1, 2}
	if _, err := Tradeoff(banded); err == nil {
		t.Error("negative band: no error")
	}

	// Per-group fronts.
	d.FrontGroups = []string{"searched", "reference"}
	f, err = Tradeoff(d)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.Panels[0].SeriesOf(KindLine)); n != 2 {
		t.Errorf("%d fronts, want one per front group", n)
	}

	// AVG only: one panel.
	only := tradeoffFixture()
	for i := range only.Models {
		only.Models[i].Max = 0
	}
	f, err = Tradeoff(only)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Panels) != 1 || !strings.Contains(f.Panels[0].Title, "AVG") {
		t.Errorf("AVG-only data: %d panels", len(f.Panels))
	}

	_, err = Tradeoff(TradeoffData{})
	wantErr(t, "no models", err, "no models")
	bad := tradeoffFixture()
	bad.Models[2].Avg = -0.5
	_, err = Tradeoff(bad)
	wantErr(t, "negative latency", err, "Multi-AVG 0.75x")
	bad = tradeoffFixture()
	bad.Models[1].Accuracy = math.NaN()
	_, err = Tradeoff(bad)
	wantErr(t, "NaN accuracy", err, "accuracy")
	_, err = Tradeoff(TradeoffData{Models: []Model{{Name: "a", Accuracy: 70}}})
	wantErr(t, "no latency", err, "no model has")
	bad = tradeoffFixture()
	bad.FrontGroups = []string{"ours"}
	_, err = Tradeoff(bad)
	wantErr(t, "unknown front group", err, `"ours"`)
}

func TestTargetBars(t *testing.T) {
	d := targetBarsFixture()
	f, err := TargetBars(d)
	if err != nil {
		t.Fatal(err)
	}
	p := f.Panels[0]
	if n := p.NumBars(); n != 20 {
		t.Errorf("%d bars, want 5 models × 4 targets", n)
	}
	wantLegend := []string{"CPU", "GPU", "DSP", "EdgeTPU", "reference model (1)"}
	if got := f.LegendEntries(); !reflect.DeepEqual(got, wantLegend) {
		t.Errorf("legend %q, want %q", got, wantLegend)
	}
	ref := p.SeriesOf(KindHLine)
	if len(ref) != 1 || ref[0].Value != 1 || !ref[0].Dashed {
		t.Errorf("reference line %+v, want one dashed line at 1", ref)
	}
	for i, s := range p.SeriesOf(KindBars) {
		want, _ := TargetColor(fourTargets[i])
		if s.Color != want {
			t.Errorf("%s bars coloured %v, want %v", s.Name, s.Color, want)
		}
	}
	// MobileNet-EdgeTPU on CPU: third group, first bar.
	cpu := p.SeriesOf(KindBars)[0].Bars[2]
	if cpu.Y1 != 2.45 || cpu.Label != "2.45" || !(cpu.X0 < 2 && cpu.X1 <= 2) {
		t.Errorf("EdgeTPU-on-CPU bar %+v", cpu)
	}
	if len(p.XTicks) != 5 || p.XTicks[3].Label != "Multi-AVG\n75.3%" {
		t.Errorf("ticks %+v", p.XTicks)
	}

	// NaN: not measured, no bar.
	d.Models[1].Latency[2] = math.NaN()
	f, err = TargetBars(d)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.Panels[0].NumBars(); n != 19 {
		t.Errorf("%d bars with one missing value, want 19", n)
	}

	bad := targetBarsFixture()
	bad.Models[0].Latency = bad.Models[0].Latency[:3]
	_, err = TargetBars(bad)
	wantErr(t, "short row", err, "3 latencies for 4 targets")
	bad = targetBarsFixture()
	bad.Models[4].Latency[0] = -1
	_, err = TargetBars(bad)
	wantErr(t, "negative", err, "Multi-MAX")
	_, err = TargetBars(TargetBarsData{Models: bad.Models})
	wantErr(t, "no targets", err, "no targets")
	_, err = TargetBars(TargetBarsData{Targets: fourTargets})
	wantErr(t, "no models", err, "no models")
	_, err = TargetBars(TargetBarsData{Targets: []string{"CPU", "CPU"}, Models: []LatencyRow{{Name: "m", Latency: []float64{1, 1}}}})
	wantErr(t, "duplicate target", err, "twice")
}

func TestBreakdown(t *testing.T) {
	d := breakdownFixture()
	f, err := Breakdown(d)
	if err != nil {
		t.Fatal(err)
	}
	p := f.Panels[0]
	bars := p.SeriesOf(KindBars)
	if len(bars) != len(d.Groups) || p.NumBars() != len(d.Groups)*len(d.Targets) {
		t.Fatalf("%d bar series with %d bars, want %d × %d", len(bars), p.NumBars(), len(d.Groups), len(d.Targets))
	}
	// Legend lists the top of the stack first.
	if got := f.LegendEntries(); got[0] != "head" || got[len(got)-1] != "stem" {
		t.Errorf("legend %q, want head ... stem", got)
	}
	// Shares stack from 0 to 100 on every target, contiguous.
	for ti := range d.Targets {
		base := 0.0
		for g := len(bars) - 1; g >= 0; g-- { // series are top first
			b := bars[g].Bars[ti]
			if math.Abs(b.Y0-base) > 1e-9 {
				t.Errorf("target %d group %s starts at %g, want %g", ti, bars[g].Name, b.Y0, base)
			}
			base = b.Y1
		}
		if math.Abs(base-100) > 1e-9 {
			t.Errorf("target %s stacks to %g%%, want 100", d.Targets[ti], base)
		}
	}
	if !strings.Contains(p.XTicks[0].Label, "21.5 ms") {
		t.Errorf("CPU tick %q does not show the total 21.5 ms", p.XTicks[0].Label)
	}

	d.Absolute = true
	f, err = Breakdown(d)
	if err != nil {
		t.Fatal(err)
	}
	if top := f.Panels[0].SeriesOf(KindBars)[0].Bars[3].Y1; math.Abs(top-2.15) > 1e-9 {
		t.Errorf("absolute EdgeTPU stack tops at %g, want 2.15", top)
	}

	bad := breakdownFixture()
	bad.Latency[1] = make([]float64, len(bad.Groups))
	_, err = Breakdown(bad)
	wantErr(t, "zero total", err, `"GPU" has total latency 0`)
	bad = breakdownFixture()
	bad.Latency[2] = bad.Latency[2][:3]
	_, err = Breakdown(bad)
	wantErr(t, "short row", err, "3 latencies for 7 layer groups")
	bad = breakdownFixture()
	bad.Latency[0][1] = math.Inf(1)
	_, err = Breakdown(bad)
	wantErr(t, "infinite", err, `"stage 1"`)
	bad = breakdownFixture()
	bad.Latency = bad.Latency[:2]
	_, err = Breakdown(bad)
	wantErr(t, "missing rows", err, "2 latency rows for 4 targets")
}

func TestCurves(t *testing.T) {
	d := curvesFixture(50)
	d.Curves[1].Values[7] = math.NaN() // accuracy not evaluated at step 7
	f, err := Curves(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Panels) != 4 || f.Rows != 2 || f.Cols != 2 {
		t.Fatalf("%d panels in %dx%d, want 4 in 2x2", len(f.Panels), f.Rows, f.Cols)
	}
	wantLegend := []string{"raw", "EMA-smoothed (weight 0.9)", "target cost T0"}
	if got := f.LegendEntries(); !reflect.DeepEqual(got, wantLegend) {
		t.Errorf("legend %q, want %q", got, wantLegend)
	}
	acc := f.Panels[1].SeriesOf(KindLine)
	if len(acc) != 2 || acc[0].Len() != 49 || acc[1].Len() != 49 {
		t.Errorf("accuracy panel: want raw and smoothed lines of 49 points (one NaN dropped)")
	}
	if f.Panels[0].XLabel != "" || f.Panels[3].XLabel == "" {
		t.Errorf("step label should be on the bottom row only")
	}
	if h := f.Panels[2].SeriesOf(KindHLine); len(h) != 1 || h[0].Value != 1 {
		t.Errorf("cost panel target line %+v", h)
	}

	d.Smoothing = 0
	f, err = Curves(d)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.Panels[0].SeriesOf(KindLine)); n != 1 {
		t.Errorf("unsmoothed: %d lines, want 1", n)
	}

	bad := curvesFixture(10)
	bad.Smoothing = 1
	_, err = Curves(bad)
	wantErr(t, "smoothing 1", err, "smoothing")
	bad = curvesFixture(10)
	bad.Curves[2].Values = bad.Curves[2].Values[:9]
	_, err = Curves(bad)
	wantErr(t, "short curve", err, `"cost" has 9 values for 10 steps`)
	bad = curvesFixture(10)
	for i := range bad.Curves[0].Values {
		bad.Curves[0].Values[i] = math.NaN()
	}
	_, err = Curves(bad)
	wantErr(t, "all NaN", err, "no values")
	_, err = Curves(CurvesData{})
	wantErr(t, "no curves", err, "no curves")
}

func TestControllerProbs(t *testing.T) {
	d := controllerFixture(5, 450)
	f, err := ControllerProbs(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Panels) != 5 || f.Cols != 3 || f.Rows != 2 {
		t.Fatalf("%d panels in %dx%d, want 5 in 2x3", len(f.Panels), f.Rows, f.Cols)
	}
	if f.ColorScale == nil || f.ColorScale.Min != 0 || f.ColorScale.Max != 1 {
		t.Errorf("colour scale %+v, want 0..1", f.ColorScale)
	}
	for i, p := range f.Panels {
		heat := p.SeriesOf(KindHeat)
		opts := len(d.Decisions[i].Options)
		if len(heat) != 1 || len(heat[0].Heat.Z) != opts || len(heat[0].Heat.Z[0]) != 200 {
			t.Errorf("panel %d: want one heat map of %d options × 200 columns", i, opts)
		}
		if len(p.YTicks) != opts || p.YTicks[0].Label != d.Decisions[i].Options[0] {
			t.Errorf("panel %d: option ticks %+v", i, p.YTicks)
		}
	}
	if got := f.LegendEntries(); len(got) != 0 {
		t.Errorf("heat maps need no legend entries, got %q", got)
	}

	// Few steps: one column per step, no averaging.
	small := controllerFixture(1, 7)
	f, err = ControllerProbs(small)
	if err != nil {
		t.Fatal(err)
	}
	z := f.Panels[0].Series[0].Heat.Z
	if len(z[0]) != 7 || z[1][3] != small.Decisions[0].Probs[3][1] {
		t.Errorf("7 steps: heat map %v", z)
	}

	bad := controllerFixture(2, 10)
	bad.Decisions[0].Probs[4] = []float64{0.7, 0.7}
	_, err = ControllerProbs(bad)
	wantErr(t, "sum", err, "sum to 1.4")
	bad = controllerFixture(2, 10)
	bad.Decisions[0].Probs[2] = []float64{1}
	_, err = ControllerProbs(bad)
	wantErr(t, "options", err, "1 probabilities for 2 options")
	bad = controllerFixture(2, 10)
	bad.Steps[5] = 0
	_, err = ControllerProbs(bad)
	wantErr(t, "decreasing steps", err, "must not decrease")
	bad = controllerFixture(2, 10)
	bad.Decisions[1].Probs = bad.Decisions[1].Probs[:9]
	_, err = ControllerProbs(bad)
	wantErr(t, "missing rows", err, "9 probability rows for 10 steps")
	bad = controllerFixture(2, 10)
	bad.Decisions[0].Probs[0] = []float64{1.5, -0.5}
	_, err = ControllerProbs(bad)
	wantErr(t, "out of range", err, "outside [0, 1]")
}

func TestBinColumns(t *testing.T) {
	probs := [][]float64{{1, 0}, {0.5, 0.5}, {0, 1}, {0.2, 0.8}, {0.4, 0.6}}
	z := binColumns(probs, 2) // steps 0-1 and 2-4
	want := [][]float64{{0.75, 0.2}, {0.25, 0.8}}
	for o := range want {
		for c := range want[o] {
			if math.Abs(z[o][c]-want[o][c]) > 1e-12 {
				t.Fatalf("binColumns = %v, want %v", z, want)
			}
		}
	}
}

func TestCostFit(t *testing.T) {
	d := costFitFixture(30)
	f, err := CostFit(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Panels) != 4 || f.Rows != 2 || f.Cols != 2 {
		t.Fatalf("%d panels in %dx%d, want 4 in 2x2", len(f.Panels), f.Rows, f.Cols)
	}
	for i, p := range f.Panels {
		if !p.XLog || !p.YLog || len(p.SeriesOf(KindDiagonal)) != 1 {
			t.Errorf("panel %d: want log-log with a y = x line", i)
		}
		if p.XMin != p.YMin || p.XMax != p.YMax {
			t.Errorf("panel %d: axes %g..%g and %g..%g differ, y = x would not be the diagonal", i, p.XMin, p.XMax, p.YMin, p.YMax)
		}
	}
	wantLegend := []string{"CPU", "y = x", "GPU", "DSP", "EdgeTPU"}
	if got := f.LegendEntries(); !reflect.DeepEqual(got, wantLegend) {
		t.Errorf("legend %q, want %q", got, wantLegend)
	}

	// Monotone predictions: ρ = 1 whatever the error; reversed: ρ = −1.
	meas := []float64{1, 2, 4, 8, 16}
	f, err = CostFit(CostFitData{Fits: []FitSeries{
		{Target: "CPU", Measured: meas, Predicted: []float64{1.5, 2.2, 3, 9, 30}, Names: []string{"a", "b", "c", "d", "e"}},
		{Target: "DSP", Measured: meas, Predicted: []float64{16, 8, 4, 2, 1}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if title := f.Panels[0].Title; !strings.Contains(title, "ρ = 1.000") || !strings.Contains(title, "n = 5") {
		t.Errorf("monotone panel title %q", title)
	}
	if title := f.Panels[1].Title; !strings.Contains(title, "ρ = -1.000") {
		t.Errorf("reversed panel title %q", title)
	}
	// Median |pred/meas − 1| of CPU: 0.5, 0.1, 0.25, 0.125, 0.875 → 0.25.
	if title := f.Panels[0].Title; !strings.Contains(title, "median error 25%") {
		t.Errorf("CPU title %q, want median error 25%%", title)
	}
	if l := f.Panels[0].SeriesOf(KindLabels); len(l) != 1 || len(l[0].Labels) != 5 {
		t.Errorf("named points should be labelled")
	}

	_, err = CostFit(CostFitData{Fits: []FitSeries{{Target: "GPU", Measured: []float64{1, 0, 3}, Predicted: []float64{1, 2, 3}}}})
	wantErr(t, "zero on log axis", err, "measured[1] = 0 must be > 0")
	_, err = CostFit(CostFitData{Fits: []FitSeries{{Target: "GPU", Measured: []float64{1, 2, 3}, Predicted: []float64{1, 2}}}})
	wantErr(t, "mismatched", err, "2 predictions for 3 measurements")
	_, err = CostFit(CostFitData{Fits: []FitSeries{{Target: "GPU", Measured: []float64{1}, Predicted: []float64{1}}}})
	wantErr(t, "one point", err, "at least 2 points")
	_, err = CostFit(CostFitData{})
	wantErr(t, "no fits", err, "no targets")
}

func TestDeviceComparison(t *testing.T) {
	d := deviceComparisonFixture()
	f, err := DeviceComparison(d)
	if err != nil {
		t.Fatal(err)
	}
	p := f.Panels[0]
	if n := p.NumBars(); n != 24 {
		t.Errorf("%d bars, want 6 objectives × 4 targets", n)
	}
	b := p.SeriesOf(KindHLine)
	if len(b) != 1 || b[0].Value != 0.8 || b[0].Name != "budget (0.8)" {
		t.Errorf("budget line %+v", b)
	}
	// CPU-only winner: accuracy and AVG (0.9825) / MAX (1.21) in its label.
	if l := p.XTicks[0].Label; !strings.Contains(l, "CPU only #8871") || !strings.Contains(l, "CIFAR-10 93.10%") || !strings.Contains(l, "AVG 0.98  MAX 1.21") {
		t.Errorf("CPU-only label %q", l)
	}
	if got := f.LegendEntries(); len(got) != 5 || got[4] != "budget (0.8)" {
		t.Errorf("legend %q, want 4 targets and the budget", got)
	}
	// SD855 CPU is a CPU: blue, like "CPU" in every other figure.
	want, _ := TargetColor("CPU")
	if c := p.SeriesOf(KindBars)[0].Color; c != want {
		t.Errorf("SD855 CPU coloured %v, want the CPU colour %v", c, want)
	}

	d.Budget = 0
	f, err = DeviceComparison(d)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.Panels[0].SeriesOf(KindHLine)); n != 0 {
		t.Errorf("no budget: %d lines", n)
	}
	d.Budget = -1
	_, err = DeviceComparison(d)
	wantErr(t, "negative budget", err, "budget")
	d = deviceComparisonFixture()
	d.Winners[3].Accuracy = math.Inf(1)
	_, err = DeviceComparison(d)
	wantErr(t, "infinite accuracy", err, "EdgeTPU only")
}

func TestTargetColors(t *testing.T) {
	for name, want := range map[string]string{
		"CPU": "#0072B2", "gpu": "#009E73", "DSP": "#D55E00", "EdgeTPU": "#CC79A7",
		"mobile-cpu-snapdragon-855-kryo-485-int8":    "#0072B2",
		"mobile-gpu-snapdragon-855-adreno-640-int8":  "#009E73",
		"mobile-dsp-snapdragon-855-hexagon-690-int8": "#D55E00",
		"embedded-tpu-edge-tpu-int8":                 "#CC79A7",
	} {
		c, ok := TargetColor(name)
		if !ok || hexColor(c) != want {
			t.Errorf("TargetColor(%q) = %s, %v; want %s", name, hexColor(c), ok, want)
		}
	}
	// Unknown names: stable, not claiming a class.
	c1, ok := TargetColor("pixel2")
	c2, _ := TargetColor("pixel2")
	if ok || c1 != c2 {
		t.Errorf("TargetColor(pixel2) = %v, %v then %v", c1, ok, c2)
	}
	// Within a figure: two CPUs get different colours, the first keeps blue.
	cs := targetColors([]string{"sd855 cpu", "sd675 cpu", "GPU", "pixel2", "raspi4"})
	seen := map[string]bool{}
	for i, c := range cs {
		h := hexColor(c)
		if seen[h] {
			t.Errorf("colour %s used twice in %v", h, cs)
		}
		seen[h] = true
		if i == 0 && h != "#0072B2" {
			t.Errorf("first CPU is %s, want blue", h)
		}
	}
}
