package figset

import (
	"fmt"
	"math"
	"strings"

	"github.com/multihw/multihw/nas/nb201"
	"github.com/multihw/multihw/nas/study"
	"github.com/multihw/multihw/plots"
	"github.com/multihw/multihw/report"
)

// The sections a reproduction study adds to the search report: its settings
// and size, the claims with their decision rules (at the head of the
// report), then the T0 sweep, the retraining with seeds, and the
// cross-evaluation next to NAS-Bench-201's (after the searches table).

// studyPrimary reports whether a study search gets its curves and decision
// probabilities drawn: only the primary searches (study.Plan.Primary), so
// that 16 searches do not give 32 figures.
func studyPrimary(s *study.Summary, r study.SearchResult) bool {
	p, err := s.Plan.Primary(r.Objective)
	return err == nil && p.Name == r.Name
}

// studyHead writes the study's settings and size and its claims.
func (r *searchReport) studyHead(s *study.Summary) {
	p := r.d.Printf
	c := s.Plan.Config
	r.d.Heading(2, "Reproduction study: settings and size")
	if c.Smoke {
		p("**Smoke run (`--quick`): tiny searches and trainings that exercise the workflow. Its numbers support no claim.**\n\n")
	}
	t0s := make([]string, len(c.T0s))
	for i, t := range c.T0s {
		t0s[i] = t.String()
	}
	p("Study directory `%s` (`multihw study`), %d of %d jobs done. Searches: objectives %s at T0 %s with search seeds %v; single-target searches of %s at T0 %s with seeds %v; %d steps each (batch %d, proxy width ×%g, %s). Retraining: every final architecture and the references %s, with one recipe (%s) and seeds %v; the cost is always that of the deployed 224-px, full-width architecture under today's cost model.\n\n",
		s.Dir, s.Done, s.Jobs, strings.Join(c.Objectives, ", "), strings.Join(t0s, ", "), c.SearchSeeds, strings.Join(c.SingleTargets, ", "), c.SingleT0, c.SingleSeeds,
		c.Search.Steps, c.Search.BatchSize, c.Search.WidthFactor, c.Search.Dataset, strings.Join(c.References, ", "), study.RecipeText(c.Recipe, c.TrainWidth), c.TrainSeeds)
	if e := s.Plan.Estimate; e != nil {
		p("Sizing (from the seed-spread pilot in `%s`, `multihw study pilot`):\n\n", e.Pilot)
		for _, line := range e.Lines() {
			p("- %s\n", line)
		}
		p("\n")
	}
	r.d.Table(studyTimeTable(s))
	p("\nWall and CPU time come from the study's ledger (`jobs/*.json`, saved every %s while a job runs, so a killed attempt loses at most that); the runs' own time is the searches' and trainings' step time over all resumes.\n\n", study.RecordInterval)
	r.d.Heading(2, "Claims")
	p("Each of the paper's claims, judged on this study by the rules below (`nas/study`, `Summary.Claims`).\n\n")
	for _, rule := range s.RulesText() {
		p("- %s\n", rule)
	}
	p("\n")
	for _, cl := range s.Claims() {
		p("### Claim %d: %s\n\n**%s**: %s.\n\n*Rule:* %s\n\n", cl.Number, cl.Statement, strings.ToUpper(string(cl.Verdict)), cl.Reason, cl.Rule)
		if len(cl.Rows) > 0 {
			r.d.Table(textTable(cl.Header, cl.Rows))
			p("\n")
		}
	}
}

// studyTimeTable is the jobs done and the time they took, per kind.
func studyTimeTable(s *study.Summary) *report.Table {
	tb := report.NewTable("jobs", "done / all", "wall time (h)", "CPU time (h, both cores)", "the runs' own time (h)").RightFrom(1)
	var wall, cpu float64
	for _, k := range []string{study.KindSearch, study.KindTrain} {
		t := s.Time[k]
		done, all := 0, 0
		if k == study.KindSearch {
			for _, sr := range s.Searches {
				all++
				if sr.Done {
					done++
				}
			}
		} else {
			done, all = trainCounts(s)
		}
		tb.Row(k, fmt.Sprintf("%d / %d", done, all), fmt.Sprintf("%.2f", t.WallSeconds/3600), fmt.Sprintf("%.2f", t.CPUSeconds/3600),
			fmt.Sprintf("%.2f", t.RunSeconds/3600))
		wall, cpu = wall+t.WallSeconds, cpu+t.CPUSeconds
	}
	tb.Row("**total**", fmt.Sprintf("%d / %d", s.Done, s.Jobs), fmt.Sprintf("**%.2f**", wall/3600), fmt.Sprintf("**%.2f**", cpu/3600))
	return tb
}

// textTable is a table of text cells, every column left-aligned.
func textTable(header []string, rows [][]string) *report.Table {
	tb := report.NewTable(header...)
	tb.Rows = rows
	return tb
}

// trainCounts counts the finished and all training runs (one per unit and
// seed; blocked ones per model).
func trainCounts(s *study.Summary) (done, all int) {
	seen := map[string]bool{}
	for _, m := range s.Models {
		u := m.Unit
		if u == "" {
			u = m.Name
		}
		if seen[u] {
			continue
		}
		seen[u] = true
		done += len(m.Accuracy)
		all += len(s.Plan.Config.TrainSeeds)
	}
	return done, all
}

// pts formats a fraction as points, "n/a" when undefined.
func pts(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", 100*v)
}

// costCell is a model's latency on metric with its 5-95% spread when known.
func costCell(m *study.ModelResult, metric string) string {
	v, lo, hi := m.CostOf(metric)
	if m.Cost == nil {
		return "–"
	}
	if math.IsNaN(lo) {
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.3f [%.3f, %.3f]", v, lo, hi)
}

// studyBody writes the T0 sweep, the retraining with seeds and the
// cross-evaluation next to NAS-Bench-201's, with their figures.
func (r *searchReport) studyBody(s *study.Summary) error {
	r.studySweep(s)
	r.studyModels(s)
	r.studyCrossEval(s)
	return r.nb201Comparisons()
}

// studyFigure draws a study figure and links it; a figure that cannot be
// drawn is said so in the report.
func (r *searchReport) studyFigure(s *study.Summary, draw func(*study.Summary) (*plots.Figure, error), caption string) {
	if !r.figures() {
		return
	}
	f, err := draw(s)
	if err != nil {
		r.d.Printf("(figure not drawn: %v)\n\n", err)
		return
	}
	r.add(f, caption)
}

// studySweep writes the multi-target searches' final costs against their T0.
func (r *searchReport) studySweep(s *study.Summary) {
	r.d.Heading(2, "T0 sweep of the multi-target searches")
	r.d.Printf("Each multi-target search's final architecture: its cost on the search's own objective against the target cost T0 it was given (a search that lands on its target sits on y = x), and its retrained test accuracy (mean over the training seeds, 95%% interval).\n\n")
	r.d.Table(StudySweepTable(s))
	r.d.Printf("\n")
	r.studyFigure(s, StudySweep, "T0 sweep")
}

// StudySweepTable is the study's searches: objective, T0, seed, the final
// architecture's cost at the search and under today's cost model, the
// search's length and speed, and the retrained test accuracy.
func StudySweepTable(s *study.Summary) *report.Table {
	tb := report.NewTable("search", "objective", "T0", "seed", "final cost (at search)", "final cost (today)", "steps", "steps/min", "minutes",
		"test accuracy (%, mean [95% CI])").RightFrom(2).Left(9)
	for _, sr := range s.Searches {
		if !sr.Done {
			tb.Row(sr.Name, sr.Objective, fmt.Sprintf("%.3f", sr.T0Value), fmt.Sprint(sr.Seed), "(not finished)")
			continue
		}
		acc := "(not retrained)"
		if m, ok := s.Model(sr.Name); ok && m.Trained() {
			acc = fmt.Sprintf("%s [%s, %s] (%d seeds)", pts(m.Mean), pts(m.CILo), pts(m.CIHi), len(m.Accuracy))
		}
		tb.Row(sr.Name, sr.Objective, fmt.Sprintf("%.3f", sr.T0Value), fmt.Sprint(sr.Seed), fmt.Sprintf("%.3f", sr.FinalT), fmt.Sprintf("%.3f", sr.Cost),
			fmt.Sprint(sr.Steps), fmt.Sprintf("%.1f", sr.StepsPerMinute), fmt.Sprintf("%.1f", sr.Seconds/60), acc)
	}
	return tb
}

// studyModels writes every model's accuracy per seed and its latency.
func (r *searchReport) studyModels(s *study.Summary) {
	c := s.Plan.Config
	r.d.Heading(2, "Retrained with seeds")
	r.d.Printf("Every model trained with the same recipe (%s) on %s, each seed an ordinary training run; test accuracy on the test split. SD is the model's own seed SD; the 95%% interval uses the pooled seed SD (%s) and Student's t with its degrees of freedom. Latency: normalised to %s%s. Models with the same architecture share their runs.\n\n",
		study.RecipeText(c.Recipe, c.TrainWidth), c.Search.Dataset, pooledLine(s), c.Search.Reference, spreadLine(s))
	r.d.Table(StudyModelsTable(s))
	r.d.Printf("\n")
	r.studyFigure(s, StudyTradeoff, "accuracy vs latency on every target, AVG and MAX")
	r.d.Printf("The staircase is the Pareto front of the central values; whether a model is resolved on or off it is the claims' decision (above).\n\n")
}

// StudyModelsTable is every model of the study: accuracy per seed, mean,
// SD and 95% interval, size, latency on each metric (with its spread when
// drawn), steps and minutes per run.
func StudyModelsTable(s *study.Summary) *report.Table {
	header := []string{"model", "group", "seeds: test accuracy (%)", "mean", "SD", "95% CI", "params (M)", "MMACs"}
	for _, m := range s.Metrics {
		header = append(header, strings.ToUpper(strings.TrimPrefix(m, "pixel4-")))
	}
	var rows [][]string
	for i := range s.Models {
		m := &s.Models[i]
		name := m.Name
		if m.Unit != "" && m.Unit != m.Name {
			name += " (= " + m.Unit + ")"
		}
		accs := make([]string, len(m.Accuracy))
		for j, v := range m.Accuracy {
			accs[j] = fmt.Sprintf("s%d %.2f", m.Seeds[j], 100*v)
		}
		row := []string{name, m.Group, strings.Join(accs, ", "), pts(m.Mean), pts(m.SD), "[" + pts(m.CILo) + ", " + pts(m.CIHi) + "]",
			fmt.Sprintf("%.2f", float64(m.Params)/1e6), fmt.Sprintf("%.0f", float64(m.MACs)/1e6)}
		for _, metric := range s.Metrics {
			row = append(row, costCell(m, metric))
		}
		var mins float64
		for _, t := range m.TrainSeconds {
			mins += t / 60 / float64(len(m.TrainSeconds))
		}
		rows = append(rows, append(row, fmt.Sprint(m.Steps), fmt.Sprintf("%.1f", mins)))
	}
	return textTable(append(header, "steps", "min per run"), rows)
}

// studyCrossEval writes the single- and multi-target winners on every
// target.
func (r *searchReport) studyCrossEval(s *study.Summary) {
	r.d.Heading(2, "Cross-evaluation: single- and multi-target winners on every target")
	r.d.Printf("The one-shot counterpart of the NAS-Bench-201 table below: each single-target search's final architecture and the multi-target ones at the matched T0, costed on every target. **Bold**: above the single-target searches' T0 (%s).\n\n", s.Plan.Config.SingleT0)
	header := append([]string{"model", "test accuracy (%, mean ± SE)"}, s.Targets...)
	var rows [][]string
	budget := math.NaN()
	for _, sr := range s.Plan.Searches {
		if sr.Group == study.GroupSingle {
			budget = sr.T0Value
			break
		}
	}
	for _, m := range CrossEvalModels(s) {
		acc := "(not retrained)"
		if m.Trained() {
			acc = fmt.Sprintf("%s ± %s", pts(m.Mean), pts(m.SE))
		}
		row := []string{m.Name, acc}
		for _, metric := range s.Metrics {
			cell := costCell(m, metric)
			if m.Cost != nil && m.Cost[metric] > budget && metric != study.MetricAvg && metric != study.MetricMax {
				cell = "**" + cell + "**"
			}
			row = append(row, cell)
		}
		rows = append(rows, row)
	}
	r.d.Table(textTable(append(header, "AVG", "MAX"), rows))
	r.d.Printf("\n")
	r.studyFigure(s, StudyCrossEval, "one-shot winners on every target")
}

// nb201Comparisons writes NAS-Bench-201's exhaustive winners at NB201Budgets.
func (r *searchReport) nb201Comparisons() error {
	r.d.Printf("NAS-Bench-201 with BRP-NAS latencies measured on the Snapdragon 855 CPU, GPU, DSP and the EdgeTPU (exhaustive winners; budgets relative to the all-3×3-conv cell; `multihw search nb201-compare`):\n\n")
	bn, err := nb201.New().Build()
	if err != nil {
		return err
	}
	for _, budget := range NB201Budgets {
		f, cmp, err := NB201Comparison(bn, budget)
		if err != nil {
			return err
		}
		r.d.Printf("Budget %g:\n\n", budget)
		if err := cmp.WriteMarkdown(r.d); err != nil {
			return err
		}
		r.d.Printf("\n")
		if r.figures() {
			r.add(f, fmt.Sprintf("NAS-Bench-201 winners at budget %g", budget))
		}
	}
	return nil
}

func pooledLine(s *study.Summary) string {
	if math.IsNaN(s.PooledSD) {
		return "unknown: no model has two seeds"
	}
	return fmt.Sprintf("%.2f points, %d degrees of freedom", 100*s.PooledSD, s.PooledDF)
}

func spreadLine(s *study.Summary) string {
	if s.Spread == nil {
		return " (fitted values; the study draws no cost-model parameters)"
	}
	return fmt.Sprintf(", fitted value [5%%, 95%%] over %d parameter draws of the cost model (hwcost.Sensitivity, seed %d)", s.Spread.Draws, s.Spread.Seed)
}
