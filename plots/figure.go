package plots

import (
	"fmt"
	"image/color"
	"math"
)

// Figure is a chart described as data: a grid of panels, each holding series,
// plus an optional colour scale. It is rendered on demand ([Figure.PNG],
// [Figure.SVG], [Figure.Display]); rendering does not modify it, so one figure
// can be rendered many times and from several goroutines.
type Figure struct {
	// Name is the file stem used by [WriteFiles] (letters, digits, '-', '_', '.').
	Name string
	// Title is drawn above all panels (empty: none).
	Title string
	// Rows and Cols shape the panel grid; Panels fill it row by row.
	Rows, Cols int
	Panels     []*Panel
	// ColorScale, when set, draws a colour bar in the right margin (heat maps).
	ColorScale *ColorScale
	// Width and Height are the default size in pixels (used by Display and as
	// the size at which text has its nominal point size: 96 dpi).
	Width, Height int
}

// Panel is one set of axes.
type Panel struct {
	Title          string
	XLabel, YLabel string
	// XLog and YLog select logarithmic axes; all data on them must be > 0.
	XLog, YLog bool
	// XTicks and YTicks, when non-nil, replace automatic ticks (categories).
	XTicks, YTicks []Tick
	// XTickAngle rotates the X tick labels (degrees, counter-clockwise).
	XTickAngle float64
	// XMin, XMax, YMin, YMax fix the axis range; NaN leaves it automatic.
	XMin, XMax, YMin, YMax float64
	// NoGrid removes the grid lines.
	NoGrid bool
	Series []*Series
}

// Tick is a labelled position on an axis.
type Tick struct {
	Value float64
	Label string
}

// Kind is the type of a series.
type Kind string

// Series kinds.
const (
	// KindPoints is a scatter of (X[i], Y[i]).
	KindPoints Kind = "points"
	// KindLine joins (X[i], Y[i]) in order (as a staircase if Step is set).
	KindLine Kind = "line"
	// KindBars is a set of rectangles (Bars).
	KindBars Kind = "bars"
	// KindHLine is a horizontal line across the panel at Value.
	KindHLine Kind = "hline"
	// KindVLine is a vertical line across the panel at Value.
	KindVLine Kind = "vline"
	// KindLabels writes Labels[i] next to (X[i], Y[i]), placed to avoid overlaps.
	KindLabels Kind = "labels"
	// KindHeat is a heat map (Heat).
	KindHeat Kind = "heat"
	// KindDiagonal is the line y = x across the panel.
	KindDiagonal Kind = "diagonal"
	// KindErrorBars draws, for each point (X[i], Y[i]), a horizontal bar
	// from XLo[i] to XHi[i] and a vertical one from YLo[i] to YHi[i] (NaN
	// bounds, or nil slices: no bar on that axis). Markers are a separate
	// points series.
	KindErrorBars Kind = "errorbars"
)

// Glyph is the marker shape of a points series.
type Glyph int

// Marker shapes.
const (
	GlyphCircle Glyph = iota
	GlyphSquare
	GlyphTriangle
	GlyphDiamond
	GlyphRing
)

// Series is one element of a panel. Which fields matter depends on Kind.
type Series struct {
	Kind Kind
	// Name is the legend entry; empty keeps the series out of the legend.
	// Series of different panels with the same name share one legend entry.
	Name  string
	Color color.Color
	// X and Y: points, line, labels.
	X, Y []float64
	// Labels: labels (one per point); bars: Bar.Label instead.
	Labels []string
	// Value: hline and vline.
	Value float64
	// Bars: bars.
	Bars []Bar
	// BarLabelsInside writes bar labels centred inside the bars (stacked bars)
	// instead of above them.
	BarLabelsInside bool
	// Heat: heat.
	Heat *Heat
	// XLo, XHi, YLo, YHi: error bars (absolute bounds, one per point).
	XLo, XHi, YLo, YHi []float64
	// Dashed draws lines dashed; Width is the line width in points (0: 1.5).
	Dashed bool
	Width  float64
	// Step draws a line as a staircase: horizontal first, then vertical.
	Step bool
	// Glyph and Radius (points, 0: 3.5) style markers.
	Glyph  Glyph
	Radius float64
	// Alpha in (0, 1] fades the series (0: opaque).
	Alpha float64
}

// Bar is a filled rectangle in data coordinates, with an optional text label.
type Bar struct {
	X0, X1, Y0, Y1 float64
	Label          string
}

// Heat is a grid of values drawn as coloured cells: Z[r][c] is the value at
// row r (Y from 0 at the bottom) and column c (X from X0 to X1, evenly split).
type Heat struct {
	Z        [][]float64
	X0, X1   float64
	Min, Max float64
}

// ColorScale describes the colour bar of heat maps.
type ColorScale struct {
	Label    string
	Min, Max float64
}

// Len returns the number of data elements of the series: points, bars, or
// heat-map cells; 1 for reference lines.
func (s *Series) Len() int {
	switch s.Kind {
	case KindBars:
		return len(s.Bars)
	case KindHeat:
		if s.Heat == nil || len(s.Heat.Z) == 0 {
			return 0
		}
		return len(s.Heat.Z) * len(s.Heat.Z[0])
	case KindHLine, KindVLine, KindDiagonal:
		return 1
	}
	return len(s.X)
}

// SeriesOf returns the panel's series of the given kind.
func (p *Panel) SeriesOf(k Kind) []*Series {
	var out []*Series
	for _, s := range p.Series {
		if s.Kind == k {
			out = append(out, s)
		}
	}
	return out
}

// NumBars returns the number of bars over all bar series of the panel.
func (p *Panel) NumBars() int {
	n := 0
	for _, s := range p.SeriesOf(KindBars) {
		n += len(s.Bars)
	}
	return n
}

// LegendEntries returns the names shown in the legend, in order: the named
// series of all panels, each name once.
func (f *Figure) LegendEntries() []string {
	var names []string
	for _, s := range f.legendSeries() {
		names = append(names, s.Name)
	}
	return names
}

func (f *Figure) legendSeries() []*Series {
	seen := map[string]bool{}
	var out []*Series
	for _, p := range f.Panels {
		if p == nil {
			continue
		}
		for _, s := range p.Series {
			if s.Name == "" || seen[s.Name] {
				continue
			}
			seen[s.Name] = true
			out = append(out, s)
		}
	}
	return out
}

// WithTitle sets the figure title and returns the figure.
func (f *Figure) WithTitle(title string) *Figure { f.Title = title; return f }

// WithName sets the file stem used by [WriteFiles] and returns the figure.
func (f *Figure) WithName(name string) *Figure { f.Name = name; return f }

// WithSize sets the default pixel size and returns the figure.
func (f *Figure) WithSize(width, height int) *Figure {
	f.Width, f.Height = width, height
	return f
}

// newPanel returns a panel with automatic axis ranges.
func newPanel(title, xlabel, ylabel string) *Panel {
	nan := math.NaN()
	return &Panel{Title: title, XLabel: xlabel, YLabel: ylabel, XMin: nan, XMax: nan, YMin: nan, YMax: nan}
}

func (p *Panel) add(s ...*Series) { p.Series = append(p.Series, s...) }

// check verifies what rendering relies on; constructors validate their own
// input with more specific messages before building a figure.
func (f *Figure) check() error {
	if f.Rows <= 0 || f.Cols <= 0 {
		return fmt.Errorf("figure %q: grid %dx%d must have at least one row and column", f.Name, f.Rows, f.Cols)
	}
	if len(f.Panels) == 0 || len(f.Panels) > f.Rows*f.Cols {
		return fmt.Errorf("figure %q: %d panels do not fit a %dx%d grid", f.Name, len(f.Panels), f.Rows, f.Cols)
	}
	for i, p := range f.Panels {
		if p == nil {
			continue
		}
		for j, s := range p.Series {
			if err := s.check(p); err != nil {
				return fmt.Errorf("figure %q, panel %d (%q), series %d (%q): %w", f.Name, i, p.Title, j, s.Name, err)
			}
		}
	}
	return nil
}

func (s *Series) check(p *Panel) error {
	switch s.Kind {
	case KindPoints, KindLine, KindLabels:
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("%d x values but %d y values", len(s.X), len(s.Y))
		}
		if s.Kind == KindLabels && len(s.Labels) != len(s.X) {
			return fmt.Errorf("%d labels for %d points", len(s.Labels), len(s.X))
		}
		if err := finite("x", s.X); err != nil {
			return err
		}
		if err := finite("y", s.Y); err != nil {
			return err
		}
		if p.XLog {
			if err := positive("x (log axis)", s.X); err != nil {
				return err
			}
		}
		if p.YLog {
			if err := positive("y (log axis)", s.Y); err != nil {
				return err
			}
		}
	case KindBars:
		for i, b := range s.Bars {
			if err := finite(fmt.Sprintf("bar %d", i), []float64{b.X0, b.X1, b.Y0, b.Y1}); err != nil {
				return err
			}
			if p.YLog && (b.Y0 <= 0 || b.Y1 <= 0) {
				return fmt.Errorf("bar %d spans %g..%g: must be > 0 on a log axis", i, b.Y0, b.Y1)
			}
		}
	case KindHLine, KindVLine:
		if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
			return fmt.Errorf("reference line at %g", s.Value)
		}
		if (s.Kind == KindHLine && p.YLog || s.Kind == KindVLine && p.XLog) && s.Value <= 0 {
			return fmt.Errorf("reference line at %g: must be > 0 on a log axis", s.Value)
		}
	case KindHeat:
		h := s.Heat
		if h == nil || len(h.Z) == 0 || len(h.Z[0]) == 0 {
			return fmt.Errorf("empty heat map")
		}
		for r, row := range h.Z {
			if len(row) != len(h.Z[0]) {
				return fmt.Errorf("heat map row %d has %d columns, row 0 has %d", r, len(row), len(h.Z[0]))
			}
		}
		if !(h.X1 > h.X0) || !(h.Max > h.Min) {
			return fmt.Errorf("heat map needs X0 < X1 and Min < Max, got X %g..%g, values %g..%g", h.X0, h.X1, h.Min, h.Max)
		}
	case KindErrorBars:
		if err := s.checkErrorBars(p); err != nil {
			return err
		}
	case KindDiagonal:
	default:
		return fmt.Errorf("unknown series kind %q", s.Kind)
	}
	if s.Alpha < 0 || s.Alpha > 1 {
		return fmt.Errorf("alpha %g outside [0, 1]", s.Alpha)
	}
	return nil
}

// finite returns an error naming the first NaN or infinite value of v.
func finite(what string, v []float64) error {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%s[%d] = %g is not a finite number", what, i, x)
		}
	}
	return nil
}

// positive returns an error naming the first value of v that is not > 0.
func positive(what string, v []float64) error {
	for i, x := range v {
		if !(x > 0) {
			return fmt.Errorf("%s[%d] = %g must be > 0", what, i, x)
		}
	}
	return nil
}
