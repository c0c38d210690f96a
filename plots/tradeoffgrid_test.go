package plots

import (
	"math"
	"reflect"
	"testing"
)

func TestTradeoffGrid(t *testing.T) {
	f, err := TradeoffGrid(tradeoffGridFixture())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Panels) != 4 || f.Rows != 2 || f.Cols != 3 || f.Name != "tradeoff_grid" {
		t.Fatalf("%d panels in %dx%d (%s), want 4 in 2x3", len(f.Panels), f.Rows, f.Cols, f.Name)
	}
	cpu := f.Panels[0]
	// The CPU front (lower latency, higher accuracy): cpu only (0.70, 90.8), AVG (0.85, 91.2).
	front := cpu.SeriesOf(KindLine)
	if len(front) != 1 || !reflect.DeepEqual(front[0].X, []float64{0.70, 0.85}) {
		t.Errorf("CPU front %+v", front)
	}
	bars := cpu.SeriesOf(KindErrorBars)
	if len(bars) != 4 {
		t.Fatalf("%d error-bar series, want one per group", len(bars))
	}
	// The AVG search's bars: accuracy 91.2 ± 0.2, CPU latency 0.85 ± 0.03.
	b := bars[0]
	if b.YLo[0] != 91.0 || b.YHi[0] != 91.4 || math.Abs(b.XLo[0]-0.82) > 1e-12 || math.Abs(b.XHi[0]-0.88) > 1e-12 {
		t.Errorf("bars of the first model: x [%g, %g], y [%g, %g]", b.XLo[0], b.XHi[0], b.YLo[0], b.YHi[0])
	}
	// MultiMAX has no spread: NaN bounds, no bar.
	if last := bars[3]; !math.IsNaN(last.XLo[0]) || !math.IsNaN(last.YLo[0]) {
		t.Errorf("exact estimate drawn with bars: %+v", last)
	}
	// The range holds the intervals, not only the points.
	if !(cpu.YMax > 91.4 && cpu.XMin < 0.67) {
		t.Errorf("CPU range x %g..%g, y %g..%g", cpu.XMin, cpu.XMax, cpu.YMin, cpu.YMax)
	}
	if _, err := f.PNG(800, 500); err != nil {
		t.Fatal(err)
	}

	bad := tradeoffGridFixture()
	bad.Models[0].Latency = bad.Models[0].Latency[:2]
	_, err = TradeoffGrid(bad)
	wantErr(t, "latencies per metric", err, "2 latencies for 4 metrics")
	bad = tradeoffGridFixture()
	bad.Models[1].Accuracy = Estimate{Value: 90, Lo: 90.5, Hi: 91}
	_, err = TradeoffGrid(bad)
	wantErr(t, "interval beside its value", err, "must be finite and contain the value")
	bad = tradeoffGridFixture()
	bad.Models[2].Latency[1] = Estimate{Value: 1, Lo: 0.9, Hi: math.NaN()}
	_, err = TradeoffGrid(bad)
	wantErr(t, "half an interval", err, "both bounds")
	_, err = TradeoffGrid(TradeoffGridData{Metrics: []string{"CPU"}})
	wantErr(t, "no models", err, "no models")
}

func TestSweep(t *testing.T) {
	f, err := Sweep(sweepFixture())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Panels) != 2 {
		t.Fatalf("%d panels", len(f.Panels))
	}
	cost := f.Panels[0]
	lines := cost.SeriesOf(KindLine)
	// The mean's line is sorted by X; the seeds are points only.
	if len(lines) != 1 || !reflect.DeepEqual(lines[0].X, []float64{0.85, 1}) || !reflect.DeepEqual(lines[0].Y, []float64{0.855, 0.99}) {
		t.Errorf("lines %+v", lines)
	}
	pts := cost.SeriesOf(KindPoints)
	if len(pts) != 2 || pts[0].Color != pts[1].Color {
		t.Errorf("a group's series do not share their colour")
	}
	if len(cost.SeriesOf(KindDiagonal)) != 1 || cost.XMin != cost.YMin || cost.XMax != cost.YMax {
		t.Errorf("diagonal panel without equal axes: x %g..%g y %g..%g", cost.XMin, cost.XMax, cost.YMin, cost.YMax)
	}
	if acc := f.Panels[1].SeriesOf(KindErrorBars); len(acc) != 1 || acc[0].YLo[0] != 89.8 || !math.IsNaN(acc[0].YLo[1]) {
		t.Errorf("accuracy bars %+v", acc)
	}
	if _, err := f.SVG(600, 300); err != nil {
		t.Fatal(err)
	}
	bad := sweepFixture()
	bad.Panels[1].Series[0].YLo = []float64{89.8}
	_, err = Sweep(bad)
	wantErr(t, "bounds of another length", err, "do not match")
	bad = sweepFixture()
	bad.Panels[0].Series = nil
	_, err = Sweep(bad)
	wantErr(t, "empty panel", err, "no series")
}

// TestErrorBarsOnLogAxis: an interval reaching 0 cannot be drawn on a log axis.
func TestErrorBarsOnLogAxis(t *testing.T) {
	p := newPanel("", "x", "y")
	p.YLog = true
	s := errorBarSeries([]Estimate{Exact(1)}, []Estimate{{Value: 1, Lo: 0, Hi: 2}}, nil)
	if err := s.check(p); err == nil {
		t.Fatal("an interval down to 0 on a log axis was accepted")
	}
	p.YLog = false
	if err := s.check(p); err != nil {
		t.Fatal(err)
	}
}
