package figset

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/jsonmut"
	"github.com/multihw/multihw/internal/stats"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/nas/tunas"
)

// TestSearchReportRefusesMalformed: each JSON file the search report reads
// (the bench and ablation outputs, a search's search.json and baseline
// file, a ranking study's rank.json), changed in one node at a time (null,
// another type, numbers past their ranges, a member deleted), makes the
// report fail with an error or is reported, never a panic. A search that is
// read also gets its figures made (not drawn).
func TestSearchReportRefusesMalformed(t *testing.T) {
	dir := t.TempDir()
	search := filepath.Join(dir, "search")
	// A small space keeps search.json (and its variants) small.
	st := func(stride, base int) nas.StageSpace {
		return nas.StageSpace{Stride: stride, BaseWidth: base, Multipliers: []float64{0.5, 1}, Depths: []int{1, 2},
			Kinds: []blocks.Kind{blocks.KindIBN, blocks.KindFused}, Kernels: []int{3, 5}, Expansions: []float64{1, 3}}
	}
	cfg := tunas.DefaultConfig()
	cfg.Space = &nas.Space{Name: "tiny", Resolution: 64, Channels: 3, Classes: 10,
		Stem:   nas.StemSpace{Kernel: 3, Stride: 2, BaseWidth: 16, Multipliers: []float64{0.5, 1}},
		Stages: []nas.StageSpace{st(2, 16), st(2, 32)}, Head: blocks.Head{Conv: 24, Hidden: 16}}
	cfg.Steps, cfg.Snapshots = 6, 2
	cfg.Controller.LR = tunas.ControllerLR(cfg.Steps)
	sres, err := tunas.New(cfg).Out(search).SyntheticQuality(func(p nas.Point) float64 { return 0.5 + 0.01*float64(p[0]) }).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cand := func(q float64) *tunas.Candidate {
		return &tunas.Candidate{Point: sres.Final.Point, Arch: sres.Final.Arch, Text: sres.Final.Text, Q: q, QValidation: q - 0.1, T: 1.01, Reward: q - 0.001}
	}
	iv := func(lo, hi float64) stats.Interval { return stats.Interval{Lo: stats.Float(lo), Hi: stats.Float(hi)} }
	rdir := filepath.Join(dir, "rank")
	files := []struct {
		name, path string
		v          any
	}{
		{"bench", filepath.Join(dir, "bench.json"), []tunas.BenchRow{
			{What: "fresh path", MS: 120, BuildMS: 80, FirstMS: 30, MMACs: 12},
			{What: "default search", MS: 40, Steps: 20, StepsPerMinute: 1500, SearchMinutes: 6, Builds: 3, Hits: 17},
			{What: "ratio masked / cached", MS: 7.5}}},
		{"ablation", filepath.Join(dir, "ablation.json"), []tunas.AblationRow{
			{Variant: "none/keep/warmup", Scores: []float64{0.4, 0.6}, Mean: 0.5, Min: 0.4, Max: 0.6, Seconds: 3},
			{Variant: "project/omit/uniform", Scores: []float64{0.5}, Mean: 0.5, Min: 0.5, Max: 0.5, Seconds: 4}}},
		{"baseline", filepath.Join(search, tunas.BaselineFile(tunas.AlgoRandom)), tunas.BaselineResult{Config: tunas.DefaultBaseline(tunas.AlgoRandom),
			ControllerEvaluations: 15, Queries: 15, Best: cand(0.8), Controller: cand(0.85),
			Trials: []nas.Trial{{Point: sres.Final.Point, Quality: 0.8, Cost: 1.01, Reward: 0.799}}, Seconds: 2}},
		{"rank", filepath.Join(rdir, tunas.RankResultFile), tunas.RankResult{Format: tunas.RankFormat, Config: tunas.DefaultRank(), Supernet: search, N: 4,
			KendallTau: 0.5, KendallTauCI: iv(0.1, 0.9), Spearman: 0.6, SpearmanCI: iv(0.2, 1),
			NoiseCeilingTau: stats.Float(math.NaN()), NoiseCeilingCI: stats.NaNInterval, SeedSD: 0.003, BandTau: 0.2, BandCI: iv(-0.5, 0.8), BandN: 3,
			TopK: []tunas.Regret{{K: 1, Regret: 0.004}, {K: 3, Regret: 0}},
			Archs: []tunas.RankArch{
				{Name: "final", Source: "search", OneShot: 0.85, StandAlone: []float64{0.91, 0.912}, Mean: 0.911, T: 1},
				{Name: "random-best", Source: "baseline", OneShot: 0.7, StandAlone: []float64{0.9}, Mean: 0.9, T: 1.05, InBand: true},
				{Name: "uniform-01", Source: "uniform", OneShot: 0.5, StandAlone: []float64{0.85}, Mean: 0.85, T: 0.6},
				{Name: "band-01", Source: "band", OneShot: 0.6, StandAlone: []float64{0.88}, Mean: 0.88, T: 0.95, InBand: true},
			}}},
		{"search", filepath.Join(search, tunas.ResultFile), nil},
	}
	if err := os.MkdirAll(rdir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		raw, err := json.Marshal(f.v)
		if f.v == nil {
			raw, err = os.ReadFile(f.path)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Each file is read with what it is reported with: a baseline and a
	// ranking study next to their search.
	withSearch := SearchReportInput{Searches: []NamedDir{{"avg", search}}, Ranks: []NamedDir{{"avg", rdir}}}
	inputs := map[string]SearchReportInput{"bench": {BenchFile: files[0].path}, "ablation": {AblationFiles: []string{files[1].path}},
		"baseline": withSearch, "rank": withSearch, "search": {Searches: withSearch.Searches}}
	report := func(name string) error {
		if _, err := SearchReport(inputs[name]); err != nil || name != "search" {
			return err
		}
		run, err := tunas.ReadRun(search)
		if err != nil {
			return err
		}
		if _, err := SearchCurves("avg", run.Result); err != nil {
			return err
		}
		_, err = SearchProbs("avg", run.Result)
		return err
	}
	for _, f := range files {
		if err := report(f.name); err != nil {
			t.Fatalf("%s: the valid file: %v", f.name, err)
		}
	}
	for _, f := range files {
		jsonmut.CheckFile(t, f.name, f.path, func() error { return report(f.name) })
	}
}
