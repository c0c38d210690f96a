package plots

import (
	"fmt"
	"math"
)

// PointGroup is a set of points drawn alike in a [Scatter].
type PointGroup struct {
	// Name is the legend entry and picks the style: "reference" models are
	// grey squares, "searched" ones red circles, other groups take the extra
	// colours in order.
	Name string
	X, Y []float64
	// Labels, when set, are written next to the points (one per point).
	Labels []string
}

// ScatterData is the input of [Scatter].
type ScatterData struct {
	// Name is the file stem for WriteFiles (default "scatter").
	Name, Title    string
	XLabel, YLabel string
	Groups         []PointGroup
	XLog, YLog     bool
	// Diagonal draws y = x and gives both axes the same range.
	Diagonal bool
	// XRef and YRef, when > 0, draw dashed reference lines at x = XRef and
	// y = YRef (e.g. the reference model's normalised latency 1), named RefName.
	XRef, YRef float64
	RefName    string
}

// Scatter draws groups of points on one panel: for example the normalised
// latency of sampled architectures on one target against another, with the
// reference models labelled. Groups with thousands of points are drawn with
// small, translucent markers.
func Scatter(d ScatterData) (*Figure, error) {
	const what = "scatter figure"
	if len(d.Groups) == 0 {
		return nil, fmt.Errorf("%s: no point groups", what)
	}
	for _, r := range []float64{d.XRef, d.YRef} {
		if math.IsNaN(r) || math.IsInf(r, 0) || r < 0 {
			return nil, fmt.Errorf("%s: reference line at %g must be > 0 (or 0 for none)", what, r)
		}
	}
	p := newPanel("", d.XLabel, d.YLabel)
	p.XLog, p.YLog = d.XLog, d.YLog
	var all [2][]float64
	var labels []*Series
	for i, g := range d.Groups {
		if len(g.X) != len(g.Y) {
			return nil, fmt.Errorf("%s: group %q: %d x values but %d y values", what, g.Name, len(g.X), len(g.Y))
		}
		if len(g.X) == 0 {
			return nil, fmt.Errorf("%s: group %q has no points", what, g.Name)
		}
		if g.Labels != nil && len(g.Labels) != len(g.X) {
			return nil, fmt.Errorf("%s: group %q: %d labels for %d points", what, g.Name, len(g.Labels), len(g.X))
		}
		for axis, v := range [2][]float64{g.X, g.Y} {
			name := [2]string{"x", "y"}[axis]
			if err := finite(name, v); err != nil {
				return nil, fmt.Errorf("%s: group %q: %w", what, g.Name, err)
			}
			if [2]bool{d.XLog, d.YLog}[axis] {
				if err := positive(name+" (log axis)", v); err != nil {
					return nil, fmt.Errorf("%s: group %q: %w", what, g.Name, err)
				}
			}
			all[axis] = append(all[axis], v...)
		}
		c, glyph := groupStyle(g.Name, i)
		s := &Series{Kind: KindPoints, Name: g.Name, X: g.X, Y: g.Y, Color: c, Glyph: glyph}
		switch n := len(g.X); {
		case n > 1000:
			s.Radius, s.Alpha = 1.6, 0.45
		case n > 100:
			s.Radius, s.Alpha = 2.5, 0.7
		}
		p.add(s)
		if g.Labels != nil {
			labels = append(labels, &Series{Kind: KindLabels, X: g.X, Y: g.Y, Labels: g.Labels})
		}
	}
	refName := d.RefName
	if refName == "" {
		refName = "reference line"
	}
	if d.XRef > 0 {
		p.add(&Series{Kind: KindVLine, Name: refName, Value: d.XRef, Color: colorRefLine, Dashed: true, Width: 1})
	}
	if d.YRef > 0 {
		p.add(&Series{Kind: KindHLine, Name: refName, Value: d.YRef, Color: colorRefLine, Dashed: true, Width: 1})
	}
	if d.Diagonal {
		p.add(&Series{Kind: KindDiagonal, Name: "y = x", Color: colorRefLine, Width: 1})
		lo1, hi1 := minMax(all[0])
		lo2, hi2 := minMax(all[1])
		lo, hi := math.Min(lo1, lo2), math.Max(hi1, hi2)
		if d.XLog || d.YLog {
			lo, hi = lo/1.15, hi*1.15
		} else {
			pad := 0.05 * (hi - lo)
			lo, hi = lo-pad, hi+pad
		}
		if hi > lo {
			p.XMin, p.XMax, p.YMin, p.YMax = lo, hi, lo, hi
		}
	}
	p.add(labels...) // on top of every marker
	name := d.Name
	if name == "" {
		name = "scatter"
	}
	return &Figure{Name: name, Title: d.Title, Rows: 1, Cols: 1, Panels: []*Panel{p}, Width: 760, Height: 560}, nil
}
