package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/hwcost/devicedata"
	"github.com/multihw/multihw/hwcost/predict"
	"github.com/multihw/multihw/plots"
	"github.com/multihw/multihw/train"
)

func init() {
	register(&command{name: "figures", summary: "write every figure of the project's data and runs as PNG and SVG", run: runFigures})
}

// figureSource produces some of the project's figures. Sources that need a
// run read its result files under the --runs directory and return a skip
// (see skipf) when there is none, so `multihw figures` always writes what it
// can. To add figures (search curves, controller probabilities, NAS-Bench-201
// winners, ...), append a source to figureSources: a name, a one-line summary
// and a function from the context to figures with unique names.
type figureSource struct {
	name, summary string
	make          func(fc *figureContext) ([]*plots.Figure, error)
}

// figureContext is what every source may use.
type figureContext struct {
	// runs is the --runs directory ("" when not given).
	runs string
	// metric is the multi-hardware metric of the chosen targets and reference.
	metric *hwcost.Metric
	seed   uint64
}

// skipError says why a source has nothing to draw (its data is absent).
type skipError struct{ reason string }

func (e *skipError) Error() string { return e.reason }

func skipf(format string, args ...any) error { return &skipError{fmt.Sprintf(format, args...)} }

// figureSources are the producers, in output order.
var figureSources = []figureSource{
	{"references", "normalised latency of the reference models on each target; published ImageNet top-1 vs AVG/MAX latency", referenceFigures},
	{"breakdown", "where MobileNet-MultiHW-AVG's time goes on each target, by op type", breakdownFigures},
	{"arch", "block diagrams of MultiAVG, MultiMAX and MobileNetV2", archFigures},
	{"cost_fit", "analytic latency models: leave-one-model-out prediction vs published latency, every target", costFitFigures},
	{"device_predictor", "structured latency predictor vs real measurements (NAS-Bench-201 on the Pixel 4 stand-ins)", devicePredictorFigures},
	{"train", "training runs under --runs: curves per run, test accuracy vs AVG/MAX latency", trainFigures},
}

type figureFiles struct {
	Source string   `json:"source"`
	Name   string   `json:"name"`
	Files  []string `json:"files"`
}

type figureSkip struct {
	Source string `json:"source"`
	Reason string `json:"reason"`
}

func runFigures(args []string) error {
	fs := newFlags("figures", "--out DIR [--runs DIR] [--only LIST] [--hardware LIST] [--reference NAME] [--scale S] [--seed N] [--list] [--json]")
	out := fs.String("out", "", "output directory (created if needed); every figure is written as NAME.png and NAME.svg")
	runs := fs.String("runs", "", "directory of runs (e.g. training output directories, one per sub-directory) for the run figures")
	only := fs.String("only", "", "comma-separated sources to run (see --list; default all)")
	hw := fs.String("hardware", "paper", "targets of the latency figures (comma-separated, groups paper, mnv4, all)")
	ref := fs.String("reference", hwcost.DefaultReference, "reference model of the normalised latencies")
	scale := fs.Float64("scale", 1, "pixel scale of the PNGs (2: twice the pixels, same layout)")
	seed := fs.Uint64("seed", 1, "seed of the predictor's training draw")
	list := fs.Bool("list", false, "list the figure sources and exit")
	asJSON := fs.Bool("json", false, "print the files written and the sources skipped as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *list {
		for _, s := range figureSources {
			fmt.Printf("%-17s %s\n", s.name, s.summary)
		}
		return nil
	}
	if *out == "" {
		return fmt.Errorf("missing --out DIR")
	}
	if !(*scale > 0 && *scale <= 8) {
		return fmt.Errorf("--scale must be in (0, 8], got %g", *scale)
	}
	sources, err := selectSources(*only)
	if err != nil {
		return err
	}
	if *runs != "" {
		if st, err := os.Stat(*runs); err != nil || !st.IsDir() {
			return fmt.Errorf("--runs %s: not a directory", *runs)
		}
	}
	m, err := hwcost.NewMetric().Targets(strings.Split(*hw, ",")...).ReferenceModel(*ref).Done()
	if err != nil {
		return err
	}
	fc := &figureContext{runs: *runs, metric: m, seed: *seed}
	log := io.Writer(os.Stderr)
	var written []figureFiles
	var skipped []figureSkip
	names := map[string]string{} // figure name → source, across sources
	for _, s := range sources {
		start := time.Now()
		figs, err := s.make(fc)
		var skip *skipError
		if errors.As(err, &skip) {
			fmt.Fprintf(log, "%-17s skipped: %s\n", s.name, skip.reason)
			skipped = append(skipped, figureSkip{s.name, skip.reason})
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		for _, f := range figs {
			if prev, dup := names[f.Name]; dup {
				return fmt.Errorf("%s: figure name %q is also produced by %s", s.name, f.Name, prev)
			}
			names[f.Name] = s.name
		}
		paths, err := plots.WriteFiles(*out, *scale, figs...)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		for i, f := range figs {
			written = append(written, figureFiles{Source: s.name, Name: f.Name, Files: paths[2*i : 2*i+2]})
		}
		fmt.Fprintf(log, "%-17s %d figures in %.1f s\n", s.name, len(figs), time.Since(start).Seconds())
	}
	if *asJSON {
		return printJSON(struct {
			Out     string        `json:"out"`
			Figures []figureFiles `json:"figures"`
			Skipped []figureSkip  `json:"skipped"`
		}{*out, written, skipped})
	}
	fmt.Printf("%d figures (PNG + SVG) in %s", len(written), *out)
	if len(skipped) > 0 {
		fmt.Printf("; %d sources skipped", len(skipped))
	}
	fmt.Println()
	return nil
}

func selectSources(only string) ([]figureSource, error) {
	if strings.TrimSpace(only) == "" {
		return figureSources, nil
	}
	var out []figureSource
	for _, n := range strings.Split(only, ",") {
		n = strings.TrimSpace(n)
		i := slices.IndexFunc(figureSources, func(s figureSource) bool { return s.name == n })
		if i < 0 {
			valid := make([]string, len(figureSources))
			for j, s := range figureSources {
				valid[j] = s.name
			}
			return nil, fmt.Errorf("--only: unknown figure source %q (valid: %s)", n, strings.Join(valid, ", "))
		}
		out = append(out, figureSources[i])
	}
	return out, nil
}

// searchedModels are the paper's searched models, drawn as "searched" in
// trade-off figures; the other reference models are "reference".
var searchedModels = []string{"multi_avg", "multi_max"}

func referenceFigures(fc *figureContext) ([]*plots.Figure, error) {
	m := fc.metric
	bars := plots.TargetBarsData{Targets: m.TargetNames(), Reference: 1, ReferenceName: m.Reference(),
		Title: fmt.Sprintf("Modelled latency per target, normalised to %s", m.Reference())}
	var trade plots.TradeoffData
	var noAcc []string
	for _, name := range hwcost.ReportModels {
		a, err := blocks.Model(name)
		if err != nil {
			return nil, err
		}
		res, err := m.Evaluate(a)
		if err != nil {
			return nil, err
		}
		row := plots.LatencyRow{Name: name, Note: fmt.Sprintf("AVG %.2f MAX %.2f", res.Avg, res.Max)}
		for _, t := range res.Targets {
			row.Latency = append(row.Latency, res.Normalized[t])
		}
		bars.Models = append(bars.Models, row)
		top1, ok := blocks.PublishedTop1(name)
		if !ok {
			noAcc = append(noAcc, name)
			continue
		}
		group := "reference"
		if slices.Contains(searchedModels, name) {
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
	tr.Name = "tradeoff_published"
	return []*plots.Figure{tb, tr}, nil
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

func breakdownFigures(fc *figureContext) ([]*plots.Figure, error) {
	const model = "multi_avg"
	a, err := blocks.Model(model)
	if err != nil {
		return nil, err
	}
	bds, err := fc.metric.Breakdowns(a)
	if err != nil {
		return nil, err
	}
	if len(bds) == 0 {
		return nil, skipf("no analytic target among %v", fc.metric.TargetNames())
	}
	groups := make([]string, 0, len(opGroups)+2)
	for _, g := range opGroups {
		groups = append(groups, g.name)
	}
	groups = append(groups, "fixed overhead", "weight streaming")
	d := plots.BreakdownData{Title: "MobileNet-MultiHW-AVG: share of each op type in the modelled latency", Groups: groups}
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
	// Groups that are zero on every target only clutter the legend.
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
	f, err := plots.Breakdown(d)
	if err != nil {
		return nil, err
	}
	f.Name = "breakdown_" + model
	return []*plots.Figure{f}, nil
}

func archFigures(*figureContext) ([]*plots.Figure, error) {
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

func costFitFigures(*figureContext) ([]*plots.Figure, error) {
	res, err := hwcost.NewFitter().Run()
	if err != nil {
		return nil, err
	}
	d := plots.CostFitData{Title: "Analytic latency models: prediction without the model (leave one out) vs published latency"}
	for _, t := range res.Targets {
		if len(t.Rows) < 2 {
			continue // not fitted (see t.Note)
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
		return nil, skipf("no target has published latencies to fit")
	}
	f, err := plots.CostFit(d)
	if err != nil {
		return nil, err
	}
	return []*plots.Figure{f}, nil
}

// pixel4Labels name devicedata.Pixel4Targets (BRP-NAS columns of the
// Snapdragon 855, the Pixel 4's chip, and the Coral EdgeTPU) in figures.
var pixel4Labels = map[string]string{
	devicedata.SD855CPU: "SD855 CPU",
	devicedata.SD855GPU: "SD855 GPU",
	devicedata.SD855DSP: "SD855 DSP",
	devicedata.EdgeTPU:  "Coral EdgeTPU",
}

// devicePredictorTrain is the number of measured cells the predictor learns from.
const devicePredictorTrain = 900

func devicePredictorFigures(fc *figureContext) ([]*plots.Figure, error) {
	d := plots.CostFitData{Title: fmt.Sprintf("Structured latency predictor fitted on %d measured NAS-Bench-201 cells, tested on the others", devicePredictorTrain)}
	for _, col := range devicedata.Pixel4Targets {
		label := pixel4Labels[col]
		if label == "" {
			label = col
		}
		ds, err := predict.Load(devicedata.NameBRPNAS, col)
		if err != nil {
			return nil, err
		}
		tr, te, err := ds.Split(devicePredictorTrain, fc.seed)
		if err != nil {
			return nil, err
		}
		p := predict.NewStructured().Seed(fc.seed)
		if err := p.Fit(tr); err != nil {
			return nil, fmt.Errorf("%s: %w", label, err)
		}
		fs := plots.FitSeries{Target: label, Measured: te.Latency, Predicted: make([]float64, te.Len())}
		for i, a := range te.Archs {
			fs.Predicted[i] = p.Predict(a)
		}
		d.Fits = append(d.Fits, fs)
	}
	f, err := plots.CostFit(d)
	if err != nil {
		return nil, err
	}
	f.Name = "device_predictor"
	return []*plots.Figure{f}, nil
}

// trainRun is a training output directory (`multihw train --out DIR`).
type trainRun struct {
	name    string
	result  train.Result
	records []train.Record
}

// findTrainRuns returns the runs directly under dir, sorted by name.
func findTrainRuns(dir string) ([]trainRun, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var runs []trainRun
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		raw, err := os.ReadFile(filepath.Join(p, train.ResultFile))
		if errors.Is(err, os.ErrNotExist) {
			continue // not a finished training run
		} else if err != nil {
			return nil, err
		}
		r := trainRun{name: e.Name()}
		if err := json.Unmarshal(raw, &r.result); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(p, train.ResultFile), err)
		}
		if raw, err = os.ReadFile(filepath.Join(p, train.MetricsFile)); err != nil {
			return nil, fmt.Errorf("run %s: %w", p, err)
		}
		for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			var rec train.Record
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				return nil, fmt.Errorf("%s line %d: %w", filepath.Join(p, train.MetricsFile), i+1, err)
			}
			r.records = append(r.records, rec)
		}
		runs = append(runs, r)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].name < runs[j].name })
	return runs, nil
}

func trainFigures(fc *figureContext) ([]*plots.Figure, error) {
	if fc.runs == "" {
		return nil, skipf("no --runs DIR given")
	}
	runs, err := findTrainRuns(fc.runs)
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, skipf("no training run (DIR/*/%s) in %s", train.ResultFile, fc.runs)
	}
	var figs []*plots.Figure
	var trade plots.TradeoffData
	datasets := map[string]bool{}
	for _, r := range runs {
		loss := plots.Curve{Name: "training loss (EMA)"}
		acc := plots.Curve{Name: "training accuracy (EMA)", Unit: "%"}
		val := plots.Curve{Name: "validation accuracy", Unit: "%"}
		var steps []float64
		for _, rec := range r.records {
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
			continue
		}
		curves := []plots.Curve{loss, acc}
		if slices.ContainsFunc(val.Values, func(v float64) bool { return !math.IsNaN(v) }) {
			curves = append(curves, val)
		}
		f, err := plots.Curves(plots.CurvesData{Title: fmt.Sprintf("Training run %s (%s)", r.name, r.result.Dataset.Kind),
			Steps: steps, Curves: curves, StepLabel: "training step"})
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", r.name, err)
		}
		f.Name = "train_curves_" + fileStemOf(r.name)
		figs = append(figs, f)
		if r.result.Test != nil && r.result.Arch != nil {
			res, err := fc.metric.Evaluate(r.result.Arch)
			if err != nil {
				return nil, fmt.Errorf("run %s: %w", r.name, err)
			}
			datasets[r.result.Dataset.Kind] = true
			trade.Models = append(trade.Models, plots.Model{Name: r.name, Group: r.result.Dataset.Kind,
				Accuracy: 100 * r.result.Test.Accuracy, Avg: res.Avg, Max: res.Max})
		}
	}
	if len(trade.Models) > 0 {
		kinds := make([]string, 0, len(datasets))
		for k := range datasets {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		trade.AccuracyLabel = "test accuracy (%)"
		trade.Title = "Trained runs (" + strings.Join(kinds, ", ") + "): test accuracy vs modelled latency of the deployed architecture"
		f, err := plots.Tradeoff(trade)
		if err != nil {
			return nil, err
		}
		f.Name = "tradeoff_trained"
		figs = append(figs, f)
	}
	if len(figs) == 0 {
		return nil, skipf("the training runs in %s have no records", fc.runs)
	}
	return figs, nil
}

// fileStemOf makes a run directory name usable as part of a figure name.
func fileStemOf(s string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
