package figset

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/internal/stats"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/nas/tunas"
	"github.com/multihw/multihw/plots"
	"github.com/multihw/multihw/train"
)

// writeSearch runs a short search with a synthetic quality (no training) on
// the multihw space into dir: a real search.json in seconds.
func writeSearch(t *testing.T, dir string) *tunas.Result {
	t.Helper()
	cfg := tunas.DefaultConfig()
	cfg.Steps, cfg.Snapshots = 40, 4
	cfg.Controller.LR = tunas.ControllerLR(cfg.Steps)
	res, err := tunas.New(cfg).Out(dir).SyntheticQuality(func(p nas.Point) float64 { return 0.5 + 0.01*float64(p[0]) }).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// writeTrain writes a finished training run as `multihw train --out` does:
// result.json and metrics.jsonl.
func writeTrain(t *testing.T, dir string, arch *blocks.Arch, kind string, acc float64) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	res := train.Result{Arch: arch, Steps: 300, Test: &train.EvalResult{N: 100, Accuracy: acc}}
	res.Dataset.Kind = kind
	raw, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var metrics bytes.Buffer
	for step, a := range []float64{0.5, 0.7, acc} {
		rec := train.Record{Step: 100 * (step + 1), TrainLoss: 1 - a, TrainAccuracy: a,
			Validation: &train.EvalSummary{N: 10, Accuracy: a - 0.05}}
		b, _ := json.Marshal(rec)
		metrics.Write(append(b, '\n'))
	}
	if err := os.WriteFile(filepath.Join(dir, train.ResultFile), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, train.MetricsFile), metrics.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func model(t *testing.T, name string) *blocks.Arch {
	t.Helper()
	a, err := blocks.Model(name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func figureNames(res *Result) []string {
	var names []string
	for _, f := range res.Figures {
		names = append(names, f.Name)
	}
	return names
}

// TestRuns discovers the evidence layout (DIR/avg, DIR/train/NAME) and draws
// the search and training figures from it.
func TestRuns(t *testing.T) {
	runs := t.TempDir()
	sres := writeSearch(t, filepath.Join(runs, "avg"))
	// The searched architecture, renamed: it is still recognised as searched.
	found := *sres.Final.Arch
	found.Name = "my_model"
	writeTrain(t, filepath.Join(runs, "train", "found"), &found, "fashion-mnist", 0.80)
	writeTrain(t, filepath.Join(runs, "train", "multi_avg"), model(t, "multi_avg"), "fashion-mnist", 0.85)
	writeTrain(t, filepath.Join(runs, "train", "mobilenet_v2"), model(t, "mobilenet_v2"), "fashion-mnist", 0.83)
	// Unfinished, hidden and checkpoint directories are not runs.
	if err := os.MkdirAll(filepath.Join(runs, "train", "running", train.CheckpointsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	writeTrain(t, filepath.Join(runs, ".hidden"), model(t, "multi_max"), "fashion-mnist", 0.9)
	writeTrain(t, filepath.Join(runs, "train", "multi_avg", train.CheckpointsDir, "x"), model(t, "multi_max"), "fashion-mnist", 0.9)

	rs, err := FindRuns(runs)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range rs.Searches {
		got = append(got, "search:"+s.Name)
	}
	for _, r := range rs.Trains {
		got = append(got, "train:"+r.Name)
	}
	want := []string{"search:avg", "train:train/found", "train:train/mobilenet_v2", "train:train/multi_avg"}
	if !slices.Equal(got, want) {
		t.Errorf("runs %q, want %q", got, want)
	}
	if len(rs.Pending) != 1 || !strings.HasPrefix(rs.Pending[0], "train/running:") {
		t.Errorf("pending %q, want train/running", rs.Pending)
	}
	if len(rs.Trains) > 0 && len(rs.Trains[0].Records) != 3 {
		t.Errorf("%s: %d records, want 3", rs.Trains[0].Name, len(rs.Trains[0].Records))
	}

	var progress strings.Builder
	res, err := New().Runs(runs).Only("search", "train").Progress(&progress).Make()
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"search_avg_curves", "search_avg_probs", "search_targets",
		"train_curves_train_found", "train_curves_train_mobilenet_v2", "train_curves_train_multi_avg", "tradeoff_trained"}
	if names := figureNames(res); !slices.Equal(names, want) {
		t.Errorf("figures %q, want %q", names, want)
	}
	if len(res.Skipped) != 0 {
		t.Errorf("skipped %v", res.Skipped)
	}
	if !strings.Contains(progress.String(), "train/running") {
		t.Errorf("progress does not mention the unfinished run:\n%s", progress.String())
	}
	trade, ok := res.Lookup("tradeoff_trained")
	if !ok {
		t.Fatal("no tradeoff_trained")
	}
	legend := trade.LegendEntries()
	for _, g := range []string{GroupSearched, GroupPaper, GroupReference} {
		if !slices.Contains(legend, g) {
			t.Errorf("trade-off legend %q lacks group %q", legend, g)
		}
	}
	if bars, _ := res.Lookup("search_targets"); bars == nil || !strings.Contains(strings.Join(bars.LegendEntries(), ","), "pixel4-cpu") {
		t.Errorf("search_targets: legend %v", bars.LegendEntries())
	}

	out := t.TempDir()
	files, err := res.Write(out, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(want) {
		t.Fatalf("%d files written, want %d", len(files), len(want))
	}
	for _, f := range files {
		png, err := os.ReadFile(f.Files[0])
		if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) || filepath.Base(f.Files[0]) != f.Name+".png" {
			t.Errorf("%s: %v is not NAME.png (%v)", f.Name, f.Files, err)
		}
	}

	pngDir := filepath.Join(t.TempDir(), "png")
	files, err = res.WritePNG(pngDir, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(pngDir)
	if len(files) != len(want) || len(entries) != len(want) || len(files[0].Files) != 1 {
		t.Errorf("WritePNG: %d files, %d entries, want %d PNGs only", len(files), len(entries), len(want))
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(must(os.ReadFile(files[0].Files[0])))); err != nil {
		t.Error(err)
	} else if w, _ := res.Figures[0].DefaultSize(); cfg.Width != (w+1)/2 {
		t.Errorf("WritePNG at scale 0.5: width %d, want %d", cfg.Width, (w+1)/2)
	}

	// A second dataset gets its own trade-off figure.
	writeTrain(t, filepath.Join(runs, "cifar", "multi_avg"), model(t, "multi_avg"), "cifar10", 0.7)
	res, err = New().Runs(runs).Only("train").Make()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"tradeoff_trained_cifar10", "tradeoff_trained_fashion-mnist", "train_curves_cifar_multi_avg"} {
		if _, ok := res.Lookup(n); !ok {
			t.Errorf("no figure %s among %q", n, figureNames(res))
		}
	}

	// A corrupt result is an error naming the file, not a skip.
	bad := filepath.Join(runs, "train", "broken")
	writeTrain(t, bad, model(t, "multi_avg"), "fashion-mnist", 0.5)
	if err := os.WriteFile(filepath.Join(bad, train.ResultFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New().Runs(runs).Only("train").Make(); err == nil || !strings.Contains(err.Error(), filepath.Join("broken", train.ResultFile)) {
		t.Errorf("corrupt result.json: error %v, want one naming the file", err)
	}
}

// TestStaticSources draws the figures that need no run and checks names and
// skips.
func TestStaticSources(t *testing.T) {
	res, err := New().Only("references", "breakdown", "arch", "cost_fit", "nb201", "search", "train").Make()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"target_bars", "tradeoff_published", "breakdown_multi_avg", "arch_multi_avg", "arch_multi_max",
		"arch_mobilenet_v2", "cost_fit", "nb201_compare_0.3", "nb201_compare_0.5"}
	if names := figureNames(res); !slices.Equal(names, want) {
		t.Errorf("figures %q, want %q", names, want)
	}
	if len(res.Skipped) != 2 || res.Skipped[0].Source != "search" || res.Skipped[1].Source != "train" ||
		!strings.Contains(res.Skipped[0].Reason, "no runs directory") {
		t.Errorf("skipped %+v, want search and train (no runs directory)", res.Skipped)
	}
	// The cost fit has one panel per chosen target with published latencies.
	if f, _ := res.Lookup("cost_fit"); f == nil || len(f.Panels) != len(hwcost.PaperTargets()) {
		t.Errorf("cost_fit: want %d panels", len(hwcost.PaperTargets()))
	}
	// Every objective of the NAS-Bench-201 comparison at 0.5 has a winner.
	if f, _ := res.Lookup("nb201_compare_0.5"); f == nil || f.Panels[0].NumBars() != 6*4 {
		t.Errorf("nb201_compare_0.5: want 6 winners × 4 targets bars")
	}
}

func TestBadInput(t *testing.T) {
	for name, s := range map[string]*Set{
		"unknown source":  New().Only("references", "nope"),
		"missing runs":    New().Runs(filepath.Join(t.TempDir(), "missing")),
		"unknown target":  New().Targets("pixel9-cpu"),
		"no targets":      New().Targets(),
		"unknown ref":     New().Reference("no_such_model"),
		"runs not a dir":  New().Runs(writeFile(t)),
		"runs bad target": New().Targets("paper", "nope"),
	} {
		if _, err := s.Make(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := (&Result{}).Write(t.TempDir(), 0); err == nil {
		t.Error("scale 0: no error")
	}
}

func writeFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTrainedGroup(t *testing.T) {
	if g := TrainedGroup(model(t, "multi_max"), nil); g != GroupPaper {
		t.Errorf("multi_max: %q", g)
	}
	if g := TrainedGroup(model(t, "mobilenet_v3_large_min"), nil); g != GroupReference {
		t.Errorf("mobilenet_v3_large_min: %q", g)
	}
	a := *model(t, "mobilenet_v2")
	a.Name = "search_max"
	if g := TrainedGroup(&a, nil); g != GroupSearched {
		t.Errorf("an architecture named search_max: %q", g)
	}
}

func TestNotebookRuns(t *testing.T) {
	t.Setenv(RootEnv, "/repo")
	t.Setenv(RunsEnv, "/evidence")
	for full, want := range map[bool]string{false: "/repo/notebooks/.out/runs", true: "/evidence"} {
		if got, err := NotebookRuns(full); err != nil || got != want {
			t.Errorf("full=%v: %q, %v; want %q", full, got, err, want)
		}
	}
	t.Setenv(RunsEnv, "")
	if got, _ := NotebookRuns(true); got != "/repo/out/runs" {
		t.Errorf("full without %s: %q", RunsEnv, got)
	}
	t.Setenv(RootEnv, "")
	if _, err := NotebookRuns(false); err == nil || !strings.Contains(err.Error(), RootEnv) {
		t.Errorf("without %s: error %v", RootEnv, err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestNB201ComparisonData: the comparison at budget 0.3 on the default bench
// (moved with the adapter from nas/nb201's TestCompare): the four winners that
// exist (MAX and EdgeTPU-only find none), on the four targets, as 16 bars.
func TestNB201ComparisonData(t *testing.T) {
	fig, cmp, err := NB201Comparison(nil, 0.3)
	if err != nil {
		t.Fatal(err)
	}
	pd := NB201ComparisonData(cmp)
	if len(pd.Winners) != 4 || len(pd.Targets) != 4 || pd.Budget != 0.3 || pd.Targets[2] != "DSP" {
		t.Errorf("plot data %+v", pd)
	}
	if fig.Panels[0].NumBars() != 16 || fig.Name != "nb201_compare_0.3" {
		t.Errorf("device comparison figure %s: %d bars", fig.Name, fig.Panels[0].NumBars())
	}
}

// TestAdaptCurveData: sizes without a defined Spearman are left out (and a
// device with none), an undefined interval draws no bar, a device's MACs
// line only where every drawn size has one.
func TestAdaptCurveData(t *testing.T) {
	nan := math.NaN()
	ci := func(lo, hi float64) stats.Interval { return stats.Interval{Lo: stats.Float(lo), Hi: stats.Float(hi)} }
	a := &hwcost.Curve{Data: "nb201-help", Device: "a", Seeds: []uint64{1, 2, 3}, Points: []hwcost.CurvePoint{
		{Train: 5, Spearman: 0.8, SpearmanCI: ci(0.7, 0.9), MACsSpearman: 0.5},
		{Train: 10, Spearman: nan, SpearmanCI: ci(nan, nan), MACsSpearman: nan},
		{Train: 20, Spearman: 0.9, SpearmanCI: ci(nan, nan), MACsSpearman: 0.5},
	}}
	b := &hwcost.Curve{Data: "nb201-help", Device: "b", Seeds: []uint64{1, 2, 3}, Points: []hwcost.CurvePoint{
		{Train: 5, Spearman: 0.8, SpearmanCI: ci(0.7, 0.9), MACsSpearman: nan},
	}}
	empty := &hwcost.Curve{Data: "nb201-help", Device: "c", Seeds: []uint64{1, 2, 3}, Points: []hwcost.CurvePoint{
		{Train: 5, Spearman: nan, SpearmanCI: ci(nan, nan)},
	}}
	d := AdaptCurveData(a, b, empty)
	if len(d.Curves) != 2 || !strings.Contains(d.Title, "seeds 1-3") {
		t.Fatalf("%d curves, title %q", len(d.Curves), d.Title)
	}
	ca, cb := d.Curves[0], d.Curves[1]
	if !reflect.DeepEqual(ca.Train, []int{5, 20}) || ca.Spearman[1].HasSpread() || !ca.Spearman[0].HasSpread() || len(ca.MACs) != 2 {
		t.Errorf("device a: %+v", ca)
	}
	if cb.MACs != nil {
		t.Errorf("device b: MACs line %v from an undefined value", cb.MACs)
	}
	if _, err := plots.AdaptCurve(d); err != nil {
		t.Error(err)
	}
}
