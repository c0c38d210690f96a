package figset

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/multihw/multihw/nas/study"
	"github.com/multihw/multihw/plots"
)

// Figures of a reproduction study (package nas/study): accuracy against
// normalised latency on every target with the seed and cost spreads, the
// cross-evaluation of single- and multi-target winners, and the T0 sweeps.

// Model groups of the study figures.
const (
	GroupStudyAvg    = "AVG search"
	GroupStudyMax    = "MAX search"
	GroupStudySingle = "single-target search"
)

// errNotYet marks a study figure whose runs have not got that far.
var errNotYet = errors.New("not yet")

// StudyLabel is a short label of a study model: "AVG 0.92 s1" (objective,
// target cost, search seed), "cpu only s1", or the reference's name.
func StudyLabel(m *study.ModelResult) string {
	if m.Search == nil {
		return m.Name
	}
	if m.Group == study.GroupSingle {
		return fmt.Sprintf("%s only s%d", shortTarget(m.Search.Objective), m.Search.Seed)
	}
	return fmt.Sprintf("%s %.2f s%d", strings.ToUpper(m.Search.Objective), m.Search.T0Value, m.Search.Seed)
}

// shortTarget drops the device prefix of a target name ("pixel4-cpu" → "cpu").
func shortTarget(t string) string {
	if i := strings.LastIndex(t, "-"); i >= 0 && i < len(t)-1 {
		return t[i+1:]
	}
	return t
}

// studyGroup is the figure group of a model.
func studyGroup(m *study.ModelResult) string {
	switch {
	case m.Group == study.GroupSingle:
		return GroupStudySingle
	case m.Group == study.GroupMulti && m.Search.Objective == study.MetricMax:
		return GroupStudyMax
	case m.Group == study.GroupMulti:
		return GroupStudyAvg
	case m.Name == "multi_avg" || m.Name == "multi_max":
		return GroupPaper
	}
	return GroupReference
}

// metricLabel names a metric's panel.
func metricLabel(metric string) string {
	switch metric {
	case study.MetricAvg:
		return "AVG over the targets"
	case study.MetricMax:
		return "MAX over the targets"
	}
	return metric
}

// accuracyEstimate is a model's mean test accuracy (points) with its 95%
// interval (NaN bounds when the seed SD is unknown).
func accuracyEstimate(m *study.ModelResult) plots.Estimate {
	e := plots.Estimate{Value: 100 * m.Mean, Lo: 100 * m.CILo, Hi: 100 * m.CIHi}
	if math.IsNaN(m.CILo) {
		e.Lo, e.Hi = math.NaN(), math.NaN()
	}
	return e
}

// StudyTradeoff draws every retrained model's test accuracy (mean over seeds,
// 95% interval) against its normalised latency on each target, AVG and MAX
// (fitted value, with the 5-95% range over the cost model's parameter draws
// when the study has them), the Pareto front of the central values, and the
// references marked. The figure is named study_tradeoff.
func StudyTradeoff(s *study.Summary) (*plots.Figure, error) {
	d := plots.TradeoffGridData{Name: "study_tradeoff", AccuracyLabel: s.Plan.Config.Search.Dataset + " test accuracy (%)",
		LatencyLabel: "normalised latency (× " + s.Plan.Config.Search.Reference + ")"}
	for _, metric := range s.Metrics {
		d.Metrics = append(d.Metrics, metricLabel(metric))
	}
	seeds := 0
	// Models of one unit (the same architecture, the same runs) are one
	// point, labelled with all their names.
	index := map[string]int{}
	for i := range s.Models {
		m := &s.Models[i]
		if !m.Trained() {
			continue
		}
		seeds = max(seeds, len(m.Accuracy))
		if j, ok := index[m.Unit]; ok {
			d.Models[j].Name += " = " + StudyLabel(m)
			continue
		}
		index[m.Unit] = len(d.Models)
		gm := plots.GridModel{Name: StudyLabel(m), Group: studyGroup(m), Accuracy: accuracyEstimate(m)}
		for _, metric := range s.Metrics {
			v, lo, hi := m.CostOf(metric)
			gm.Latency = append(gm.Latency, plots.Estimate{Value: v, Lo: lo, Hi: hi})
		}
		d.Models = append(d.Models, gm)
	}
	if len(d.Models) == 0 {
		return nil, fmt.Errorf("study: no retrained model: %w", errNotYet)
	}
	spread := "no cost spread"
	if s.Spread != nil {
		spread = fmt.Sprintf("latency: 5-95%% over %d cost-model draws", s.Spread.Draws)
	}
	d.Title = fmt.Sprintf("Accuracy vs latency on every target (up to %d seeds per model, 95%% intervals; %s)", seeds, spread)
	return plots.TradeoffGrid(d)
}

// StudyCrossEval draws each single-target search's winner and the
// multi-target winners at the matched T0 on every target (the one-shot
// counterpart of the NAS-Bench-201 comparison), with the single-target
// searches' T0 as the budget line. The figure is named study_cross_eval.
func StudyCrossEval(s *study.Summary) (*plots.Figure, error) {
	d := plots.DeviceComparisonData{AccuracyName: "acc"}
	for _, t := range s.Targets {
		d.Targets = append(d.Targets, shortTarget(t))
	}
	for _, m := range CrossEvalModels(s) {
		acc := math.NaN()
		if m.Trained() {
			acc = 100 * m.Mean
		}
		if math.IsNaN(acc) {
			continue
		}
		w := plots.Winner{Objective: StudyLabel(m), Accuracy: acc}
		for _, t := range s.Targets {
			w.Latency = append(w.Latency, m.Cost[t])
		}
		if d.Budget == 0 && m.Group == study.GroupSingle {
			d.Budget = math.Round(1000*m.Search.T0Value) / 1000
		}
		d.Winners = append(d.Winners, w)
	}
	if len(d.Winners) == 0 {
		return nil, fmt.Errorf("study: no retrained search winner: %w", errNotYet)
	}
	d.Title = fmt.Sprintf("One-shot winners measured on every target (budget: the single-target searches' T0, %s)", s.Plan.Config.SingleT0)
	f, err := plots.DeviceComparison(d)
	if err != nil {
		return nil, err
	}
	return f.WithName("study_cross_eval"), nil
}

// CrossEvalModels are the rows of the cross-evaluation: every single-target
// searched model, then the multi-target ones at the T0 matched to the same
// reference model (or all multi-target ones if none is matched).
func CrossEvalModels(s *study.Summary) []*study.ModelResult {
	model, _, _ := strings.Cut(s.Plan.Config.SingleT0.Match, "@")
	var single, matched, multi []*study.ModelResult
	for i := range s.Models {
		m := &s.Models[i]
		switch {
		case m.Group == study.GroupSingle:
			single = append(single, m)
		case m.Group == study.GroupMulti && model != "" && strings.HasPrefix(m.Search.T0.Match, model):
			matched = append(matched, m)
		case m.Group == study.GroupMulti:
			multi = append(multi, m)
		}
	}
	if len(matched) == 0 {
		matched = multi
	}
	return append(single, matched...)
}

// StudySweep draws the multi-target searches against their target cost T0:
// the final architecture's cost on the search's objective (each seed, and
// their mean; y = x is a search that lands on its target) and its retrained
// accuracy (mean over training seeds with the 95% interval, per search
// seed). The figure is named study_t0_sweep.
func StudySweep(s *study.Summary) (*plots.Figure, error) {
	cost := plots.SweepPanel{Title: "final architecture's cost", XLabel: "target cost T0", YLabel: "cost on the objective (× " + s.Plan.Config.Search.Reference + ")", Diagonal: true}
	acc := plots.SweepPanel{Title: "retrained accuracy", XLabel: "target cost T0", YLabel: s.Plan.Config.Search.Dataset + " test accuracy (%)"}
	for _, obj := range s.Plan.Config.Objectives {
		group := strings.ToUpper(obj) + " search"
		byT0 := map[float64][]float64{}
		var t0s []float64
		seeds := plots.SweepSeries{Name: group + " (each seed)", Group: group, PointsOnly: true, Faint: true}
		accS := plots.SweepSeries{Name: group, Group: group}
		for _, r := range s.Searches {
			if r.Group != study.GroupMulti || r.Objective != obj || !r.Done {
				continue
			}
			if _, ok := byT0[r.T0Value]; !ok {
				t0s = append(t0s, r.T0Value)
			}
			byT0[r.T0Value] = append(byT0[r.T0Value], r.Cost)
			seeds.X, seeds.Y = append(seeds.X, r.T0Value), append(seeds.Y, r.Cost)
			if m, ok := s.Model(r.Name); ok && m.Trained() {
				e := accuracyEstimate(m)
				accS.X, accS.Y = append(accS.X, r.T0Value), append(accS.Y, e.Value)
				accS.YLo, accS.YHi = append(accS.YLo, e.Lo), append(accS.YHi, e.Hi)
			}
		}
		if len(t0s) == 0 {
			continue
		}
		mean := plots.SweepSeries{Name: group, Group: group}
		for _, t := range t0s {
			var sum float64
			for _, v := range byT0[t] {
				sum += v
			}
			mean.X, mean.Y = append(mean.X, t), append(mean.Y, sum/float64(len(byT0[t])))
		}
		cost.Series = append(cost.Series, seeds, mean)
		if len(accS.X) > 0 {
			acc.Series = append(acc.Series, accS)
		}
	}
	if len(cost.Series) == 0 {
		return nil, fmt.Errorf("study: no finished multi-target search: %w", errNotYet)
	}
	d := plots.SweepData{Name: "study_t0_sweep", Title: "Multi-target searches swept over the target cost T0 (retrained accuracy: per search seed, 95% intervals over training seeds)",
		Panels: []plots.SweepPanel{cost}}
	if len(acc.Series) > 0 {
		d.Panels = append(d.Panels, acc)
	}
	return plots.Sweep(d)
}

// StudyFigures draws every figure of a study that its runs so far allow:
// the T0 sweep, the trade-off on every target and the cross-evaluation.
func StudyFigures(s *study.Summary) ([]*plots.Figure, error) {
	var figs []*plots.Figure
	for _, draw := range []func(*study.Summary) (*plots.Figure, error){StudySweep, StudyTradeoff, StudyCrossEval} {
		f, err := draw(s)
		if errors.Is(err, errNotYet) {
			continue
		}
		if err != nil {
			return nil, err
		}
		figs = append(figs, f)
	}
	return figs, nil
}

func studyFigures(e *env) ([]*plots.Figure, error) {
	if e.runs == nil {
		return nil, skipf("no runs directory given")
	}
	dirs := e.runs.Studies
	if len(dirs) == 0 {
		return nil, skipf("no study (DIR/%s) under %s", study.PlanFile, e.runs.Dir)
	}
	var figs []*plots.Figure
	for _, dir := range dirs {
		s, err := study.Summarize(dir)
		if err != nil {
			return nil, err
		}
		fs, err := StudyFigures(s)
		if err != nil {
			return nil, fmt.Errorf("study %s: %w", dir, err)
		}
		if len(dirs) > 1 {
			rel, _ := filepath.Rel(e.runs.Dir, dir)
			for _, f := range fs {
				f.Name += "_" + fileStem(rel)
			}
		}
		figs = append(figs, fs...)
	}
	if len(figs) == 0 {
		return nil, skipf("the studies under %s have no finished search yet", e.runs.Dir)
	}
	return figs, nil
}
