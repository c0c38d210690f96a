package figset

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multihw/multihw/internal/stats"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/nas/study"
	"github.com/multihw/multihw/nas/tunas"
	"github.com/multihw/multihw/train"
)

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

// TestStudyReport: the report of a study writes its sections, claims and
// figures from the directory.
func TestStudyReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "study")
	sum := syntheticStudy(t, dir)
	if !sum.Complete() || sum.Spread == nil || len(sum.Models) != 20 {
		t.Fatalf("synthetic study: complete %v, spread %v, %d models", sum.Complete(), sum.Spread != nil, len(sum.Models))
	}
	out := filepath.Join(t.TempDir(), "nas", "SEARCH_REPORT.md")
	figs := filepath.Join(filepath.Dir(out), "search_figures")
	md, err := SearchReport(SearchReportInput{Study: sum, FigureDir: figs, FigureRel: "search_figures"})
	if err != nil {
		t.Fatal(err)
	}
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
	st, err := study.Inspect(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s := st.Summary(sum); !strings.Contains(s, sum.Marker()) || !strings.Contains(s, "search") {
		t.Errorf("status summary:\n%s", s)
	}
}

// TestSearchReportRankAndBaselines: the equal-budget and ranking sections
// come from the run directories (a synthetic-quality search, its baseline
// file and a ranking study's rank.json, written here as the commands do).
func TestSearchReportRankAndBaselines(t *testing.T) {
	dir := t.TempDir()
	search := filepath.Join(dir, "search")
	cfg := tunas.DefaultConfig()
	cfg.Steps, cfg.Snapshots = 20, 2
	cfg.Controller.LR = tunas.ControllerLR(cfg.Steps)
	sres, err := tunas.New(cfg).Out(search).SyntheticQuality(func(p nas.Point) float64 { return 0.5 + 0.01*float64(p[0]) }).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cand := func(q float64) *tunas.Candidate {
		return &tunas.Candidate{Point: sres.Final.Point, Text: sres.Final.Text, Q: q, QValidation: q - 0.1, T: 1.01, Reward: q - 0.001}
	}
	br := tunas.BaselineResult{Config: tunas.DefaultBaseline(tunas.AlgoRandom), ControllerEvaluations: 15, Queries: 15, Best: cand(0.8), Controller: cand(0.85)}
	raw, _ := json.Marshal(br)
	if err := os.WriteFile(filepath.Join(search, tunas.BaselineFile(tunas.AlgoRandom)), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	iv := func(lo, hi float64) stats.Interval { return stats.Interval{Lo: stats.Float(lo), Hi: stats.Float(hi)} }
	rank := tunas.RankResult{Format: tunas.RankFormat, Config: tunas.DefaultRank(), Supernet: search, N: 4,
		KendallTau: 0.5, KendallTauCI: iv(0.1, 0.9), Spearman: 0.6, SpearmanCI: iv(0.2, 1),
		NoiseCeilingTau: stats.Float(math.NaN()), NoiseCeilingCI: stats.NaNInterval, SeedSD: 0.003, BandTau: 0.2, BandCI: iv(-0.5, 0.8), BandN: 3,
		TopK: []tunas.Regret{{K: 1, Regret: 0.004}},
		Archs: []tunas.RankArch{
			{Name: "final", Source: "search", OneShot: 0.85, StandAlone: []float64{0.91, 0.912}, Mean: 0.911, T: 1},
			{Name: "random-best", Source: "baseline", OneShot: 0.7, StandAlone: []float64{0.9}, Mean: 0.9, T: 1.05, InBand: true},
			{Name: "uniform-01", Source: "uniform", OneShot: 0.5, StandAlone: []float64{0.85}, Mean: 0.85, T: 0.6},
			{Name: "band-01", Source: "band", OneShot: 0.6, StandAlone: []float64{0.88}, Mean: 0.88, T: 0.95, InBand: true},
		}}
	rdir := filepath.Join(dir, "rank")
	if err := os.MkdirAll(rdir, 0o755); err != nil {
		t.Fatal(err)
	}
	raw, err = json.Marshal(rank)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rdir, tunas.RankResultFile), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	md, err := SearchReport(SearchReportInput{Searches: []NamedDir{{"avg", search}}, Ranks: []NamedDir{{"avg", rdir}},
		FigureDir: filepath.Join(dir, "figs"), FigureRel: "figs"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"## Equal-budget baselines", "| random best | 15 (15) | 0.7990 | 0.7000 | 1.010 | 90.00% (1 seed(s)) |",
		// 0.911 − 0.9 = 1.1 points; SE 0.3·√(1/2 + 1) = 0.37: resolved.
		"Controller vs random: +1.10 points", "resolved: beyond two standard errors",
		"## Ranking quality of the supernet", "| avg | " + search + " | 4 | 0.500 [0.100, 0.900] | 0.600 [0.200, 1.000] | n/a [n/a, n/a] (0) |",
		"better than chance (the interval excludes 0)", "The noise ceiling is unknown",
		"![avg: one-shot vs stand-alone accuracy](figs/rank_avg.png)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "figs", "rank_avg.png")); err != nil {
		t.Error(err)
	}
	if _, err := SearchReport(SearchReportInput{Ranks: []NamedDir{{"x", dir}}}); err == nil || !strings.Contains(err.Error(), "rank") {
		t.Errorf("rank directory without rank.json: got %v", err)
	}
}
