package plots

import (
	"fmt"
	"math"

	"github.com/multihw/multihw/internal/stats"
)

// FitSeries is a cost model's predictions against measurements on one target.
type FitSeries struct {
	Target              string
	Predicted, Measured []float64
	// Names optionally labels the points (drawn when there are at most
	// CostFitData.MaxLabels of them).
	Names []string
}

// CostFitData is the input of [CostFit].
type CostFitData struct {
	Title string
	Fits  []FitSeries
	// Unit of the latencies (default "ms").
	Unit string
	// MaxLabels is the most points a panel labels by name (default 15).
	MaxLabels int
}

// CostFit draws predicted against measured latency, one log-log panel per
// target, with the line y = x and, in each panel title, the Spearman rank
// correlation ([stats.Spearman]) and the median relative error |pred/meas − 1|.
func CostFit(d CostFitData) (*Figure, error) {
	const what = "cost-fit figure"
	if len(d.Fits) == 0 {
		return nil, fmt.Errorf("%s: no targets", what)
	}
	unit := d.Unit
	if unit == "" {
		unit = "ms"
	}
	maxLabels := d.MaxLabels
	if maxLabels == 0 {
		maxLabels = 15
	}
	targets := make([]string, len(d.Fits))
	for i, fs := range d.Fits {
		targets[i] = fs.Target
	}
	if err := uniqueNames("target", targets); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	colors := targetColors(targets)
	n := len(d.Fits)
	cols := n
	switch {
	case n == 4:
		cols = 2
	case n > 3:
		cols = 3
	}
	rows := (n + cols - 1) / cols
	f := &Figure{Name: "cost_fit", Title: d.Title, Rows: rows, Cols: cols}
	if f.Title == "" {
		f.Title = "Cost model: predicted vs measured latency"
	}
	for i, fs := range d.Fits {
		if len(fs.Predicted) != len(fs.Measured) {
			return nil, fmt.Errorf("%s: target %q: %d predictions for %d measurements", what, fs.Target, len(fs.Predicted), len(fs.Measured))
		}
		if len(fs.Measured) < 2 {
			return nil, fmt.Errorf("%s: target %q: need at least 2 points, got %d", what, fs.Target, len(fs.Measured))
		}
		if fs.Names != nil && len(fs.Names) != len(fs.Measured) {
			return nil, fmt.Errorf("%s: target %q: %d names for %d points", what, fs.Target, len(fs.Names), len(fs.Measured))
		}
		if err := positive("predicted", fs.Predicted); err != nil {
			return nil, fmt.Errorf("%s: target %q: %w (log axes)", what, fs.Target, err)
		}
		if err := positive("measured", fs.Measured); err != nil {
			return nil, fmt.Errorf("%s: target %q: %w (log axes)", what, fs.Target, err)
		}
		if err := finite("predicted", fs.Predicted); err != nil {
			return nil, fmt.Errorf("%s: target %q: %w", what, fs.Target, err)
		}
		if err := finite("measured", fs.Measured); err != nil {
			return nil, fmt.Errorf("%s: target %q: %w", what, fs.Target, err)
		}
		rho := stats.Spearman(fs.Measured, fs.Predicted)
		medErr := stats.MedianAbsRatioError(fs.Predicted, fs.Measured)
		rhoText := "n/a"
		if !math.IsNaN(rho) {
			rhoText = fmt.Sprintf("%.3f", rho)
		}
		title := fmt.Sprintf("%s (n = %d)\nSpearman ρ = %s, median error %.0f%%", fs.Target, len(fs.Measured), rhoText, 100*medErr)
		p := newPanel(title, "measured latency ("+unit+")", "predicted latency ("+unit+")")
		p.XLog, p.YLog = true, true
		pts := &Series{Kind: KindPoints, Name: fs.Target, X: fs.Measured, Y: fs.Predicted, Color: colors[i]}
		switch m := len(fs.Measured); {
		case m > 1000:
			pts.Radius, pts.Alpha, pts.Glyph = 1.6, 0.5, GlyphCircle
		case m > 100:
			pts.Radius, pts.Alpha = 2.5, 0.7
		}
		p.add(pts)
		// On top of the points: with thousands of them it would be hidden.
		p.add(&Series{Kind: KindDiagonal, Name: "y = x", Color: colorRefLine, Dashed: true, Width: 1})
		if fs.Names != nil && len(fs.Names) <= maxLabels {
			p.add(&Series{Kind: KindLabels, X: fs.Measured, Y: fs.Predicted, Labels: fs.Names})
		}
		// The same range on both axes, so y = x is the diagonal.
		lo1, hi1 := minMax(fs.Measured)
		lo2, hi2 := minMax(fs.Predicted)
		lo, hi := math.Min(lo1, lo2)/1.2, math.Max(hi1, hi2)*1.2
		p.XMin, p.XMax, p.YMin, p.YMax = lo, hi, lo, hi
		f.Panels = append(f.Panels, p)
	}
	f.Width = 180 + 400*cols
	f.Height = 110 + 400*rows
	return f, nil
}
