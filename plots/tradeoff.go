package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"
)

// Model is one architecture on the accuracy / latency plane.
type Model struct {
	Name string
	// Group sets the marker and legend entry: "searched" models are red
	// circles, "reference" models grey squares, other groups get their own.
	Group string
	// Accuracy is the quality metric, by default top-1 accuracy in percent.
	Accuracy float64
	// Avg and Max are the normalised latencies (1 = the reference model)
	// averaged and maximised over the targets; 0 means unknown.
	Avg, Max float64
	// AvgBand and MaxBand are their 5% and 95% quantiles under the cost
	// models' parameter uncertainty (hwcost.Sensitivity), drawn as horizontal
	// bars; zero: none.
	AvgBand, MaxBand [2]float64
}

// TradeoffData is the input of [Tradeoff].
type TradeoffData struct {
	Title  string
	Models []Model
	// AccuracyLabel is the accuracy axis label (default "top-1 accuracy (%)").
	AccuracyLabel string
	// FrontGroups lists the groups that get their own Pareto front; empty
	// draws one front over all models.
	FrontGroups []string
	// NoLabels hides the model names next to the points.
	NoLabels bool
}

// Tradeoff draws accuracy against normalised AVG latency and, when any model
// has one, normalised MAX latency, side by side: one marker style per group,
// the model names next to their points, the Pareto front (higher accuracy at
// lower latency) as a staircase, and a dotted line at latency 1 (the
// reference model).
func Tradeoff(d TradeoffData) (*Figure, error) {
	haveAvg, haveMax, err := d.check()
	if err != nil {
		return nil, err
	}
	accLabel := d.AccuracyLabel
	if accLabel == "" {
		accLabel = "top-1 accuracy (%)"
	}
	groups := distinct(d.Models, func(m Model) string { return m.Group })

	f := &Figure{Name: "tradeoff", Title: d.Title, Rows: 1}
	if f.Title == "" {
		f.Title = "Accuracy vs multi-hardware latency"
	}
	type metric struct {
		name, label string
		get         func(Model) float64
		band        func(Model) [2]float64
	}
	var metrics []metric
	if haveAvg {
		metrics = append(metrics, metric{"AVG", "normalised latency, AVG over targets (× reference)",
			func(m Model) float64 { return m.Avg }, func(m Model) [2]float64 { return m.AvgBand }})
	}
	if haveMax {
		metrics = append(metrics, metric{"MAX", "normalised latency, MAX over targets (× reference)",
			func(m Model) float64 { return m.Max }, func(m Model) [2]float64 { return m.MaxBand }})
	}
	for _, mt := range metrics {
		p := newPanel(mt.name+" latency", mt.label, accLabel)
		var xs, ys []float64
		var names []string
		var grp []string
		for _, m := range d.Models {
			if x := mt.get(m); x > 0 {
				xs, ys, names, grp = append(xs, x), append(ys, m.Accuracy), append(names, m.Name), append(grp, m.Group)
			}
		}
		p.add(&Series{Kind: KindVLine, Name: "reference model (latency 1)", Value: 1, Color: colorGrey, Width: 1, Dashed: true})
		// Pareto fronts below the markers.
		if len(d.FrontGroups) == 0 {
			if s := frontSeries(xs, ys, nil, "", "Pareto front", colorInk); s != nil {
				p.add(s)
			}
		} else {
			for _, g := range d.FrontGroups {
				c, _ := groupStyle(g, indexOf(groups, g))
				if s := frontSeries(xs, ys, grp, g, "Pareto front ("+g+")", c); s != nil {
					p.add(s)
				}
			}
		}
		// Uncertainty bands under the markers.
		for _, m := range d.Models {
			if b := mt.band(m); mt.get(m) > 0 && b[1] > b[0] && b[0] > 0 {
				c, _ := groupStyle(m.Group, indexOf(groups, m.Group))
				p.add(&Series{Kind: KindLine, Color: c, Width: 1, X: []float64{b[0], b[1]}, Y: []float64{m.Accuracy, m.Accuracy}})
			}
		}
		for gi, g := range groups {
			c, glyph := groupStyle(g, gi)
			s := &Series{Kind: KindPoints, Name: g, Color: c, Glyph: glyph, Radius: 4}
			if g == "" {
				s.Name = "models"
			}
			for i := range xs {
				if grp[i] == g {
					s.X, s.Y = append(s.X, xs[i]), append(s.Y, ys[i])
				}
			}
			p.add(s)
		}
		if !d.NoLabels {
			p.add(&Series{Kind: KindLabels, X: xs, Y: ys, Labels: names})
		}
		padRange(p, xs, ys, 0.08, 0.1)
		f.Panels = append(f.Panels, p)
	}
	f.Cols = len(f.Panels)
	f.Width, f.Height = 480*f.Cols+200, 560
	return f, nil
}

// check validates d and reports whether any model has an AVG and a MAX
// latency.
func (d *TradeoffData) check() (haveAvg, haveMax bool, err error) {
	if len(d.Models) == 0 {
		return false, false, errors.New("tradeoff figure: no models")
	}
	for i, m := range d.Models {
		if err := finite("accuracy", []float64{m.Accuracy}); err != nil {
			return false, false, fmt.Errorf("tradeoff figure: model %d (%q): %w", i, m.Name, err)
		}
		for _, v := range []struct {
			what string
			x    float64
		}{{"AVG latency", m.Avg}, {"MAX latency", m.Max}, {"AVG band", m.AvgBand[0]}, {"AVG band", m.AvgBand[1]},
			{"MAX band", m.MaxBand[0]}, {"MAX band", m.MaxBand[1]}} {
			if math.IsNaN(v.x) || math.IsInf(v.x, 0) || v.x < 0 {
				return false, false, fmt.Errorf("tradeoff figure: model %d (%q): %s %g must be > 0 (or 0 for unknown)", i, m.Name, v.what, v.x)
			}
		}
		haveAvg = haveAvg || m.Avg > 0
		haveMax = haveMax || m.Max > 0
	}
	if !haveAvg && !haveMax {
		return false, false, errors.New("tradeoff figure: no model has a normalised AVG or MAX latency")
	}
	for _, g := range d.FrontGroups {
		found := false
		for _, m := range d.Models {
			found = found || m.Group == g
		}
		if !found {
			return false, false, fmt.Errorf("tradeoff figure: front group %q has no models", g)
		}
	}
	return haveAvg, haveMax, nil
}

// frontSeries returns the Pareto front of the points of group g (all points
// when grp is nil) as a staircase, or nil with fewer than two front points.
func frontSeries(xs, ys []float64, grp []string, g, name string, c color.Color) *Series {
	var fx, fy []float64
	for i := range xs {
		if grp == nil || grp[i] == g {
			fx, fy = append(fx, xs[i]), append(fy, ys[i])
		}
	}
	idx, _ := ParetoFront(fx, fy)
	if len(idx) < 2 {
		return nil
	}
	s := &Series{Kind: KindLine, Name: name, Color: c, Step: true, Width: 1.2, Dashed: true}
	for _, i := range idx {
		s.X, s.Y = append(s.X, fx[i]), append(s.Y, fy[i])
	}
	return s
}

// padRange fixes a panel's range to the data plus a fraction of its span on
// each side (room for labels), including x = 1 when close.
func padRange(p *Panel, xs, ys []float64, fx, fy float64) {
	xmin, xmax := minMax(xs)
	ymin, ymax := minMax(ys)
	xmin, xmax = math.Min(xmin, 1), math.Max(xmax, 1)
	dx, dy := xmax-xmin, ymax-ymin
	if dx == 0 {
		dx = math.Max(math.Abs(xmax)*0.1, 0.1)
	}
	if dy == 0 {
		dy = math.Max(math.Abs(ymax)*0.02, 0.5)
	}
	p.XMin, p.XMax = xmin-fx*dx, xmax+fx*dx
	p.YMin, p.YMax = ymin-fy*dy, ymax+fy*dy
}

func minMax(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		if !math.IsNaN(x) {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	return lo, hi
}

// distinct returns the keys of items, each once, in order of first appearance
// (the legend's order of groups).
func distinct[T any](items []T, key func(T) string) []string {
	var keys []string
	seen := map[string]bool{}
	for _, it := range items {
		if k := key(it); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
