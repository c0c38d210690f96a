package plots

import (
	"fmt"
	"math"
)

// Decision is one categorical choice of the search controller with the
// probability of each option over time.
type Decision struct {
	Name    string
	Options []string
	// Probs[s][o] is the probability of option o at step s; each row sums to 1.
	Probs [][]float64
}

// ControllerData is the input of [ControllerProbs].
type ControllerData struct {
	Title     string
	Steps     []float64
	Decisions []Decision
	// StepLabel labels the X axes (default "search step").
	StepLabel string
	// MaxColumns bounds the heat-map columns (default 200): longer histories
	// are averaged over consecutive steps.
	MaxColumns int
}

// ControllerProbs draws how the controller's decisions converge: one small
// heat map per decision (options × steps, colour = probability on one shared
// 0–1 scale), in a grid of up to four columns. Columns are spread evenly
// between the first and the last step, so Steps should be evenly spaced.
func ControllerProbs(d ControllerData) (*Figure, error) {
	const what = "controller figure"
	if len(d.Decisions) == 0 {
		return nil, fmt.Errorf("%s: no decisions", what)
	}
	if len(d.Steps) == 0 {
		return nil, fmt.Errorf("%s: no steps", what)
	}
	if err := finite("step", d.Steps); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	for i := 1; i < len(d.Steps); i++ {
		if d.Steps[i] < d.Steps[i-1] {
			return nil, fmt.Errorf("%s: steps must not decrease (step[%d] = %g after %g)", what, i, d.Steps[i], d.Steps[i-1])
		}
	}
	maxCols := d.MaxColumns
	if maxCols <= 0 {
		maxCols = 200
	}
	stepLabel := d.StepLabel
	if stepLabel == "" {
		stepLabel = "search step"
	}
	for di, dec := range d.Decisions {
		if len(dec.Options) == 0 {
			return nil, fmt.Errorf("%s: decision %d (%q) has no options", what, di, dec.Name)
		}
		if len(dec.Probs) != len(d.Steps) {
			return nil, fmt.Errorf("%s: decision %q has %d probability rows for %d steps", what, dec.Name, len(dec.Probs), len(d.Steps))
		}
		for s, row := range dec.Probs {
			if len(row) != len(dec.Options) {
				return nil, fmt.Errorf("%s: decision %q, step %d: %d probabilities for %d options", what, dec.Name, s, len(row), len(dec.Options))
			}
			sum := 0.0
			for o, p := range row {
				if !(p >= -1e-6 && p <= 1+1e-6) {
					return nil, fmt.Errorf("%s: decision %q, step %d, option %q: probability %g outside [0, 1]", what, dec.Name, s, dec.Options[o], p)
				}
				sum += p
			}
			if math.Abs(sum-1) > 0.01 {
				return nil, fmt.Errorf("%s: decision %q, step %d: probabilities sum to %g, not 1", what, dec.Name, s, sum)
			}
		}
	}

	n := len(d.Decisions)
	cols := min(4, int(math.Ceil(math.Sqrt(float64(n)))))
	rows := (n + cols - 1) / cols
	x0, x1 := d.Steps[0], d.Steps[len(d.Steps)-1]
	if x1 <= x0 { // a single step (or all equal): one column one step wide
		x0, x1 = x0-0.5, x0+0.5
	}
	f := &Figure{Name: "controller", Title: d.Title, Rows: rows, Cols: cols,
		ColorScale: &ColorScale{Label: "probability", Min: 0, Max: 1}}
	if f.Title == "" {
		f.Title = "Controller decision probabilities"
	}
	maxOpts := 0
	for di, dec := range d.Decisions {
		maxOpts = max(maxOpts, len(dec.Options))
		z := binColumns(dec.Probs, maxCols)
		xlabel := ""
		if di >= n-cols {
			xlabel = stepLabel
		}
		p := newPanel(dec.Name, xlabel, "")
		p.NoGrid = true
		for o, name := range dec.Options {
			p.YTicks = append(p.YTicks, Tick{Value: float64(o), Label: name})
		}
		p.add(&Series{Kind: KindHeat, Heat: &Heat{Z: z, X0: x0, X1: x1, Min: 0, Max: 1}})
		p.XMin, p.XMax = x0, x1
		p.YMin, p.YMax = -0.5, float64(len(dec.Options))-0.5
		f.Panels = append(f.Panels, p)
	}
	f.Width = 150 + 270*cols
	f.Height = 70 + rows*(70+16*maxOpts)
	return f, nil
}

// binColumns transposes probs [step][option] to [option][column], averaging
// consecutive steps into at most maxCols columns.
func binColumns(probs [][]float64, maxCols int) [][]float64 {
	steps, opts := len(probs), len(probs[0])
	cols := min(steps, maxCols)
	z := make([][]float64, opts)
	for o := range z {
		z[o] = make([]float64, cols)
	}
	for c := range cols {
		lo, hi := c*steps/cols, (c+1)*steps/cols
		for o := range opts {
			sum := 0.0
			for s := lo; s < hi; s++ {
				sum += probs[s][o]
			}
			z[o][c] = sum / float64(hi-lo)
		}
	}
	return z
}
