package plots

import (
	"os"
	"testing"
)

// allFixtureFigures builds every figure from the fixtures.
func allFixtureFigures(t testing.TB) []*Figure {
	t.Helper()
	var figs []*Figure
	add := func(f *Figure, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		figs = append(figs, f)
	}
	add(Tradeoff(tradeoffFixture()))
	add(TargetBars(targetBarsFixture()))
	add(Breakdown(breakdownFixture()))
	add(Curves(curvesFixture(600)))
	add(ControllerProbs(controllerFixture(9, 400)))
	add(CostFit(costFitFixture(150)))
	add(DeviceComparison(deviceComparisonFixture()))
	add(TradeoffGrid(tradeoffGridFixture()))
	add(Sweep(sweepFixture()))
	add(AdaptCurve(adaptCurveFixture()))
	return figs
}

// TestWriteFixtureFigures writes every figure to $MULTIHW_PLOTS_OUT for a
// visual check (skipped without it: there is nothing to assert on pixels).
func TestWriteFixtureFigures(t *testing.T) {
	dir := os.Getenv("MULTIHW_PLOTS_OUT")
	if dir == "" {
		t.Skip("set MULTIHW_PLOTS_OUT=DIR to write the fixture figures for a visual check")
	}
	paths, err := WriteFiles(dir, 1, allFixtureFigures(t)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		t.Log(p)
	}
}
