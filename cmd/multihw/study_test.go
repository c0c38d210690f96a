package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/nas/study"
	"github.com/multihw/multihw/nas/tunas"
	"github.com/multihw/multihw/train"
)

func TestStudyBadInput(t *testing.T) {
	empty := t.TempDir()
	for _, tc := range []struct {
		run  func([]string) error
		args []string
		want string
	}{
		{runStudyPlan, nil, "needs --dir DIR"},
		{runStudyPlan, []string{"--dir", empty, "--t0", "0.9,toaster"}, "neither a number nor a reference model"},
		{runStudyPlan, []string{"--dir", empty, "--objectives", "median"}, `"median" must be avg or max`},
		{runStudyPlan, []string{"--dir", empty, "--single-targets", "abacus"}, `single target "abacus"`},
		{runStudyPlan, []string{"--dir", empty, "--train-seeds", "0"}, "at least 1"},
		{runStudyPlan, []string{"--dir", empty, "--search-seeds", "1,x"}, `"x" is not a seed`},
		{runStudyPlan, []string{"--dir", empty, "--pilot", empty}, "pilot.json"},
		{runStudyRun, []string{"--dir", empty}, "holds no study"},
		{runStudyRun, []string{"--dir", empty, "--only", "bake"}, "want search or train"},
		{runStudyStatus, []string{"--dir", empty}, "holds no study"},
		{runStudyReport, nil, "needs --dir DIR"},
		{runStudyPilot, []string{"--out", empty, "--seeds", "1"}, "at least 2 seeds"},
		{runStudyPilot, []string{"--out", empty, "--models", "resnet9000"}, "resnet9000"},
		{runSearchReport, []string{"--study", empty}, "holds no study"},
	} {
		if err := tc.run(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
	// Planning twice with the same flags is fine; with others it is refused.
	dir := filepath.Join(t.TempDir(), "s")
	if err := runStudyPlan([]string{"--dir", dir, "--quick"}); err != nil {
		t.Fatal(err)
	}
	if err := runStudyPlan([]string{"--dir", dir, "--quick"}); err != nil {
		t.Fatal(err)
	}
	if err := runStudyPlan([]string{"--dir", dir, "--quick", "--train-seeds", "5"}); err == nil || !strings.Contains(err.Error(), "another configuration") {
		t.Errorf("replanning with other flags: %v", err)
	}
}

// syntheticStudy writes a study as its commands would, without training:
// synthetic-quality searches (the controller and cost are real) and training
// results written by hand with accuracies chosen per model, plus a cost
// spread the study draws itself.
func syntheticStudy(t *testing.T, dir string) *study.Summary {
	t.Helper()
	cfg := study.DefaultConfig().Quick()
	p, err := study.NewPlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := study.WritePlan(dir, p); err != nil {
		t.Fatal(err)
	}
	for i, s := range p.Searches {
		// A quality that prefers a different first decision per search, so
		// that the searches end on different architectures.
		pref := i % 3
		if _, err := tunas.New(p.SearchConfig(s)).Out(filepath.Join(dir, study.SearchesDir, s.Name)).
			SyntheticQuality(func(pt nas.Point) float64 { return 0.5 + 0.05*float64(boolInt(pt[0] == pref)) }).Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	st, err := study.Inspect(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range st.Jobs {
		if j.Job.Kind != study.KindTrain {
			continue
		}
		arch := j.Job.Arch.WithWidth(cfg.TrainWidth) // what the study trains
		arch.Name = j.Job.Unit
		// Searched models train to 90%, references to 88%; seeds differ by 0.1 points.
		acc := 0.88
		if strings.Contains(j.Job.Unit, "_s") {
			acc = 0.90
		}
		acc += 0.001 * float64(j.Job.Seed)
		res := train.Result{Arch: arch, Adapt: cfg.TrainAdapt, Recipe: cfg.Recipe, Seed: j.Job.Seed, Steps: 30, TrainSeconds: 3,
			Test: &train.EvalResult{Split: "test", N: 1000, Accuracy: acc}}
		writeJSONFile(t, filepath.Join(dir, j.Job.Dir, train.ResultFile), res)
	}
	sum, err := study.Summarize(dir)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func writeJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestStudyReport: `study report` writes the study's sections, claims and
// figures from the directory.
func TestStudyReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "study")
	sum := syntheticStudy(t, dir)
	if !sum.Complete() || sum.Spread == nil || len(sum.Models) != 20 {
		t.Fatalf("synthetic study: complete %v, spread %v, %d models", sum.Complete(), sum.Spread != nil, len(sum.Models))
	}
	out := filepath.Join(t.TempDir(), "nas", "SEARCH_REPORT.md")
	figs := filepath.Join(filepath.Dir(out), "search_figures")
	if err := runStudyReport([]string{"--dir", dir, "--out", out, "--figures", figs}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	md := string(raw)
	mm := sum.Models[0]
	for _, want := range []string{
		"`" + sum.Marker() + "`", "settings=quick",
		"## Reproduction study: settings and size", "Smoke run (`--quick`)", "| search | 16 / 16 |",
		"## Claims", "### Claim 1:", "### Claim 2:", "### Claim 3:", "200 parameter sets drawn from the cost models' fitted uncertainty",
		"## Searches", "| avg_t0.85_s1 | avg | 0.85 |",
		"## T0 sweep of the multi-target searches", "![T0 sweep](search_figures/study_t0_sweep.png)",
		"## Retrained with seeds", fmt.Sprintf("| %s | reference | s1 %.2f, s2 %.2f |", mm.Name, 100*mm.Accuracy[0], 100*mm.Accuracy[1]),
		// Seeds 0.1 points apart: every model's SD is 0.0707 points, pooled too.
		"0.07 points", "over 200 parameter draws of the cost model",
		"## Cross-evaluation: single- and multi-target winners on every target", "![one-shot winners on every target](search_figures/study_cross_eval.png)",
		"Budget 0.3:", "| objective | accuracy |",
		"![accuracy vs latency on every target, AVG and MAX](search_figures/study_tradeoff.png)",
		"![avg_tmulti_max_s1: search curves](search_figures/search_avg_tmulti_max_s1_curves.png)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, v := range []string{"**HELD**", "**NOT HELD**", "**NOT RESOLVED**"} {
		if strings.Count(md, v) > 3 {
			t.Errorf("%s appears more than three times", v)
		}
	}
	if strings.Count(md, "**HELD**")+strings.Count(md, "**NOT HELD**")+strings.Count(md, "**NOT RESOLVED**") != 3 {
		t.Error("the report does not give exactly three verdicts")
	}
	// Only the primary searches get curves: 2 of 16.
	if n := strings.Count(md, ": search curves]"); n != 2 {
		t.Errorf("%d search-curve figures, want 2", n)
	}
	for _, f := range []string{"study_tradeoff.png", "study_t0_sweep.png", "study_cross_eval.png", "nb201_compare_0.3.png"} {
		if _, err := os.Stat(filepath.Join(figs, f)); err != nil {
			t.Error(err)
		}
	}
	if err := runStudyStatus([]string{"--dir", dir}); err != nil {
		t.Error(err)
	}
}
