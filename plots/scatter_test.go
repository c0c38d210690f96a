package plots

import (
	"math"
	"reflect"
	"testing"
)

func TestScatter(t *testing.T) {
	d := ScatterData{
		Name: "cpu_vs_dsp", XLabel: "CPU", YLabel: "DSP",
		Groups: []PointGroup{
			{Name: "samples", X: []float64{0.5, 1, 2, 4}, Y: []float64{0.6, 0.9, 2.5, 3}},
			{Name: "reference", X: []float64{1, 1.2}, Y: []float64{1, 0.8}, Labels: []string{"MobileNetV2", "Multi-AVG"}},
		},
		XLog: true, YLog: true, Diagonal: true, XRef: 1, YRef: 1, RefName: "MobileNetV2",
	}
	f, err := Scatter(d)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "cpu_vs_dsp" || len(f.Panels) != 1 {
		t.Fatalf("name %q, %d panels", f.Name, len(f.Panels))
	}
	p := f.Panels[0]
	pts := p.SeriesOf(KindPoints)
	if len(pts) != 2 || pts[0].Len() != 4 || pts[1].Len() != 2 {
		t.Fatalf("point series %v", pts)
	}
	if pts[1].Color != colorGrey || pts[1].Glyph != GlyphSquare {
		t.Errorf("reference group not drawn as grey squares")
	}
	if l := p.SeriesOf(KindLabels); len(l) != 1 || !reflect.DeepEqual(l[0].Labels, []string{"MobileNetV2", "Multi-AVG"}) {
		t.Errorf("labels %v", l)
	}
	if len(p.SeriesOf(KindDiagonal)) != 1 || len(p.SeriesOf(KindVLine)) != 1 || len(p.SeriesOf(KindHLine)) != 1 {
		t.Errorf("reference lines missing")
	}
	// The diagonal needs equal ranges that hold every point.
	if p.XMin != p.YMin || p.XMax != p.YMax || !(p.XMin < 0.5 && p.XMax > 4) {
		t.Errorf("ranges x %g..%g y %g..%g", p.XMin, p.XMax, p.YMin, p.YMax)
	}
	if got := f.LegendEntries(); !reflect.DeepEqual(got, []string{"samples", "reference", "MobileNetV2", "y = x"}) {
		t.Errorf("legend %q", got)
	}
	if _, err := f.PNG(f.DefaultSize()); err != nil {
		t.Error(err)
	}

	// Dense groups get small translucent markers.
	n := 3000
	big := PointGroup{Name: "many", X: make([]float64, n), Y: make([]float64, n)}
	for i := range big.X {
		big.X[i], big.Y[i] = float64(i), float64(n-i)
	}
	f, err = Scatter(ScatterData{Groups: []PointGroup{big}})
	if err != nil {
		t.Fatal(err)
	}
	if s := f.Panels[0].Series[0]; !(s.Radius < 2 && s.Alpha > 0 && s.Alpha < 1) || f.Name != "scatter" {
		t.Errorf("dense group radius %g alpha %g, name %q", s.Radius, s.Alpha, f.Name)
	}
	if !math.IsNaN(f.Panels[0].XMin) {
		t.Errorf("without a diagonal the range is automatic, got XMin %g", f.Panels[0].XMin)
	}
}

func TestScatterErrors(t *testing.T) {
	g := PointGroup{Name: "g", X: []float64{1, 2}, Y: []float64{1, 2}}
	for _, c := range []struct {
		what string
		d    ScatterData
		want string
	}{
		{"no groups", ScatterData{}, "no point groups"},
		{"lengths", ScatterData{Groups: []PointGroup{{Name: "g", X: []float64{1}, Y: []float64{1, 2}}}}, "1 x values but 2 y"},
		{"empty", ScatterData{Groups: []PointGroup{{Name: "g"}}}, "no points"},
		{"labels", ScatterData{Groups: []PointGroup{{Name: "g", X: g.X, Y: g.Y, Labels: []string{"a"}}}}, "1 labels for 2"},
		{"nan", ScatterData{Groups: []PointGroup{{Name: "g", X: []float64{1, math.NaN()}, Y: g.Y}}}, "x[1]"},
		{"log", ScatterData{YLog: true, Groups: []PointGroup{{Name: "g", X: g.X, Y: []float64{1, 0}}}}, "log axis"},
		{"ref", ScatterData{XRef: -1, Groups: []PointGroup{g}}, "reference line"},
	} {
		_, err := Scatter(c.d)
		wantErr(t, c.what, err, c.want)
	}
}
