package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multihw/multihw/internal/stats"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/nas/tunas"
)

// TestSearchBadInput checks that bad flags give clear errors before any
// training starts.
func TestSearchBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--space", "nope"}, `unknown search space "nope"`},
		{[]string{"--objective", "toaster", "--dataset", "folder:/nonexistent"}, `unknown objective "toaster"`},
		{[]string{"--targets", "pixel4-cpu,abacus"}, `unknown hardware target "abacus"`},
		{[]string{"--reward", "gold"}, `unknown reward "gold"`},
		{[]string{"--t0", "0"}, "T0 must be positive"},
		{[]string{"--objective", "weighted"}, "needs weights"},
		{[]string{"--weights", "1,x"}, `"x" is not a number`},
		{[]string{"--algo", "annealing"}, `unknown --algo "annealing"`},
		{[]string{"--algo", "random"}, "needs --supernet DIR"},
		{[]string{"--resume"}, "--resume needs --out DIR"},
		{[]string{"--supernet", "/tmp"}, "--supernet is for --algo random|evolution"},
		{[]string{"--algo", "evolution", "--supernet", "/nonexistent"}, "holds no search checkpoint"},
	} {
		err := runSearch(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("multihw search %s: got %v, want an error containing %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}

func TestSearchReportErrors(t *testing.T) {
	if err := runSearchReport([]string{"--search", "x"}); err == nil || !strings.Contains(err.Error(), "is not NAME=DIR") {
		t.Errorf("bad --search: got %v", err)
	}
	dir := t.TempDir()
	if err := runSearchReport([]string{"--search", "a=" + dir}); err == nil || !strings.Contains(err.Error(), "search.json") {
		t.Errorf("missing search.json: got %v", err)
	}
	// A missing training result is reported in the table, not fatal.
	out := filepath.Join(dir, "r.md")
	if err := runSearchReport([]string{"--trained", "m=" + dir, "--out", out}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "| m | (not finished") {
		t.Errorf("report without the unfinished run:\n%s", raw)
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
	out := filepath.Join(dir, "report.md")
	if err := runSearchReport([]string{"--search", "avg=" + search, "--rank", "avg=" + rdir, "--figures", filepath.Join(dir, "figs"), "--out", out}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(out)
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
		if !strings.Contains(string(md), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "figs", "rank_avg.png")); err != nil {
		t.Error(err)
	}
	if err := runSearchReport([]string{"--rank", "x=" + dir}); err == nil || !strings.Contains(err.Error(), "rank") {
		t.Errorf("rank directory without rank.json: got %v", err)
	}
}

func TestSearchRankBadInput(t *testing.T) {
	synthetic := t.TempDir()
	cfg := tunas.DefaultConfig()
	cfg.Steps, cfg.Snapshots = 4, 0
	if _, err := tunas.New(cfg).Out(synthetic).SyntheticQuality(func(nas.Point) float64 { return 0.5 }).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "needs --supernet DIR"},
		{[]string{"--supernet", "/nonexistent", "--archs", "3"}, "at least 4 architectures"},
		{[]string{"--supernet", "/nonexistent", "--seeds", "0"}, "seeds must be at least 1"},
		{[]string{"--supernet", "/nonexistent", "--archs", "6", "--repeated", "7"}, "repeated architectures must be in [0, 6]"},
		{[]string{"--supernet", "/nonexistent", "--quick"}, "holds no search checkpoint"},
		{[]string{"--supernet", synthetic, "--quick", "--out", t.TempDir()}, "synthetic-quality search without a supernet"},
	} {
		err := runSearchRank(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("multihw search rank %s: got %v, want an error containing %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}
