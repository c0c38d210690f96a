package hwcost

import (
	"fmt"
	"strings"

	"github.com/multihw/multihw/report"
)

// Table is one architecture's result per target: latency, the reference's
// latency, the normalised latency and the target's weight.
func (r *Result) Table() *report.Table {
	tb := report.NewTable("target", "latency (ms)", "reference (ms)", "normalised", "weight").RightFrom(0)
	for _, t := range r.Targets {
		tb.Row(t, fmt.Sprintf("%.3f", r.LatencyMs[t]), fmt.Sprintf("%.3f", r.ReferenceMs[t]), fmt.Sprintf("%.3f", r.Normalized[t]),
			fmt.Sprintf("%.3f", r.Weights[t]))
	}
	return tb
}

// BreakdownTable has one row per layer and one column per target (the
// layer's latency in ms, "m" when memory-bound), then the fixed overhead, the
// weight streaming and the total.
func BreakdownTable(bds []Breakdown) *report.Table {
	header := []string{"layer", "op"}
	for _, bd := range bds {
		header = append(header, bd.Target+" (ms)")
	}
	tb := report.NewTable(header...).RightFrom(0)
	if len(bds) == 0 {
		return tb
	}
	for i, l := range bds[0].Layers {
		row := []string{l.Name, string(l.Op)}
		for _, bd := range bds {
			mark := ""
			if bd.Layers[i].Bound == MemoryBound {
				mark = "m"
			}
			row = append(row, fmt.Sprintf("%.4f%s", bd.Layers[i].Ms, mark))
		}
		tb.Row(row...)
	}
	for _, total := range []struct {
		name string
		get  func(Breakdown) float64
	}{{"fixed overhead", func(b Breakdown) float64 { return b.FixedMs }},
		{"weight streaming", func(b Breakdown) float64 { return b.SpillMs }},
		{"total", func(b Breakdown) float64 { return b.TotalMs }}} {
		row := []string{total.name, ""}
		for _, bd := range bds {
			row = append(row, fmt.Sprintf("%.4f", total.get(bd)))
		}
		tb.Row(row...)
	}
	return tb
}

// Band formats a spread as "fitted [5%, 95%]" with the given decimals.
func (s Spread) Band(decimals int) string {
	return fmt.Sprintf("%.*f [%.*f, %.*f]", decimals, s.Fitted, decimals, s.P05, decimals, s.P95)
}

// SpreadTable has one row per architecture: the normalised latency on each
// target, AVG and MAX, each as "fitted [5%, 95%]".
func (r *SensitivityResult) SpreadTable() *report.Table {
	tb := report.NewTable(append(append([]string{"architecture"}, r.Targets...), "AVG", "MAX")...)
	for _, a := range r.Archs {
		row := []string{a.Name}
		for _, t := range r.Targets {
			row = append(row, a.Normalized[t].Band(3))
		}
		tb.Row(append(row, a.Avg.Band(3), a.Max.Band(3))...)
	}
	return tb
}

// OrderingTable has one row per pair of architectures: the probability over
// the draws that A has the lower AVG and the lower MAX than B.
func (r *SensitivityResult) OrderingTable() *report.Table {
	tb := report.NewTable("A", "B", "AVG", "MAX")
	byPair := map[[2]string]map[string]float64{}
	var order [][2]string
	for _, o := range r.Orderings {
		k := [2]string{o.A, o.B}
		if byPair[k] == nil {
			byPair[k] = map[string]float64{}
			order = append(order, k)
		}
		byPair[k][o.Metric] = o.P
	}
	for _, k := range order {
		tb.Row(k[0], k[1], fmt.Sprintf("%.3f", byPair[k]["avg"]), fmt.Sprintf("%.3f", byPair[k]["max"]))
	}
	return tb
}

// OrderingMatrix is the pairwise ordering as a matrix: the cell of row A and
// column B is "P(AVG of A < AVG of B) / P(MAX of A < MAX of B)".
func (r *SensitivityResult) OrderingMatrix() *report.Table {
	header := []string{""}
	for _, a := range r.Archs {
		header = append(header, a.Name)
	}
	tb := report.NewTable(header...)
	prob := map[[3]string]float64{}
	for _, o := range r.Orderings {
		prob[[3]string{o.A, o.B, o.Metric}] = o.P
		prob[[3]string{o.B, o.A, o.Metric}] = 1 - o.P
	}
	for _, a := range r.Archs {
		row := []string{a.Name}
		for _, b := range r.Archs {
			if a.Name == b.Name {
				row = append(row, "")
				continue
			}
			row = append(row, fmt.Sprintf("%.2f / %.2f", prob[[3]string{a.Name, b.Name, "avg"}], prob[[3]string{a.Name, b.Name, "max"}]))
		}
		tb.Row(row...)
	}
	return tb
}

// Summary describes the draws: the spread of each architecture's normalised
// latencies, AVG and MAX, the ordering probabilities, and the targets drawn
// from their priors or held fixed.
func (r *SensitivityResult) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d parameter draws (seed %d) from the fits' posteriors; normalised to %s. Fitted value [5%%, 95%%]:\n\n%s",
		r.Draws, r.Seed, r.Reference, r.SpreadTable().Text())
	if len(r.Orderings) > 0 {
		fmt.Fprintf(&b, "\nP(A below B) over the draws:\n%s", r.OrderingTable().Text())
	}
	for _, n := range r.Priors {
		fmt.Fprintf(&b, "%s has no fitted posterior: drawn from its prior widths\n", n)
	}
	for _, n := range r.Fixed {
		fmt.Fprintf(&b, "%s is not an analytic target: held fixed\n", n)
	}
	for _, cv := range r.Caveats {
		fmt.Fprintf(&b, "caveat: %s\n", cv)
	}
	return b.String()
}

// Summary describes the adapted target: the data, the training and test
// sizes, the test figures next to the MACs baseline, the prior, and on a
// second line the parameters the measurements left prior-bound.
func (r *AdaptResult) Summary() string {
	s := fmt.Sprintf("%s of %s: fitted on %d, tested on %d: spearman %.4f  mape %.4g  within10 %.3f  (MACs spearman %.4f); started from %s, runtime mode %s\n",
		r.Device, r.Data, r.NTrain, r.NTest, r.Spearman, r.MAPE, r.Within10, r.MACsSpearman, r.Prior, modeName(r.Params))
	if len(r.PriorBound) > 0 {
		s += fmt.Sprintf("prior-bound (the %d measurements leave the prior's spread; the values are %s's, scaled): %s\n",
			r.NTrain, r.Prior, strings.Join(r.PriorBound, ", "))
	}
	return s
}

// ParamsLabel names the parameter set LoadParams(path) returns, for a
// reader: the fitted defaults, the priors, or the file.
func ParamsLabel(path string) string {
	switch path {
	case "", "default":
		return "fitted (embedded params.json)"
	case "prior":
		return "priors"
	}
	return path
}

// Costing is an architecture's cost (the Result) with the parameter set it
// was computed with (ParamsLabel) and, when asked for, its per-layer
// breakdown on every target.
type Costing struct {
	*Result
	Params string      `json:"params"`
	Layers []Breakdown `json:"layers,omitempty"`
	// PriorBound is Metric.PriorBound: for targets read from target files,
	// how far each parameter their data did not decide moves the
	// normalised latency.
	PriorBound []PriorBoundEffect `json:"prior_bound,omitempty"`
	// Caveats is Metric.Caveats: targets whose model ranks its published
	// rows worse than plain MACs held out.
	Caveats []string `json:"caveats,omitempty"`
}

// Summary describes the costing: the architecture's size, reference and
// parameters, the per-target table with AVG, MAX and the weighted average,
// and the per-layer table when there is one.
func (c *Costing) Summary() string {
	var b strings.Builder
	r := c.Result
	name := r.Name
	if name == "" {
		name = "architecture"
	}
	fmt.Fprintf(&b, "%s at %d px: %.1f M MACs, %.2f M params; reference %s; parameters: %s\n\n", name, r.Resolution,
		float64(r.MACs)/1e6, float64(r.Params)/1e6, r.Reference, c.Params)
	fmt.Fprintf(&b, "%s\nAVG %.3f  MAX %.3f  weighted %.3f\n", r.Table().Text(), r.Avg, r.Max, r.Weighted)
	if len(c.PriorBound) > 0 {
		fmt.Fprintf(&b, "\nPrior-bound parameters of adapted targets (their data did not decide them): the normalised latency with each\n")
		fmt.Fprintf(&b, "divided and multiplied by its width, the others fitted (`multihw cost sensitivity` draws them jointly):\n")
		tb := report.NewTable("target", "parameter", "width", "normalised", "range").RightFrom(2)
		for _, e := range c.PriorBound {
			tb.Row(e.Target, e.Param, fmt.Sprintf("×%.2f", e.Width), fmt.Sprintf("%.3f", e.Normalised), fmt.Sprintf("%.3f-%.3f", e.Low, e.High))
		}
		b.WriteString(tb.Text())
	}
	if c.Layers != nil {
		fmt.Fprintf(&b, "\n%s(m: memory-bound layer)\n", BreakdownTable(c.Layers).Text())
	}
	if len(c.Caveats) > 0 {
		b.WriteString("\n")
	}
	for _, cv := range c.Caveats {
		fmt.Fprintf(&b, "caveat: %s\n", cv)
	}
	return b.String()
}
