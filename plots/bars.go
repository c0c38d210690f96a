package plots

import (
	"fmt"
	"math"
	"strings"
)

// LatencyRow is one model's normalised latency on each target (NaN: not
// measured, no bar).
type LatencyRow struct {
	Name    string
	Latency []float64
	// Note is an optional second line under the name (e.g. "75.2%").
	Note string
}

// TargetBarsData is the input of [TargetBars].
type TargetBarsData struct {
	Title   string
	Targets []string
	Models  []LatencyRow
	// YLabel defaults to "normalised latency (× reference)".
	YLabel string
	// Reference is where the dashed reference line goes (default 1);
	// ReferenceName its legend entry (default "reference model").
	Reference     float64
	ReferenceName string
}

// TargetBars draws, for each model, its normalised latency on every target as
// a group of bars coloured by target ([TargetColor]), with a dashed line at
// the reference (1.0): who is fast where.
func TargetBars(d TargetBarsData) (*Figure, error) {
	groups := make([]barGroup, len(d.Models))
	for i, m := range d.Models {
		groups[i] = barGroup{label: m.Name, note: m.Note, values: m.Latency}
	}
	ref, refName := d.Reference, d.ReferenceName
	if ref == 0 {
		ref = 1
	}
	if refName == "" {
		refName = "reference model"
	}
	f, err := groupedBars("target latency figure", d.Targets, groups, []refValue{{ref, fmt.Sprintf("%s (%g)", refName, ref)}}, d.YLabel)
	if err != nil {
		return nil, err
	}
	f.Name, f.Title = "target_bars", d.Title
	if f.Title == "" {
		f.Title = "Normalised latency per target"
	}
	return f, nil
}

// Winner is the architecture an objective selected, with its accuracy and
// normalised latency on each target.
type Winner struct {
	// Objective names the search objective, e.g. "CPU only", "AVG", "MAX".
	Objective string
	// Arch optionally identifies the architecture (e.g. "#1462"); it is added
	// to the label when short.
	Arch     string
	Accuracy float64
	Latency  []float64
}

// DeviceComparisonData is the input of [DeviceComparison].
type DeviceComparisonData struct {
	Title   string
	Targets []string
	Winners []Winner
	// Budget draws a dashed line at the latency budget (0: none).
	Budget float64
	// AccuracyName prefixes the accuracy in the labels (default "acc").
	AccuracyName string
	// YLabel defaults to "normalised latency (× reference)".
	YLabel string
}

// DeviceComparison draws the NAS-Bench-201 real-device comparison: for each
// objective (single-target winners and the AVG / MAX winners) the winner's
// normalised latency on every target as grouped bars coloured by target, a
// dashed line at the budget, and accuracy, AVG and MAX in the group labels.
func DeviceComparison(d DeviceComparisonData) (*Figure, error) {
	if math.IsNaN(d.Budget) || math.IsInf(d.Budget, 0) || d.Budget < 0 {
		return nil, fmt.Errorf("device comparison figure: budget %g must be > 0 (or 0 for none)", d.Budget)
	}
	accName := d.AccuracyName
	if accName == "" {
		accName = "acc"
	}
	groups := make([]barGroup, len(d.Winners))
	for i, w := range d.Winners {
		if err := finite("accuracy", []float64{w.Accuracy}); err != nil {
			return nil, fmt.Errorf("device comparison figure: winner %d (%q): %w", i, w.Objective, err)
		}
		label := w.Objective
		if w.Arch != "" && len(w.Arch) <= 12 {
			label += " " + w.Arch
		}
		note := fmt.Sprintf("%s %.2f%%", accName, w.Accuracy)
		if avg, mx, ok := avgMax(w.Latency); ok {
			note += fmt.Sprintf("\nAVG %.2f  MAX %.2f", avg, mx)
		}
		groups[i] = barGroup{label: label, note: note, values: w.Latency}
	}
	var refs []refValue
	if d.Budget > 0 {
		refs = append(refs, refValue{d.Budget, fmt.Sprintf("budget (%g)", d.Budget)})
	}
	f, err := groupedBars("device comparison figure", d.Targets, groups, refs, d.YLabel)
	if err != nil {
		return nil, err
	}
	f.Name, f.Title = "device_comparison", d.Title
	if f.Title == "" {
		f.Title = "Winners of each objective, measured on every target"
	}
	return f, nil
}

// avgMax returns the mean and maximum of the finite values of v.
func avgMax(v []float64) (avg, mx float64, ok bool) {
	n := 0
	mx = math.Inf(-1)
	for _, x := range v {
		if !math.IsNaN(x) {
			avg += x
			mx = math.Max(mx, x)
			n++
		}
	}
	if n == 0 {
		return 0, 0, false
	}
	return avg / float64(n), mx, true
}

type barGroup struct {
	label, note string
	values      []float64
}

type refValue struct {
	value float64
	name  string
}

// groupedBars lays out groups of bars, one bar per target in each group,
// coloured by target; one bar series per target so the legend names targets.
func groupedBars(what string, targets []string, groups []barGroup, refs []refValue, ylabel string) (*Figure, error) {
	if len(targets) == 0 {
		return nil, fmt.Errorf("%s: no targets", what)
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("%s: no models", what)
	}
	if err := uniqueNames("target", targets); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	for gi, g := range groups {
		if len(g.values) != len(targets) {
			return nil, fmt.Errorf("%s: %q has %d latencies for %d targets", what, g.label, len(g.values), len(targets))
		}
		for t, v := range g.values {
			if math.IsInf(v, 0) || v < 0 {
				return nil, fmt.Errorf("%s: %q (group %d) on %s: latency %g must be >= 0 (NaN for missing)", what, g.label, gi, targets[t], v)
			}
		}
	}
	if ylabel == "" {
		ylabel = "normalised latency (× reference)"
	}
	p := newPanel("", "", ylabel)
	nb := len(groups) * len(targets)
	withValues := nb <= 48
	const groupWidth = 0.8
	w := groupWidth / float64(len(targets))
	colors := targetColors(targets)
	for t, name := range targets {
		s := &Series{Kind: KindBars, Name: name, Color: colors[t]}
		for gi, g := range groups {
			v := g.values[t]
			if math.IsNaN(v) {
				continue
			}
			x0 := float64(gi) - groupWidth/2 + float64(t)*w
			b := Bar{X0: x0, X1: x0 + w, Y0: 0, Y1: v}
			if withValues {
				b.Label = formatValue(v)
			}
			s.Bars = append(s.Bars, b)
		}
		p.add(s)
	}
	for _, r := range refs {
		p.add(&Series{Kind: KindHLine, Name: r.name, Value: r.value, Color: colorRefLine, Dashed: true, Width: 1.2})
	}
	longest := 0
	for gi, g := range groups {
		label := g.label
		if g.note != "" {
			label += "\n" + g.note
		}
		p.XTicks = append(p.XTicks, Tick{Value: float64(gi), Label: label})
		for _, line := range strings.Split(label, "\n") {
			longest = max(longest, len(line))
		}
	}
	p.XMin, p.XMax = -0.6, float64(len(groups))-0.4
	p.YMin = 0
	// Room per group: the bars, or the label, whichever is wider.
	perGroup := max(24*len(targets)+24, 7*longest+16)
	if len(groups) > 6 && longest > 16 {
		p.XTickAngle = 25
		perGroup = 24*len(targets) + 24
	}
	f := &Figure{Rows: 1, Cols: 1, Panels: []*Panel{p}}
	f.Width = min(2400, max(640, 170+len(groups)*perGroup))
	f.Height = 520
	return f, nil
}

// formatValue prints a bar value compactly: 2 decimals below 10, fewer above.
func formatValue(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func uniqueNames(what string, names []string) error {
	seen := map[string]bool{}
	for i, n := range names {
		if n == "" {
			return fmt.Errorf("%s %d has an empty name", what, i)
		}
		if seen[n] {
			return fmt.Errorf("%s %q appears twice", what, n)
		}
		seen[n] = true
	}
	return nil
}
