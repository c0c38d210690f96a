package plots

import (
	"math"
	"reflect"
	"testing"
)

func adaptCurveFixture() AdaptCurveData {
	return AdaptCurveData{Curves: []CurveSeries{
		{Device: "pixel2", Train: []int{5, 10, 20, 50}, MACs: []float64{0.86, 0.86, 0.86, 0.86},
			Spearman: []Estimate{{0.84, 0.77, 0.91}, {0.88, 0.86, 0.91}, {0.90, 0.89, 0.90}, Exact(0.903)}},
		{Device: "eyeriss", Train: []int{5, 10, 20, 50},
			Spearman: []Estimate{{0.90, 0.81, 0.98}, {0.95, 0.89, 1}, {0.991, 0.987, 0.995}, {0.994, 0.993, 0.994}}},
	}}
}

func TestAdaptCurve(t *testing.T) {
	f, err := AdaptCurve(adaptCurveFixture())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Panels) != 1 || !f.Panels[0].XLog {
		t.Fatalf("want one panel with a log x axis: %+v", f.Panels)
	}
	p := f.Panels[0]
	// Per device: error bars, line, points; the MACs line where given.
	if n := len(p.SeriesOf(KindErrorBars)); n != 2 {
		t.Errorf("%d error-bar series, want 2", n)
	}
	if got, want := f.LegendEntries(), []string{"pixel2", "MACs alone: pixel2", "eyeriss"}; !reflect.DeepEqual(got, want) {
		t.Errorf("legend %q, want %q", got, want)
	}
	eb := p.SeriesOf(KindErrorBars)[0]
	if eb.YLo[0] != 0.77 || eb.YHi[1] != 0.91 || !math.IsNaN(eb.YLo[3]) || eb.X[2] != 20 {
		t.Errorf("error bars %+v", eb)
	}

	bad := adaptCurveFixture()
	bad.Curves[0].Train = []int{5, 10, 10, 50}
	_, err = AdaptCurve(bad)
	wantErr(t, "repeated size", err, "positive and increasing")
	bad = adaptCurveFixture()
	bad.Curves[1].Spearman[0] = Estimate{0.9, 0.95, 0.99}
	_, err = AdaptCurve(bad)
	wantErr(t, "value outside its interval", err, "must be finite and contain the value")
	bad = adaptCurveFixture()
	bad.Curves[0].MACs = bad.Curves[0].MACs[:2]
	_, err = AdaptCurve(bad)
	wantErr(t, "short MACs", err, "4 sizes, 4 Spearman values, 2 MACs values")
	bad = adaptCurveFixture()
	bad.Curves[1].Device = "pixel2"
	_, err = AdaptCurve(bad)
	wantErr(t, "same device twice", err, "pixel2")
	_, err = AdaptCurve(AdaptCurveData{})
	wantErr(t, "no curves", err, "no devices")
}
