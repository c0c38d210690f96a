package figset

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/hwcost/devicedata"
	"github.com/multihw/multihw/hwcost/predict"
	"github.com/multihw/multihw/nas/nb201"
	"github.com/multihw/multihw/plots"
)

// PaperSearched are the paper's searched models (MobileNet-MultiHW-AVG and
// -MAX), drawn as "searched" among the published models.
var PaperSearched = []string{"multi_avg", "multi_max"}

// ReferenceBars returns the normalised latency of each of the zoo's models
// (blocks.Model names) on every target of m as plots.TargetBars data.
func ReferenceBars(m *hwcost.Metric, models []string) (plots.TargetBarsData, error) {
	archs, err := blocks.Models(models...)
	if err != nil {
		return plots.TargetBarsData{}, err
	}
	return LatencyBars(m, archs...)
}

// LatencyBars returns the normalised latency of each architecture on every
// target of m as plots.TargetBars data: bars named after the architectures,
// with AVG and MAX under each name and a line at the reference.
func LatencyBars(m *hwcost.Metric, archs ...*blocks.Arch) (plots.TargetBarsData, error) {
	d := plots.TargetBarsData{Targets: m.TargetNames(), Reference: 1, ReferenceName: m.Reference(),
		Title: fmt.Sprintf("Modelled latency per target, normalised to %s", m.Reference())}
	for _, a := range archs {
		if a == nil {
			return d, fmt.Errorf("latency bars: nil architecture")
		}
		row, err := latencyRow(m, a.Name, a)
		if err != nil {
			return d, err
		}
		d.Models = append(d.Models, row)
	}
	return d, nil
}

func latencyRow(m *hwcost.Metric, name string, a *blocks.Arch) (plots.LatencyRow, error) {
	res, err := m.Evaluate(a)
	if err != nil {
		return plots.LatencyRow{}, fmt.Errorf("%s: %w", name, err)
	}
	row := plots.LatencyRow{Name: name, Note: fmt.Sprintf("AVG %.2f MAX %.2f", res.Avg, res.Max)}
	for _, t := range res.Targets {
		row.Latency = append(row.Latency, res.Normalized[t])
	}
	return row, nil
}

func referenceFigures(e *env) ([]*plots.Figure, error) {
	m := e.metric
	bars, err := ReferenceBars(m, hwcost.ReportModels)
	if err != nil {
		return nil, err
	}
	var trade plots.TradeoffData
	var noAcc []string
	for _, name := range hwcost.ReportModels {
		top1, ok := blocks.PublishedTop1(name)
		if !ok {
			noAcc = append(noAcc, name)
			continue
		}
		a, err := blocks.Model(name)
		if err != nil {
			return nil, err
		}
		res, err := m.Evaluate(a)
		if err != nil {
			return nil, err
		}
		group := "reference"
		if slices.Contains(PaperSearched, name) {
			group = "searched"
		}
		trade.Models = append(trade.Models, plots.Model{Name: name, Group: group, Accuracy: top1.Percent, Avg: res.Avg, Max: res.Max})
	}
	tb, err := plots.TargetBars(bars)
	if err != nil {
		return nil, err
	}
	trade.AccuracyLabel = "ImageNet top-1 (%), published"
	trade.Title = "Published ImageNet top-1 vs modelled normalised latency"
	if len(noAcc) > 0 {
		trade.Title += " (no published accuracy: " + strings.Join(noAcc, ", ") + ")"
	}
	tr, err := plots.Tradeoff(trade)
	if err != nil {
		return nil, err
	}
	return []*plots.Figure{tb, tr.WithName("tradeoff_published")}, nil
}

// opGroups gathers primitive ops into the layer groups of the breakdown.
var opGroups = []struct {
	name string
	ops  []blocks.Op
}{
	{"full conv (stem)", []blocks.Op{blocks.OpConv}},
	{"fused expansion", []blocks.Op{blocks.OpFused}},
	{"1×1 conv", []blocks.Op{blocks.OpPW}},
	{"depthwise", []blocks.Op{blocks.OpDW}},
	{"residual add", []blocks.Op{blocks.OpAdd}},
	{"pool + FC", []blocks.Op{blocks.OpPool, blocks.OpFC}},
}

// OpBreakdown returns where a's modelled latency goes on each analytic target
// of m, by op type, plus the fixed per-inference overhead and the weight
// streaming; groups that are zero on every target are left out. ok is false
// when m has no analytic target.
func OpBreakdown(m *hwcost.Metric, a *blocks.Arch, title string) (d plots.BreakdownData, ok bool, err error) {
	bds, err := m.Breakdowns(a)
	if err != nil {
		return d, false, err
	}
	if len(bds) == 0 {
		return d, false, nil
	}
	groups := make([]string, 0, len(opGroups)+2)
	for _, g := range opGroups {
		groups = append(groups, g.name)
	}
	groups = append(groups, "fixed overhead", "weight streaming")
	d = plots.BreakdownData{Title: title, Groups: groups}
	for _, bd := range bds {
		row := make([]float64, len(groups))
		for _, l := range bd.Layers {
			for g, og := range opGroups {
				if slices.Contains(og.ops, l.Op) {
					row[g] += l.Ms
				}
			}
		}
		row[len(opGroups)], row[len(opGroups)+1] = bd.FixedMs, bd.SpillMs
		d.Targets = append(d.Targets, bd.Target)
		d.Latency = append(d.Latency, row)
	}
	for g := len(d.Groups) - 1; g >= 0; g-- {
		zero := true
		for _, row := range d.Latency {
			zero = zero && row[g] == 0
		}
		if zero {
			d.Groups = slices.Delete(d.Groups, g, g+1)
			for t := range d.Latency {
				d.Latency[t] = slices.Delete(d.Latency[t], g, g+1)
			}
		}
	}
	return d, true, nil
}

func breakdownFigures(e *env) ([]*plots.Figure, error) {
	const model = "multi_avg"
	a, err := blocks.Model(model)
	if err != nil {
		return nil, err
	}
	d, ok, err := OpBreakdown(e.metric, a, "MobileNet-MultiHW-AVG: share of each op type in the modelled latency")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, skipf("no analytic target among %v", e.metric.TargetNames())
	}
	f, err := plots.Breakdown(d)
	if err != nil {
		return nil, err
	}
	return []*plots.Figure{f.WithName("breakdown_" + model)}, nil
}

func archFigures(*env) ([]*plots.Figure, error) {
	var figs []*plots.Figure
	for _, name := range []string{"multi_avg", "multi_max", "mobilenet_v2"} {
		a, err := blocks.Model(name)
		if err != nil {
			return nil, err
		}
		f, err := plots.ArchDiagram(a)
		if err != nil {
			return nil, err
		}
		figs = append(figs, f)
	}
	return figs, nil
}

func costFitFigures(e *env) ([]*plots.Figure, error) {
	res, err := hwcost.NewFitter().Targets(e.metric.TargetNames()...).Run()
	if err != nil {
		return nil, err
	}
	f, err := CostFit(res)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, skipf("no target among %v has published latencies to fit", e.metric.TargetNames())
	}
	return []*plots.Figure{f}, nil
}

// CostFit draws a fit's leave-one-model-out predictions against the
// published latencies, one panel per fitted target (targets with fewer than
// two rows are not fitted, see their Note). The figure is named cost_fit; it
// is nil when no target was fitted.
func CostFit(res *hwcost.FitResult) (*plots.Figure, error) {
	d := plots.CostFitData{Title: "Analytic latency models: prediction without the model (leave one out) vs published latency"}
	for _, t := range res.Targets {
		if len(t.Rows) < 2 {
			continue
		}
		fs := plots.FitSeries{Target: t.Target}
		for _, r := range t.Rows {
			fs.Measured = append(fs.Measured, r.MeasuredMs)
			fs.Predicted = append(fs.Predicted, r.HeldOutMs)
			fs.Names = append(fs.Names, r.Model)
		}
		d.Fits = append(d.Fits, fs)
	}
	if len(d.Fits) == 0 {
		return nil, nil
	}
	f, err := plots.CostFit(d)
	if err != nil {
		return nil, err
	}
	return f.WithName("cost_fit"), nil
}

// Pixel4Labels name devicedata.Pixel4Targets (BRP-NAS columns of the
// Snapdragon 855, the Pixel 4's chip, and the Coral EdgeTPU) in figures.
var Pixel4Labels = map[string]string{
	devicedata.SD855CPU: "SD855 CPU",
	devicedata.SD855GPU: "SD855 GPU",
	devicedata.SD855DSP: "SD855 DSP",
	devicedata.EdgeTPU:  "Coral EdgeTPU",
}

// DevicePredictorTrain is the number of measured cells the device predictor
// figure's predictor learns from.
const DevicePredictorTrain = 900

func devicePredictorFigures(e *env) ([]*plots.Figure, error) {
	f, _, err := DevicePredictors(DevicePredictorTrain, e.seed)
	if err != nil {
		return nil, err
	}
	return []*plots.Figure{f}, nil
}

// DevicePredictors fits the lookup and the structured latency predictors on
// train measured NAS-Bench-201 cells of each Pixel 4 stand-in
// (devicedata.Pixel4Targets, BRP-NAS), drawn with seed, and tests them on the
// other cells: the figure (named device_predictor) draws the structured
// predictor's predictions against the measurements, the comparisons give
// both predictors' figures.
func DevicePredictors(train int, seed uint64) (*plots.Figure, []predict.Comparison, error) {
	d := plots.CostFitData{Title: fmt.Sprintf("Structured latency predictor fitted on %d measured NAS-Bench-201 cells, tested on the others", train)}
	var rows []predict.Comparison
	for _, col := range devicedata.Pixel4Targets {
		label := Pixel4Labels[col]
		if label == "" {
			label = col
		}
		ds, err := predict.Load(devicedata.NameBRPNAS, col)
		if err != nil {
			return nil, nil, err
		}
		tr, te, err := ds.Split(train, seed)
		if err != nil {
			return nil, nil, err
		}
		c := predict.Comparison{File: devicedata.NameBRPNAS, Column: label}
		if c.Lookup, err = predict.Evaluate(predict.NewLookup(), tr, te); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", label, err)
		}
		p := predict.NewStructured().Seed(seed)
		if c.Structured, err = predict.Evaluate(p, tr, te); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", label, err)
		}
		c.Lambda, c.Trees = p.Chosen()
		rows = append(rows, c)
		fs := plots.FitSeries{Target: label, Measured: te.Latency, Predicted: make([]float64, te.Len())}
		for i, a := range te.Archs {
			fs.Predicted[i] = p.Predict(a)
		}
		d.Fits = append(d.Fits, fs)
	}
	f, err := plots.CostFit(d)
	if err != nil {
		return nil, nil, err
	}
	return f.WithName("device_predictor"), rows, nil
}

// NB201Budgets are the budgets of the NAS-Bench-201 comparison figures.
var NB201Budgets = []float64{0.3, 0.5}

// NB201Comparison draws the paper's key comparison on real measurements:
// the winners of each single-target objective and of AVG and MAX at budget,
// measured on every target (nb201.Bench.Compare). bn nil means the default
// bench (Snapdragon 855 CPU/GPU/DSP and EdgeTPU, CIFAR-10 accuracy). The
// figure is named nb201_compare_BUDGET.
func NB201Comparison(bn *nb201.Bench, budget float64) (*plots.Figure, *nb201.Comparison, error) {
	if bn == nil {
		var err error
		if bn, err = nb201.New().Build(); err != nil {
			return nil, nil, err
		}
	}
	c, err := bn.Compare(budget)
	if err != nil {
		return nil, nil, err
	}
	f, err := plots.DeviceComparison(NB201ComparisonData(c))
	if err != nil {
		return nil, nil, err
	}
	return f.WithName(fmt.Sprintf("nb201_compare_%g", budget)), c, nil
}

// AdaptCurveData adapts few-shot fit curves (`multihw cost adapt --curve`)
// to [plots.AdaptCurve]. Sizes whose mean Spearman is undefined (a seed's
// test set without a rank order) are left out, devices without any size
// too; a size whose interval is undefined is drawn without a bar, and a
// device's MACs line only where every drawn size has one.
func AdaptCurveData(curves ...*hwcost.Curve) plots.AdaptCurveData {
	var d plots.AdaptCurveData
	for _, cv := range curves {
		cs := plots.CurveSeries{Device: cv.Device}
		macsOK := true
		for _, p := range cv.Points {
			if math.IsNaN(p.Spearman) {
				continue
			}
			e := plots.Estimate{Value: p.Spearman, Lo: float64(p.SpearmanCI.Lo), Hi: float64(p.SpearmanCI.Hi)}
			if !e.HasSpread() {
				e = plots.Exact(p.Spearman)
			}
			cs.Train = append(cs.Train, p.Train)
			cs.Spearman = append(cs.Spearman, e)
			cs.MACs = append(cs.MACs, p.MACsSpearman)
			macsOK = macsOK && !math.IsNaN(p.MACsSpearman)
		}
		if !macsOK {
			cs.MACs = nil
		}
		if len(cs.Train) > 0 {
			d.Curves = append(d.Curves, cs)
		}
	}
	if len(curves) > 0 {
		d.Title = fmt.Sprintf("A new device from a few measurements (%s; seeds %s: mean and 95%% interval)", curves[0].Data, curves[0].SeedsLabel())
	}
	return d
}

// NB201ComparisonData adapts a comparison to [plots.DeviceComparison]; rows without a
// winner are left out.
func NB201ComparisonData(c *nb201.Comparison) plots.DeviceComparisonData {
	d := plots.DeviceComparisonData{
		Budget:       c.Budget,
		AccuracyName: nb201.DatasetLabel(c.Dataset),
	}
	d.Title = fmt.Sprintf("NAS-Bench-201 winners at budget %g, measured on every target (%s)", c.Budget, nb201.DatasetLabel(c.Dataset))
	for _, t := range c.Targets {
		d.Targets = append(d.Targets, nb201.ShortName(t))
	}
	for _, r := range c.Rows {
		if !r.Found {
			continue
		}
		d.Winners = append(d.Winners, plots.Winner{Objective: r.Label, Arch: fmt.Sprintf("#%d", r.Index),
			Accuracy: r.Accuracy, Latency: append([]float64(nil), r.Relative...)})
	}
	return d
}

func nb201Figures(*env) ([]*plots.Figure, error) {
	bn, err := nb201.New().Build()
	if err != nil {
		return nil, err
	}
	var figs []*plots.Figure
	for _, b := range NB201Budgets {
		f, _, err := NB201Comparison(bn, b)
		if err != nil {
			return nil, fmt.Errorf("budget %g: %w", b, err)
		}
		figs = append(figs, f)
	}
	return figs, nil
}
