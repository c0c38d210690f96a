package plots

import (
	"fmt"
	"math"
)

// Curve is one metric recorded during a search.
type Curve struct {
	// Name and Unit label the panel and its Y axis, e.g. "cost", "× target".
	Name, Unit string
	// Steps, when set, are this curve's own steps (e.g. accuracy evaluated
	// every 100 steps); otherwise the curve uses CurvesData.Steps.
	Steps []float64
	// Values may hold NaN for steps without a value.
	Values []float64
	// Target, when non-zero, draws a dashed horizontal line (e.g. the target
	// cost T0), named TargetName (default "target").
	Target     float64
	TargetName string
}

// CurvesData is the input of [Curves].
type CurvesData struct {
	Title  string
	Steps  []float64
	Curves []Curve
	// Smoothing is the EMA weight in [0, 1) of the smoothed line (see
	// [Smooth]); 0 draws the raw values only.
	Smoothing float64
	// StepLabel labels the X axes (default "search step").
	StepLabel string
}

// Curves draws search curves (reward, accuracy, cost, controller entropy, ...)
// one panel per curve, raw values faint and the EMA-smoothed values on top.
// Panels are stacked in one column up to two curves, in two columns beyond.
func Curves(d CurvesData) (*Figure, error) {
	const what = "curves figure"
	if len(d.Curves) == 0 {
		return nil, fmt.Errorf("%s: no curves", what)
	}
	if !(d.Smoothing >= 0 && d.Smoothing < 1) {
		return nil, fmt.Errorf("%s: smoothing weight %g must be in [0, 1)", what, d.Smoothing)
	}
	stepLabel := d.StepLabel
	if stepLabel == "" {
		stepLabel = "search step"
	}
	n := len(d.Curves)
	cols := 1
	if n > 2 {
		cols = 2
	}
	rows := (n + cols - 1) / cols
	f := &Figure{Name: "curves", Title: d.Title, Rows: rows, Cols: cols}
	if f.Title == "" {
		f.Title = "Search curves"
	}
	for ci, c := range d.Curves {
		steps := c.Steps
		if steps == nil {
			steps = d.Steps
		}
		if len(steps) != len(c.Values) {
			return nil, fmt.Errorf("%s: curve %q has %d values for %d steps", what, c.Name, len(c.Values), len(steps))
		}
		if err := finite("step", steps); err != nil {
			return nil, fmt.Errorf("%s: curve %q: %w", what, c.Name, err)
		}
		var xs, ys []float64
		for i, v := range c.Values {
			if math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s: curve %q: value[%d] is infinite", what, c.Name, i)
			}
			if !math.IsNaN(v) {
				xs, ys = append(xs, steps[i]), append(ys, v)
			}
		}
		if len(xs) == 0 {
			return nil, fmt.Errorf("%s: curve %q has no values", what, c.Name)
		}
		if math.IsNaN(c.Target) || math.IsInf(c.Target, 0) {
			return nil, fmt.Errorf("%s: curve %q: target %g is not a finite number", what, c.Name, c.Target)
		}
		ylabel := c.Name
		if c.Unit != "" {
			ylabel += " (" + c.Unit + ")"
		}
		xlabel := ""
		if ci >= n-cols { // bottom row only
			xlabel = stepLabel
		}
		p := newPanel(c.Name, xlabel, ylabel)
		col := seriesColor(ci)
		if d.Smoothing > 0 {
			p.add(&Series{Kind: KindLine, Name: "raw", X: xs, Y: ys, Color: col, Alpha: 0.3, Width: 1})
			sm, _ := Smooth(ys, d.Smoothing)
			p.add(&Series{Kind: KindLine, Name: fmt.Sprintf("EMA-smoothed (weight %g)", d.Smoothing), X: xs, Y: sm, Color: col, Width: 1.8})
		} else {
			p.add(&Series{Kind: KindLine, Name: "value", X: xs, Y: ys, Color: col, Width: 1.4})
		}
		if c.Target != 0 {
			name := c.TargetName
			if name == "" {
				name = "target"
			}
			p.add(&Series{Kind: KindHLine, Name: name, Value: c.Target, Color: colorRefLine, Dashed: true, Width: 1.1})
		}
		f.Panels = append(f.Panels, p)
	}
	f.Width = 200 + 420*cols
	f.Height = 90 + 230*rows
	return f, nil
}
