package plots

import (
	"fmt"
	"math"
)

// BreakdownData is the input of [Breakdown].
type BreakdownData struct {
	Title   string
	Targets []string
	// Groups are the layer groups from input to output (e.g. "stem",
	// "stage 1", ..., "head"); they stack bottom to top.
	Groups []string
	// Latency[t][g] is the latency of group g on target t (>= 0).
	Latency [][]float64
	// Absolute stacks latencies in Unit instead of each target's shares (%).
	Absolute bool
	// Unit of Latency (default "ms").
	Unit string
}

// Breakdown draws where the time goes on each target: one bar per target,
// stacked by layer group from input (bottom) to output (top), with the
// target's total under its name.
//
// Why this layout rather than one bar group per layer with targets side by
// side: targets differ in absolute speed by up to an order of magnitude and a
// network has 5–20 layer groups, so side-by-side bars are either unreadable
// (80 thin bars) or dominated by the slowest target. One 100 % bar per target
// answers the question the figure is for — which part of the network costs
// the most on this target, and does that differ across targets — in a handful
// of bars, and the totals stay visible in the labels. Set Absolute when the
// targets have comparable totals and the absolute stack is wanted.
func Breakdown(d BreakdownData) (*Figure, error) {
	const what = "breakdown figure"
	if len(d.Targets) == 0 {
		return nil, fmt.Errorf("%s: no targets", what)
	}
	if len(d.Groups) == 0 {
		return nil, fmt.Errorf("%s: no layer groups", what)
	}
	if err := uniqueNames("target", d.Targets); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := uniqueNames("layer group", d.Groups); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if len(d.Latency) != len(d.Targets) {
		return nil, fmt.Errorf("%s: %d latency rows for %d targets", what, len(d.Latency), len(d.Targets))
	}
	unit := d.Unit
	if unit == "" {
		unit = "ms"
	}
	totals := make([]float64, len(d.Targets))
	for t, row := range d.Latency {
		if len(row) != len(d.Groups) {
			return nil, fmt.Errorf("%s: target %q has %d latencies for %d layer groups", what, d.Targets[t], len(row), len(d.Groups))
		}
		for g, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return nil, fmt.Errorf("%s: target %q, group %q: latency %g must be a finite number >= 0", what, d.Targets[t], d.Groups[g], v)
			}
			totals[t] += v
		}
		if totals[t] <= 0 && !d.Absolute {
			return nil, fmt.Errorf("%s: target %q has total latency 0: no shares to draw", what, d.Targets[t])
		}
	}

	ylabel := "share of the target's latency (%)"
	if d.Absolute {
		ylabel = "latency (" + unit + ")"
	}
	p := newPanel("", "", ylabel)
	colors := sequentialColors(len(d.Groups))
	series := make([]*Series, len(d.Groups))
	const width = 0.6
	for g, name := range d.Groups {
		series[g] = &Series{Kind: KindBars, Name: name, Color: colors[g], BarLabelsInside: true}
	}
	for t := range d.Targets {
		base := 0.0
		for g := range d.Groups {
			v := d.Latency[t][g]
			if !d.Absolute {
				v = 100 * v / totals[t]
			}
			b := Bar{X0: float64(t) - width/2, X1: float64(t) + width/2, Y0: base, Y1: base + v}
			if d.Absolute {
				b.Label = formatValue(v)
			} else {
				b.Label = fmt.Sprintf("%.0f%%", v)
			}
			series[g].Bars = append(series[g].Bars, b)
			base += v
		}
		p.XTicks = append(p.XTicks, Tick{Value: float64(t), Label: fmt.Sprintf("%s\n%s %s", d.Targets[t], formatValue(totals[t]), unit)})
	}
	// Legend top to bottom like the stack: add the last group first.
	for g := len(series) - 1; g >= 0; g-- {
		p.add(series[g])
	}
	p.XMin, p.XMax = -0.6, float64(len(d.Targets))-0.4
	p.YMin = 0
	if !d.Absolute {
		p.YMax = 100
	}
	f := &Figure{Name: "breakdown", Title: d.Title, Rows: 1, Cols: 1, Panels: []*Panel{p}}
	if f.Title == "" {
		f.Title = "Latency by layer group on each target"
	}
	f.Width = min(1800, max(560, 260+110*len(d.Targets)))
	f.Height = max(520, 200+22*len(d.Groups))
	return f, nil
}
