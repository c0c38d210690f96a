package figset

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/nas/tunas"
	"github.com/multihw/multihw/plots"
	"github.com/multihw/multihw/train"
)

// Groups of trained models in the trade-off figures.
const (
	// GroupSearched: the final architecture of a search found under the runs
	// directory (or an architecture named search_*, as tunas names them).
	GroupSearched = "searched"
	// GroupPaper: the paper's MobileNet-MultiHW-AVG and -MAX.
	GroupPaper = "paper's MultiHW"
	// GroupReference: any other architecture (MobileNetV2, V3, ...).
	GroupReference = "reference"
)

// TrainCurves draws a training run's curves: training loss and accuracy
// (moving averages) and validation accuracy at each evaluation. The figure is
// named train_curves_NAME.
func TrainCurves(run train.Run) (*plots.Figure, error) {
	loss := plots.Curve{Name: "training loss (EMA)"}
	acc := plots.Curve{Name: "training accuracy (EMA)", Unit: "%"}
	val := plots.Curve{Name: "validation accuracy", Unit: "%"}
	var steps []float64
	for _, rec := range run.Records {
		if rec.Event != "" && rec.Step == 0 {
			continue
		}
		steps = append(steps, float64(rec.Step))
		loss.Values = append(loss.Values, rec.TrainLoss)
		acc.Values = append(acc.Values, 100*rec.TrainAccuracy)
		v := math.NaN()
		if rec.Validation != nil {
			v = 100 * rec.Validation.Accuracy
		}
		val.Values = append(val.Values, v)
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("training run %s: no records", run.Name)
	}
	curves := []plots.Curve{loss, acc}
	if slices.ContainsFunc(val.Values, func(v float64) bool { return !math.IsNaN(v) }) {
		curves = append(curves, val)
	}
	kind := ""
	if run.Result != nil {
		kind = " (" + run.Result.Dataset.Kind + ")"
	}
	f, err := plots.Curves(plots.CurvesData{Title: fmt.Sprintf("Training run %s%s", run.Name, kind),
		Steps: steps, Curves: curves, StepLabel: "training step"})
	if err != nil {
		return nil, fmt.Errorf("training run %s: %w", run.Name, err)
	}
	return f.WithName("train_curves_" + fileStem(run.Name)), nil
}

// TrainedGroup classifies a trained architecture for the trade-off figures:
// GroupSearched when it is the final architecture of one of searches (or is
// named search_*), GroupPaper for the paper's MultiAVG/MAX, else
// GroupReference.
func TrainedGroup(a *blocks.Arch, searches []tunas.Run) string {
	for _, s := range searches {
		if sameArch(a, s.Result.Final.Arch) {
			return GroupSearched
		}
	}
	if a != nil && strings.HasPrefix(a.Name, "search") {
		return GroupSearched
	}
	for _, name := range PaperSearched {
		if p, err := blocks.Model(name); err == nil && sameArch(a, p) {
			return GroupPaper
		}
	}
	return GroupReference
}

// TradeoffDraws is the number of parameter draws behind the uncertainty
// bands of TrainedTradeoff.
const TradeoffDraws = 1000

// TrainedTradeoff draws the test accuracy of trained runs against the
// normalised AVG and MAX latency (under m) of their deployed architectures,
// with the Pareto front: one figure per dataset, named tradeoff_trained (one
// dataset) or tradeoff_trained_KIND. Models are grouped by TrainedGroup and
// labelled by run name (the last path element when unique). Runs without a
// test evaluation are left out; none at all is an error. Each point carries
// the 5%-95% band of its AVG and MAX under the cost models' parameter
// uncertainty (hwcost.Sensitivity, TradeoffDraws draws, seed 1).
func TrainedTradeoff(m *hwcost.Metric, runs []train.Run, searches []tunas.Run) ([]*plots.Figure, error) {
	names := make([]string, len(runs))
	var archs []*blocks.Arch
	for i, r := range runs {
		names[i] = r.Name
		if r.Result != nil && r.Result.Test != nil && r.Result.Arch != nil {
			archs = append(archs, r.Result.Arch)
		}
	}
	labels := shortNames(names)
	var spreads []hwcost.ArchSpread
	if len(archs) > 0 {
		sens, err := hwcost.Sensitivity(hwcost.SensitivityConfig{Metric: m, Archs: archs, Draws: TradeoffDraws, Seed: 1})
		if err != nil {
			return nil, err
		}
		spreads = sens.Archs
	}
	byKind := map[string]*plots.TradeoffData{}
	steps := map[string][]int{}
	for i, r := range runs {
		if r.Result == nil || r.Result.Test == nil || r.Result.Arch == nil {
			continue
		}
		res, err := m.Evaluate(r.Result.Arch)
		if err != nil {
			return nil, fmt.Errorf("training run %s: %w", r.Name, err)
		}
		kind := r.Result.Dataset.Kind
		d := byKind[kind]
		if d == nil {
			d = &plots.TradeoffData{AccuracyLabel: kind + " test accuracy (%)"}
			byKind[kind] = d
		}
		sp := spreads[0]
		spreads = spreads[1:]
		d.Models = append(d.Models, plots.Model{Name: labels[i], Group: TrainedGroup(r.Result.Arch, searches),
			Accuracy: 100 * r.Result.Test.Accuracy, Avg: res.Avg, Max: res.Max,
			AvgBand: [2]float64{sp.Avg.P05, sp.Avg.P95}, MaxBand: [2]float64{sp.Max.P05, sp.Max.P95}})
		steps[kind] = append(steps[kind], r.Result.Steps)
	}
	if len(byKind) == 0 {
		return nil, errNoTrained
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var figs []*plots.Figure
	for _, k := range kinds {
		d := byKind[k]
		s := steps[k]
		lo, hi := slices.Min(s), slices.Max(s)
		length := fmt.Sprintf("%d steps", lo)
		if lo != hi {
			length = fmt.Sprintf("%d to %d steps", lo, hi)
		}
		d.Title = fmt.Sprintf("Trained on %s (%s): test accuracy vs modelled latency normalised to %s", k, length, m.Reference())
		f, err := plots.Tradeoff(*d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		name := "tradeoff_trained"
		if len(kinds) > 1 {
			name += "_" + fileStem(k)
		}
		figs = append(figs, f.WithName(name))
	}
	return figs, nil
}

func trainFigures(e *env) ([]*plots.Figure, error) {
	if e.runs == nil {
		return nil, skipf("no runs directory given")
	}
	if len(e.runs.Trains) == 0 {
		return nil, skipf("no training run (DIR/.../%s) under %s", train.ResultFile, e.runs.Dir)
	}
	var figs []*plots.Figure
	for _, r := range e.runs.Trains {
		if len(r.Records) == 0 {
			continue
		}
		f, err := TrainCurves(r)
		if err != nil {
			return nil, err
		}
		figs = append(figs, f)
	}
	trade, err := TrainedTradeoff(e.metric, e.runs.Trains, e.runs.Searches)
	if err != nil && !errors.Is(err, errNoTrained) {
		return nil, err
	}
	figs = append(figs, trade...)
	if len(figs) == 0 {
		return nil, skipf("the training runs under %s have no records and no test evaluation", e.runs.Dir)
	}
	return figs, nil
}

var errNoTrained = errors.New("no trained run with a test evaluation")
