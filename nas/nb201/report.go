package nb201

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/multihw/multihw/report"
)

// Report is the content of REPORT.md: the success-rate study, optionally
// repeated on more seeds, and comparisons at some budgets.
type Report struct {
	// Command is the command line that produced the report.
	Command string
	// Rates is the main study (Config.Seeds seeds from Config.SeedOffset).
	Config RatesConfig
	Rates  []RateRow
	// More is the same study on more seeds (MoreConfig), for tighter rates.
	MoreConfig RatesConfig
	More       []RateRow
	// ByQuery is the main study again with Search.CostByQuery (a cell's cost
	// revealed only by its query), the harder setting.
	ByQueryConfig RatesConfig
	ByQuery       []RateRow
	// Comparisons at a few budgets.
	Comparisons []*Comparison
}

// WriteReport writes the report as markdown.
func (bn *Bench) WriteReport(w io.Writer, rep Report) error {
	d := &report.Doc{}
	d.Printf("# Tabular multi-hardware search on NAS-Bench-201 (real device latencies)\n\n")
	if rep.Command != "" {
		d.Printf("Produced by `%s`.\n\n", rep.Command)
	}
	d.Printf("Setting: %s.\n\n", bn.Describe())
	d.Printf("%s", "Accuracy: NAS-Bench-201 test accuracy (percent, mean over training seeds). Latency: BRP-NAS "+
		"measurements; r_h = latency_h(cell) / latency_h(reference) per target; AVG = mean of r_h, MAX = max. "+
		"Cells with a missing measurement on a target are not candidates.\n\n")
	if len(rep.Rates) > 0 {
		cfg := rep.Config
		d.Heading(2, "Success rates")
		d.Printf("Runs within %g accuracy points of the exhaustive optimum (budget reward: highest accuracy with "+
			"%s cost <= budget), %d queries each, seeds %d..%d. In brackets: the rate's 95%% interval over the seeds "+
			"(Clopper-Pearson).\n\n", tolerance(cfg), bn.objective, cfg.Queries,
			cfg.SeedOffset, cfg.SeedOffset+uint64(cfg.Seeds)-1)
		writeRates(d, rep.Rates)
		var below []string
		if bm := belowBar(rep.Rates, 0.9); bm != "" {
			below = append(below, fmt.Sprintf("on seeds %d..%d: %s", cfg.SeedOffset, cfg.SeedOffset+uint64(cfg.Seeds)-1, bm))
		}
		if len(rep.More) > 0 {
			mc := rep.MoreConfig
			d.Printf("\nThe same on seeds %d..%d (%d seeds; at a 95%% rate the binomial standard error is %.1f points, "+
				"against %.1f on 20 seeds):\n\n", mc.SeedOffset, mc.SeedOffset+uint64(mc.Seeds)-1, mc.Seeds,
				100*stdErr(0.95, mc.Seeds), 100*stdErr(0.95, 20))
			writeRates(d, rep.More)
			if bm := belowBar(rep.More, 0.9); bm != "" {
				below = append(below, fmt.Sprintf("on seeds %d..%d: %s", mc.SeedOffset, mc.SeedOffset+uint64(mc.Seeds)-1, bm))
			}
		}
		if len(rep.ByQuery) > 0 {
			bc := rep.ByQueryConfig
			d.Printf("\nThe harder setting where a cell's cost is revealed only by its query (`--cost-by-query`: "+
				"over-budget cells spend queries too), seeds %d..%d:\n\n", bc.SeedOffset, bc.SeedOffset+uint64(bc.Seeds)-1)
			writeRates(d, rep.ByQuery)
			if bm := belowBar(rep.ByQuery, 0.9); bm != "" {
				below = append(below, fmt.Sprintf("with the cost by query on seeds %d..%d: %s", bc.SeedOffset,
					bc.SeedOffset+uint64(bc.Seeds)-1, bm))
			}
		}
		if len(below) > 0 {
			d.Printf("\nEvolution below the 90%% bar %s.\n", strings.Join(below, "; "))
		}
		d.Printf("%s", "\n"+searchNotes(cfg)+"\n")
	}
	for _, c := range rep.Comparisons {
		d.Printf("\n## Winners of each objective at budget %g (%s, exhaustive)\n\n", c.Budget, DatasetLabel(c.Dataset))
		d.Printf("%s", "Each row is the most accurate cell whose cost under that objective is within the budget; "+
			"bold: over the budget on that target.\n\n")
		if err := c.WriteMarkdown(d); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, d.String())
	return err
}

func tolerance(cfg RatesConfig) float64 {
	if cfg.Tolerance == 0 {
		return 0.5
	}
	return cfg.Tolerance
}

func stdErr(p float64, n int) float64 {
	if n < 1 {
		return 0
	}
	return math.Sqrt(p * (1 - p) / float64(n))
}

// belowBar lists the budgets where evolution's rate is under bar, each with
// its 95% interval and whether the seeds resolve it: below (the interval's
// upper end under the bar) or unresolved (the bar inside the interval).
func belowBar(rows []RateRow, bar float64) string {
	var parts []string
	for _, r := range rows {
		if r.Algorithm == AlgoEvolution && r.Rate < bar {
			ci := r.Interval()
			verdict := "below it beyond the seeds' noise"
			if float64(ci.Hi) >= bar {
				verdict = "unresolved: the bar is inside the interval"
			}
			parts = append(parts, fmt.Sprintf("budget %g (%d/%d, 95%% interval %.0f-%.0f%%: %s)", r.Budget, r.Hits, r.Seeds,
				100*ci.Lo, 100*ci.Hi, verdict))
		}
	}
	return strings.Join(parts, ", ")
}

// writeRates writes one markdown table: algorithms × budgets, below the
// exhaustive optimum's accuracy.
func writeRates(d *report.Doc, rows []RateRow) {
	d.Table(RatesTable(rows, true))
}

// RatesTable tabulates a study: one row per algorithm, one column per
// budget. The markdown form (for reports) starts with the exhaustive
// optimum's accuracy and gives each cell's mean queries; the short form is
// the command line's.
func RatesTable(rows []RateRow, markdown bool) *report.Table {
	var budgets []float64
	var algos []string
	for _, r := range rows {
		if !slices.Contains(budgets, r.Budget) {
			budgets = append(budgets, r.Budget)
		}
		if !slices.Contains(algos, r.Algorithm) {
			algos = append(algos, r.Algorithm)
		}
	}
	header := []string{"algorithm"}
	opt := []string{"exhaustive optimum"}
	for _, bu := range budgets {
		header = append(header, fmt.Sprintf("budget %g", bu))
		for _, r := range rows {
			if r.Budget == bu {
				opt = append(opt, fmt.Sprintf("%.2f", r.Optimum))
				break
			}
		}
	}
	tb := report.NewTable(header...)
	if markdown {
		tb.RightFrom(1)
		tb.Row(opt...)
	}
	for _, a := range algos {
		cells := []string{a}
		for _, bu := range budgets {
			for _, r := range rows {
				if r.Budget != bu || r.Algorithm != a {
					continue
				}
				if markdown {
					ci := r.Interval()
					cells = append(cells, fmt.Sprintf("%d/%d = %.0f%% [%.0f-%.0f] (gap %.2f, %.0f queries)", r.Hits, r.Seeds, 100*r.Rate,
						100*ci.Lo, 100*ci.Hi, r.MeanGap, r.MeanQueries))
				} else {
					cells = append(cells, fmt.Sprintf("%d/%d %3.0f%% gap %.2f", r.Hits, r.Seeds, 100*r.Rate, r.MeanGap))
				}
			}
		}
		tb.Row(cells...)
	}
	return tb
}

// searchNotes describes the algorithms' settings.
func searchNotes(cfg RatesConfig) string {
	evo := cfg.Search.Evolution
	if evo.Population == 0 {
		evo = DefaultEvolution
	}
	lr := cfg.Search.ReinforceLR
	if lr == 0 {
		lr = DefaultReinforceLR
	}
	guide := fmt.Sprintf("MnasNet's hard-capped reward Q·min(1, T/T0)^β with β = %g", DefaultGuideBeta)
	if g := cfg.Search.Guide; g.Kind != "" {
		guide = fmt.Sprintf("%s with β = %g", g.Kind, g.Beta)
	}
	cost := "A cell's cost is known without a query (the latency table plays the cost model, as in TuNAS), so " +
		"cells over the budget are skipped before they are looked up; every algorithm, random search included, " +
		"spends its queries on feasible cells. "
	if cfg.Search.CostByQuery {
		cost = "A cell's cost is revealed only by its query. "
	}
	return cost + fmt.Sprintf("A query is one distinct candidate cell looked up (repeats come from a cache; proposing a "+
		"non-candidate cell costs none). \"gap\" is the mean accuracy shortfall from the optimum; \"queries\" the mean number used (fewer than the budget when the algorithm stopped at its bound on lookups, 20 per query). Evolution: population %d, "+
		"tournaments of %d, children already seen re-drawn up to %d times, remove-worst %v. Reinforce: the TuNAS controller "+
		"(independent categorical per edge, Adam β1 = 0, baseline momentum 0.95), constant learning rate %g. Evolution and "+
		"reinforce are guided by %s; the answer is the most accurate within-budget cell they looked up. Random search draws "+
		"cells uniformly. The evolution, guide and learning-rate defaults were chosen on seeds 1000..1199 of this study "+
		"(not shown); the seeds above are held out.", evo.Population, evo.Sample, evo.Retries, evo.RemoveWorst, lr, guide)
}

// StudyConfig is the whole success-rate study of `multihw search
// nb201-bench`: the rates on Rates's seeds, optionally on MoreSeeds more from
// MoreOffset, and (with WithReport) the same with the cost revealed by the
// query and the comparisons at CompareBudgets.
type StudyConfig struct {
	Rates          RatesConfig
	MoreSeeds      int
	MoreOffset     uint64
	WithReport     bool
	CompareBudgets []float64
	Command        string
}

// Study runs the study and returns its report (Report.Rates and More are
// also what the command prints).
func (bn *Bench) Study(cfg StudyConfig) (*Report, error) {
	if cfg.MoreSeeds > MaxRateSeeds { // before the first study's minutes
		return nil, fmt.Errorf("rates: more seeds must be at most %d, got %d", MaxRateSeeds, cfg.MoreSeeds)
	}
	rows, err := bn.Rates(cfg.Rates)
	if err != nil {
		return nil, err
	}
	rep := &Report{Command: cfg.Command, Config: cfg.Rates, Rates: rows}
	if cfg.MoreSeeds > 0 {
		mc := cfg.Rates
		mc.Seeds, mc.SeedOffset = cfg.MoreSeeds, cfg.MoreOffset
		if rep.More, err = bn.Rates(mc); err != nil {
			return nil, err
		}
		rep.MoreConfig = mc
	}
	if !cfg.WithReport {
		return rep, nil
	}
	if !cfg.Rates.Search.CostByQuery {
		// The report also shows the harder setting where the cost costs a query.
		bc := cfg.Rates
		bc.Search.CostByQuery = true
		if rep.ByQuery, err = bn.Rates(bc); err != nil {
			return nil, err
		}
		rep.ByQueryConfig = bc
	}
	for _, b := range cfg.CompareBudgets {
		c, err := bn.Compare(b)
		if err != nil {
			return nil, err
		}
		rep.Comparisons = append(rep.Comparisons, c)
	}
	return rep, nil
}

// WriteReportFile writes the report's markdown (WriteReport) to path,
// atomically.
func (bn *Bench) WriteReportFile(path string, rep Report) error {
	var buf bytes.Buffer
	if err := bn.WriteReport(&buf, rep); err != nil {
		return err
	}
	return report.WriteFile(path, buf.Bytes())
}

// Summary describes the study for the command line: the bench, what counts
// as a success, the rates and, when the study ran more seeds, their rates.
func (bn *Bench) Summary(rep *Report) string {
	var b strings.Builder
	c := rep.Config
	fmt.Fprintf(&b, "%s\nsuccess: within %g accuracy points of the exhaustive optimum, %d queries, seeds %d..%d\n\n%s",
		bn.Describe(), c.Tolerance, c.Queries, c.SeedOffset, c.SeedOffset+uint64(c.Seeds)-1, RatesTable(rep.Rates, false).Text())
	if len(rep.More) > 0 {
		m := rep.MoreConfig
		fmt.Fprintf(&b, "\nseeds %d..%d:\n\n%s", m.SeedOffset, m.SeedOffset+uint64(m.Seeds)-1, RatesTable(rep.More, false).Text())
	}
	return b.String()
}
