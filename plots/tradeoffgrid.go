package plots

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// GridModel is one architecture on the accuracy / latency planes of a
// [TradeoffGrid]: its accuracy and one latency per metric, each with its
// uncertainty.
type GridModel struct {
	Name string
	// Group sets the marker and legend entry as in [Tradeoff].
	Group    string
	Accuracy Estimate
	// Latency holds one estimate per metric of the figure (a Value of 0 or
	// NaN: unknown, the model is left out of that panel).
	Latency []Estimate
}

// TradeoffGridData is the input of [TradeoffGrid].
type TradeoffGridData struct {
	// Name is the file stem (default "tradeoff_grid"); Title the figure's.
	Name, Title string
	// Metrics name the panels (e.g. each hardware target, then "AVG" and
	// "MAX"); every model has one latency per metric.
	Metrics []string
	// AccuracyLabel and LatencyLabel label the axes (defaults "accuracy (%)"
	// and "normalised latency (× reference)").
	AccuracyLabel, LatencyLabel string
	Models                      []GridModel
	// Cols is the number of panel columns (default 3).
	Cols int
	// NoLabels hides the model names next to the points.
	NoLabels bool
}

// TradeoffGrid draws accuracy against normalised latency, one panel per
// metric (each target of a multi-hardware metric, its AVG and MAX): error
// bars on both axes where the estimates have a spread, one marker style per
// group, the Pareto front of the central values (higher accuracy at lower
// latency) as a staircase, and a dotted line at latency 1 (the reference
// model). The front of the central values is what the eye reads; whether a
// model is resolved on or off it is a decision about the intervals, made by
// whoever supplies them.
func TradeoffGrid(d TradeoffGridData) (*Figure, error) {
	const what = "tradeoff grid figure"
	if err := d.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	cols := d.Cols
	if cols <= 0 {
		cols = 3
	}
	cols = min(cols, len(d.Metrics))
	accLabel, latLabel := d.AccuracyLabel, d.LatencyLabel
	if accLabel == "" {
		accLabel = "accuracy (%)"
	}
	if latLabel == "" {
		latLabel = "normalised latency (× reference)"
	}
	groups := distinct(d.Models, func(m GridModel) string { return m.Group })
	name := d.Name
	if name == "" {
		name = "tradeoff_grid"
	}
	f := &Figure{Name: name, Title: d.Title, Cols: cols, Rows: (len(d.Metrics) + cols - 1) / cols}
	for j, metric := range d.Metrics {
		p := newPanel(metric, latLabel, accLabel)
		p.add(&Series{Kind: KindVLine, Name: "reference model (latency 1)", Value: 1, Color: colorGrey, Width: 1, Dashed: true})
		var xs, ys, lo, hi []float64
		var names []string
		var grp []string
		var ex, ey []Estimate
		for _, m := range d.Models {
			l := m.Latency[j]
			if l.Value == 0 || math.IsNaN(l.Value) {
				continue
			}
			xs, ys, names, grp = append(xs, l.Value), append(ys, m.Accuracy.Value), append(names, m.Name), append(grp, m.Group)
			ex, ey = append(ex, l), append(ey, m.Accuracy)
			lo, hi = append(lo, orValue(l.Lo, l.Value), orValue(m.Accuracy.Lo, m.Accuracy.Value)), append(hi, orValue(l.Hi, l.Value), orValue(m.Accuracy.Hi, m.Accuracy.Value))
		}
		if len(xs) == 0 {
			return nil, fmt.Errorf("%s: no model has a %s latency", what, metric)
		}
		if s := frontSeries(xs, ys, nil, "", "Pareto front (central values)", colorInk); s != nil {
			p.add(s)
		}
		for gi, g := range groups {
			c, glyph := groupStyle(g, gi)
			var gx, gy []Estimate
			pts := &Series{Kind: KindPoints, Name: g, Color: c, Glyph: glyph, Radius: 4}
			if g == "" {
				pts.Name = "models"
			}
			for i := range xs {
				if grp[i] == g {
					gx, gy = append(gx, ex[i]), append(gy, ey[i])
					pts.X, pts.Y = append(pts.X, xs[i]), append(pts.Y, ys[i])
				}
			}
			if len(gx) == 0 {
				continue
			}
			eb := errorBarSeries(gx, gy, c)
			eb.Alpha = 0.8
			p.add(eb, pts)
		}
		if !d.NoLabels {
			p.add(&Series{Kind: KindLabels, X: xs, Y: ys, Labels: names})
		}
		// The range covers the intervals: lo/hi hold x bounds then y bounds per point.
		var bx, by []float64
		for i := range xs {
			bx = append(bx, lo[2*i], hi[2*i])
			by = append(by, lo[2*i+1], hi[2*i+1])
		}
		padRange(p, bx, by, 0.08, 0.1)
		f.Panels = append(f.Panels, p)
	}
	f.Width, f.Height = 430*f.Cols+220, 400*f.Rows+60
	return f, nil
}

// check reports the first invalid model: latencies not one per metric, an
// invalid accuracy or latency estimate.
func (d *TradeoffGridData) check() error {
	if len(d.Models) == 0 {
		return errors.New("no models")
	}
	if len(d.Metrics) == 0 {
		return errors.New("no metrics")
	}
	for i, m := range d.Models {
		if len(m.Latency) != len(d.Metrics) {
			return fmt.Errorf("model %d (%q) has %d latencies for %d metrics", i, m.Name, len(m.Latency), len(d.Metrics))
		}
		if err := m.Accuracy.check("accuracy"); err != nil {
			return fmt.Errorf("model %d (%q): %w", i, m.Name, err)
		}
		for j, l := range m.Latency {
			if l.Value == 0 || math.IsNaN(l.Value) {
				continue
			}
			if err := l.check(d.Metrics[j] + " latency"); err != nil {
				return fmt.Errorf("model %d (%q): %w", i, m.Name, err)
			}
			if l.Value < 0 {
				return fmt.Errorf("model %d (%q): %s latency %g must be > 0", i, m.Name, d.Metrics[j], l.Value)
			}
		}
	}
	return nil
}

func orValue(v, fallback float64) float64 {
	if math.IsNaN(v) {
		return fallback
	}
	return v
}

// SweepSeries is one line of a [Sweep] panel: Y against X, with optional
// error bars (YLo, YHi: absolute bounds, NaN for none).
type SweepSeries struct {
	Name string
	// Group picks the colour (default Name): series of one group (a mean
	// and its single seeds) share it, in every panel.
	Group    string
	X, Y     []float64
	YLo, YHi []float64
	// PointsOnly draws markers without joining them (e.g. single seeds).
	PointsOnly bool
	// Faint draws the series lighter (e.g. single seeds behind their mean).
	Faint bool
}

// SweepPanel is one panel of a [Sweep].
type SweepPanel struct {
	Title, XLabel, YLabel string
	Series                []SweepSeries
	// Diagonal draws y = x (e.g. achieved cost against the target cost).
	Diagonal bool
}

// SweepData is the input of [Sweep].
type SweepData struct {
	Name, Title string
	Panels      []SweepPanel
}

// Sweep draws how results change with a swept setting (the search's target
// cost T0, a proxy width, ...): one panel per quantity, each series a line
// through its points sorted by X, with error bars where given. A series name
// keeps its colour in every panel.
func Sweep(d SweepData) (*Figure, error) {
	const what = "sweep figure"
	if len(d.Panels) == 0 {
		return nil, errors.New(what + ": no panels")
	}
	colours := map[string]int{}
	name := d.Name
	if name == "" {
		name = "sweep"
	}
	f := &Figure{Name: name, Title: d.Title, Rows: 1, Cols: len(d.Panels)}
	for pi, sp := range d.Panels {
		p := newPanel(sp.Title, sp.XLabel, sp.YLabel)
		if len(sp.Series) == 0 {
			return nil, fmt.Errorf("%s: panel %d (%q) has no series", what, pi, sp.Title)
		}
		var allX, allY []float64
		for _, ss := range sp.Series {
			n := len(ss.X)
			if n == 0 || len(ss.Y) != n {
				return nil, fmt.Errorf("%s: panel %q, series %q: %d x values and %d y values (need the same, at least 1)", what, sp.Title, ss.Name, n, len(ss.Y))
			}
			if (ss.YLo != nil && len(ss.YLo) != n) || (ss.YHi != nil && len(ss.YHi) != n) {
				return nil, fmt.Errorf("%s: panel %q, series %q: error bounds do not match the %d points", what, sp.Title, ss.Name, n)
			}
			idx := make([]int, n)
			for i := range idx {
				idx[i] = i
			}
			sort.SliceStable(idx, func(a, b int) bool { return ss.X[idx[a]] < ss.X[idx[b]] })
			base := ss.Group
			if base == "" {
				base = ss.Name
			}
			if _, ok := colours[base]; !ok {
				colours[base] = len(colours)
			}
			c := seriesColor(colours[base] + 1)
			alpha := 0.0
			if ss.Faint {
				alpha = 0.45
			}
			var ex, ey []Estimate
			pts := &Series{Kind: KindPoints, Name: ss.Name, Color: c, Radius: 3.5, Alpha: alpha}
			if ss.Faint {
				pts.Glyph, pts.Radius = GlyphRing, 3
			}
			line := &Series{Kind: KindLine, Color: c, Alpha: alpha}
			for _, i := range idx {
				e := Estimate{Value: ss.Y[i], Lo: math.NaN(), Hi: math.NaN()}
				if ss.YLo != nil && ss.YHi != nil {
					e.Lo, e.Hi = ss.YLo[i], ss.YHi[i]
				}
				if err := e.check(fmt.Sprintf("panel %q, series %q, point %d", sp.Title, ss.Name, i)); err != nil {
					return nil, fmt.Errorf("%s: %w", what, err)
				}
				if math.IsNaN(ss.X[i]) || math.IsInf(ss.X[i], 0) {
					return nil, fmt.Errorf("%s: panel %q, series %q: x[%d] = %g is not finite", what, sp.Title, ss.Name, i, ss.X[i])
				}
				ex, ey = append(ex, Exact(ss.X[i])), append(ey, e)
				pts.X, pts.Y = append(pts.X, ss.X[i]), append(pts.Y, ss.Y[i])
				allX = append(allX, ss.X[i])
				allY = append(allY, orValue(e.Lo, e.Value), orValue(e.Hi, e.Value))
			}
			if !ss.PointsOnly && n > 1 {
				line.X, line.Y = pts.X, pts.Y
				p.add(line)
			}
			eb := errorBarSeries(ex, ey, c)
			eb.Alpha = alpha
			p.add(eb, pts)
		}
		if sp.Diagonal {
			p.add(&Series{Kind: KindDiagonal, Name: "y = x", Color: colorGrey, Width: 1, Dashed: true})
		}
		xmin, xmax := minMax(allX)
		ymin, ymax := minMax(allY)
		dx, dy := xmax-xmin, ymax-ymin
		if dx == 0 {
			dx = math.Max(math.Abs(xmax)*0.1, 0.1)
		}
		if dy == 0 {
			dy = math.Max(math.Abs(ymax)*0.05, 0.1)
		}
		p.XMin, p.XMax = xmin-0.08*dx, xmax+0.08*dx
		p.YMin, p.YMax = ymin-0.1*dy, ymax+0.1*dy
		if sp.Diagonal {
			lo, hi := math.Min(p.XMin, p.YMin), math.Max(p.XMax, p.YMax)
			p.XMin, p.XMax, p.YMin, p.YMax = lo, hi, lo, hi
		}
		f.Panels = append(f.Panels, p)
	}
	f.Width, f.Height = 440*f.Cols+200, 440
	return f, nil
}
