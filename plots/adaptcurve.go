package plots

import "fmt"

// CurveSeries is one device's few-shot fit by training size (`multihw cost
// adapt --curve`).
type CurveSeries struct {
	Device string
	// Train are the training sizes (increasing); Spearman the test-set rank
	// correlation at each, with its interval over seeds.
	Train    []int
	Spearman []Estimate
	// MACs is the MACs baseline's Spearman on the same test sets (nil: not
	// drawn).
	MACs []float64
}

// AdaptCurveData is the input of [AdaptCurve].
type AdaptCurveData struct {
	Title  string
	Curves []CurveSeries
}

// AdaptCurve draws the test-set Spearman of a device's fitted latency model
// against the number of measured architectures it was fitted on (log axis),
// with the interval over seeds at each size, and the MACs baseline dashed in
// the same colour: how many measurements a new device needs.
func AdaptCurve(d AdaptCurveData) (*Figure, error) {
	const what = "adapt-curve figure"
	if len(d.Curves) == 0 {
		return nil, fmt.Errorf("%s: no devices", what)
	}
	names := make([]string, len(d.Curves))
	for i, c := range d.Curves {
		names[i] = c.Device
	}
	if err := uniqueNames("device", names); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	colors := targetColors(names)
	title := d.Title
	if title == "" {
		title = "A new device from a few measurements"
	}
	f := &Figure{Name: "adapt_curve", Title: title, Rows: 1, Cols: 1, Width: 760, Height: 520}
	p := newPanel("", "measured architectures fitted on", "test-set Spearman ρ")
	p.XLog = true
	for i, c := range d.Curves {
		if len(c.Train) == 0 || len(c.Spearman) != len(c.Train) || (c.MACs != nil && len(c.MACs) != len(c.Train)) {
			return nil, fmt.Errorf("%s: device %q: %d sizes, %d Spearman values, %d MACs values", what, c.Device, len(c.Train), len(c.Spearman), len(c.MACs))
		}
		x := make([]float64, len(c.Train))
		xs := make([]Estimate, len(c.Train))
		y := make([]float64, len(c.Train))
		for k, n := range c.Train {
			if n < 1 || (k > 0 && n <= c.Train[k-1]) {
				return nil, fmt.Errorf("%s: device %q: training sizes must be positive and increasing, got %v", what, c.Device, c.Train)
			}
			if err := c.Spearman[k].check(fmt.Sprintf("device %q at %d", c.Device, n)); err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			x[k], xs[k], y[k] = float64(n), Exact(float64(n)), c.Spearman[k].Value
		}
		p.add(errorBarSeries(xs, c.Spearman, colors[i]),
			&Series{Kind: KindLine, X: x, Y: y, Color: colors[i]},
			&Series{Kind: KindPoints, Name: c.Device, X: x, Y: y, Color: colors[i]})
		if c.MACs != nil {
			if err := finite("MACs Spearman", c.MACs); err != nil {
				return nil, fmt.Errorf("%s: device %q: %w", what, c.Device, err)
			}
			name := "MACs alone"
			if len(d.Curves) > 1 {
				name += ": " + c.Device
			}
			p.add(&Series{Kind: KindLine, Name: name, X: x, Y: c.MACs, Color: colors[i], Dashed: true, Width: 1})
		}
	}
	f.Panels = append(f.Panels, p)
	return f, nil
}
