package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Estimate is a value with an uncertainty interval [Lo, Hi] around it: a mean
// accuracy and its confidence interval over seeds, a modelled latency and its
// spread over cost-model parameter draws. NaN bounds mean the spread is
// unknown (no bar is drawn on that axis).
type Estimate struct {
	Value, Lo, Hi float64
}

// Exact returns an estimate without spread.
func Exact(v float64) Estimate { return Estimate{Value: v, Lo: math.NaN(), Hi: math.NaN()} }

// HasSpread reports whether both bounds are known.
func (e Estimate) HasSpread() bool { return !math.IsNaN(e.Lo) && !math.IsNaN(e.Hi) }

// check returns an error unless Value is finite and, when known, Lo <= Value <= Hi.
func (e Estimate) check(what string) error {
	if math.IsNaN(e.Value) || math.IsInf(e.Value, 0) {
		return fmt.Errorf("%s %g is not a finite number", what, e.Value)
	}
	if math.IsNaN(e.Lo) != math.IsNaN(e.Hi) {
		return fmt.Errorf("%s: give both bounds of the interval or neither (got %g, %g)", what, e.Lo, e.Hi)
	}
	if e.HasSpread() && (math.IsInf(e.Lo, 0) || math.IsInf(e.Hi, 0) || e.Lo > e.Value || e.Hi < e.Value) {
		return fmt.Errorf("%s: interval [%g, %g] must be finite and contain the value %g", what, e.Lo, e.Hi, e.Value)
	}
	return nil
}

// errorBarSeries returns a KindErrorBars series of the estimates (x, y).
func errorBarSeries(x, y []Estimate, c color.Color) *Series {
	s := &Series{Kind: KindErrorBars, Width: 0.9, Color: c}
	for i := range x {
		s.X, s.Y = append(s.X, x[i].Value), append(s.Y, y[i].Value)
		s.XLo, s.XHi = append(s.XLo, x[i].Lo), append(s.XHi, x[i].Hi)
		s.YLo, s.YHi = append(s.YLo, y[i].Lo), append(s.YHi, y[i].Hi)
	}
	return s
}

// checkErrorBars validates a KindErrorBars series: bounds aligned with the
// points, each NaN (no bar) or on its side of the point.
func (s *Series) checkErrorBars(p *Panel) error {
	n := len(s.X)
	if len(s.Y) != n {
		return fmt.Errorf("%d x values but %d y values", n, len(s.Y))
	}
	for _, b := range []struct {
		name string
		v    []float64
	}{{"x low", s.XLo}, {"x high", s.XHi}, {"y low", s.YLo}, {"y high", s.YHi}} {
		if b.v != nil && len(b.v) != n {
			return fmt.Errorf("%d %s bounds for %d points", len(b.v), b.name, n)
		}
	}
	if err := finite("x", s.X); err != nil {
		return err
	}
	if err := finite("y", s.Y); err != nil {
		return err
	}
	at := func(v []float64, i int) float64 {
		if v == nil {
			return math.NaN()
		}
		return v[i]
	}
	for i := range n {
		for axis, b := range [2][2]float64{{at(s.XLo, i), at(s.XHi, i)}, {at(s.YLo, i), at(s.YHi, i)}} {
			v := [2]float64{s.X[i], s.Y[i]}[axis]
			e := Estimate{Value: v, Lo: b[0], Hi: b[1]}
			if err := e.check(fmt.Sprintf("point %d, %s", i, [2]string{"x", "y"}[axis])); err != nil {
				return err
			}
			if e.HasSpread() && [2]bool{p.XLog, p.YLog}[axis] && e.Lo <= 0 {
				return fmt.Errorf("point %d: %s interval reaches %g: must be > 0 on a log axis", i, [2]string{"x", "y"}[axis], e.Lo)
			}
		}
	}
	return nil
}

// errorBarPlotters returns gonum's XErrorBars and YErrorBars for the bars
// of a KindErrorBars series; points without a bar on an axis are left out of
// that axis's bars.
func errorBarPlotters(s *Series) []plot.Plotter {
	ls := lineStyle(s)
	capW := vg.Points(4)
	var xb *plotter.XErrorBars
	var yb *plotter.YErrorBars
	for i := range s.X {
		pt := plotter.XY{X: s.X[i], Y: s.Y[i]}
		if s.XLo != nil && !math.IsNaN(s.XLo[i]) {
			if xb == nil {
				xb = &plotter.XErrorBars{LineStyle: ls, CapWidth: capW}
			}
			xb.XYs = append(xb.XYs, pt)
			xb.XErrors = append(xb.XErrors, struct{ Low, High float64 }{s.X[i] - s.XLo[i], s.XHi[i] - s.X[i]})
		}
		if s.YLo != nil && !math.IsNaN(s.YLo[i]) {
			if yb == nil {
				yb = &plotter.YErrorBars{LineStyle: ls, CapWidth: capW}
			}
			yb.XYs = append(yb.XYs, pt)
			yb.YErrors = append(yb.YErrors, struct{ Low, High float64 }{s.Y[i] - s.YLo[i], s.YHi[i] - s.Y[i]})
		}
	}
	var out []plot.Plotter
	if xb != nil {
		out = append(out, xb)
	}
	if yb != nil {
		out = append(out, yb)
	}
	return out
}
