package tunas

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/multihw/multihw/internal/stats"
	"github.com/multihw/multihw/train"
)

const rankHelperEnv = "MULTIHW_TUNAS_RANK_HELPER"

// rankSearchConfig is the tiny search with T0 at the median cost of its
// random points, so that the ±10% band holds architectures.
func rankSearchConfig(t testing.TB) Config {
	cfg := tinySearchConfig(8)
	m, err := cfg.Metric()
	if err != nil {
		t.Fatal(err)
	}
	cost, err := NewCost(cfg.Space, m, cfg.Objective)
	if err != nil {
		t.Fatal(err)
	}
	var ts []float64
	rng := newRand(5)
	for range 101 {
		v, err := cost.T(cfg.Space.Sample(rng, nil))
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, v)
	}
	sort.Float64s(ts)
	cfg.Reward.T0 = ts[50]
	return cfg
}

func rankConfig() RankConfig {
	c := DefaultRank()
	c.Archs, c.Seeds, c.Repeated = 5, 2, 3
	c.Recipe = train.QuickRecipe(6)
	c.Recipe.BatchSize, c.Recipe.BNRecalibrationBatches = 16, 2
	c.Bootstrap = 200
	return c
}

// rankSearch runs the tiny search into dir (once per directory).
func rankSearch(t testing.TB, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, ResultFile)); err == nil {
		return
	}
	if _, err := New(rankSearchConfig(t)).Dataset(tinyDataset(t)).Out(dir).Backend(goBackend(t)).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func newRank(t testing.TB, search, out string) *Rank {
	return NewRank(search, rankConfig()).Out(out).Dataset(tinyDataset(t)).Backend(goBackend(t))
}

// TestRankStudy runs a small study and checks its architectures, its
// statistics against the library functions, and its bad-input errors.
func TestRankStudy(t *testing.T) {
	dir := t.TempDir()
	search := filepath.Join(dir, "search")
	rankSearch(t, search)
	res, err := newRank(t, search, filepath.Join(dir, "rank")).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.N != 5 || len(res.Archs) != 5 || res.Archs[0].Name != "final" || res.NoiseCeilingN != 3 {
		t.Fatalf("n %d, archs %d, first %q, noise ceiling over %d", res.N, len(res.Archs), res.Archs[0].Name, res.NoiseCeilingN)
	}
	texts := map[string]bool{}
	var oneShot, mean []float64
	nb := 0
	for i, a := range res.Archs {
		wantSeeds := 1
		if i < 3 {
			wantSeeds = 2
		}
		if len(a.StandAlone) != wantSeeds || len(a.Runs) != wantSeeds || !(a.OneShot >= 0 && a.OneShot <= 1) || texts[a.Text] {
			t.Fatalf("arch %s: %d runs, one-shot %g, duplicate %v", a.Name, len(a.StandAlone), a.OneShot, texts[a.Text])
		}
		texts[a.Text] = true
		if _, err := os.Stat(filepath.Join(dir, "rank", a.Runs[0], train.ResultFile)); err != nil {
			t.Fatal(err)
		}
		if a.InBand != (math.Abs(a.T/res.Search.Reward.T0-1) <= 0.1) {
			t.Fatalf("arch %s: T %g, in band %v", a.Name, a.T, a.InBand)
		}
		if a.Source == "band" {
			nb++
			if !a.InBand {
				t.Fatalf("band architecture %s outside the band", a.Name)
			}
		}
		oneShot, mean = append(oneShot, a.OneShot), append(mean, a.Mean)
	}
	if nb == 0 {
		t.Fatal("no architecture drawn from the cost band")
	}
	if got, want := float64(res.KendallTau), stats.KendallTauB(oneShot, mean); !(got == want || math.IsNaN(got) && math.IsNaN(want)) {
		t.Fatalf("kendall_tau %g, recomputed %g", got, want)
	}
	if !math.IsNaN(float64(res.KendallTau)) && !res.KendallTauCI.Contains(float64(res.KendallTau)) && res.KendallTauCI.Hi != res.KendallTauCI.Lo {
		t.Logf("note: τ %g outside its bootstrap interval %+v (possible with 5 points)", float64(res.KendallTau), res.KendallTauCI)
	}
	if len(res.TopK) != 3 || res.TopK[0].K != 1 || !(res.TopK[0].Regret >= 0) {
		t.Fatalf("top-k regrets %+v", res.TopK)
	}
	back, err := ReadRank(filepath.Join(dir, "rank", RankResultFile))
	if err != nil || back.N != 5 {
		t.Fatalf("rank.json: %v", err)
	}
	// Rerunning a finished study reads everything back.
	again, err := newRank(t, search, filepath.Join(dir, "rank")).Run(context.Background())
	if err != nil || !slices.Equal(again.Archs[2].StandAlone, res.Archs[2].StandAlone) {
		t.Fatalf("rerun of a finished study: %v", err)
	}

	// Bad input.
	bad := rankConfig()
	bad.Archs = 3
	if _, err := NewRank(search, bad).Out(t.TempDir()).Dataset(tinyDataset(t)).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "at least 4 architectures") {
		t.Errorf("3 architectures: got %v", err)
	}
	if _, err := NewRank(t.TempDir(), rankConfig()).Out(t.TempDir()).Dataset(tinyDataset(t)).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "no search checkpoint") {
		t.Errorf("not a search directory: got %v", err)
	}
	// The study's directory with a search of another space.
	other := filepath.Join(dir, "other")
	ocfg := rankSearchConfig(t)
	ocfg.Space = tinySpace()
	ocfg.Space.Name = "tiny2"
	ocfg.Space.Stages[0].Kernels = []int{3}
	if _, err := New(ocfg).Dataset(tinyDataset(t)).Out(other).Backend(goBackend(t)).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := newRank(t, other, filepath.Join(dir, "rank")).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "another search") || !strings.Contains(err.Error(), "tiny2") {
		t.Errorf("study directory of another search: got %v", err)
	}
	// The same study with another configuration.
	diff := rankConfig()
	diff.Band = 0.2
	if _, err := NewRank(search, diff).Out(filepath.Join(dir, "rank")).Dataset(tinyDataset(t)).Backend(goBackend(t)).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "configuration differs") {
		t.Errorf("resume with another configuration: got %v", err)
	}
	// A search that did not finish.
	half := filepath.Join(dir, "half")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err = New(rankSearchConfig(t)).Dataset(tinyDataset(t)).Out(half).Backend(goBackend(t)).OnStep(func(r Record) {
		if r.Step == 2 {
			cancel()
		}
	}).Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled search: %v", err)
	}
	if _, err := newRank(t, half, t.TempDir()).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "stopped at step") {
		t.Errorf("unfinished search: got %v", err)
	}
}

// TestRankHelper is the subprocess of TestRankResumeAfterKill: it runs the
// study and stalls after its third stand-alone run, announcing it with a
// file.
func TestRankHelper(t *testing.T) {
	dir := os.Getenv(rankHelperEnv)
	if dir == "" {
		t.Skip("subprocess of TestRankResumeAfterKill")
	}
	r := newRank(t, filepath.Join(dir, "search"), filepath.Join(dir, "rank"))
	runs := 0
	r.afterRun = func(string, uint64) {
		if runs++; runs == 3 {
			if err := os.WriteFile(filepath.Join(dir, "stalled"), nil, 0o644); err != nil {
				panic(err)
			}
			select {} // wait for SIGKILL
		}
	}
	if _, err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestRankResumeAfterKill kills a study with SIGKILL after three of its
// eight stand-alone runs, resumes it, and checks that it ends as an
// uninterrupted study: same architectures, one-shot and stand-alone
// accuracies, statistics.
func TestRankResumeAfterKill(t *testing.T) {
	dir := t.TempDir()
	rankSearch(t, filepath.Join(dir, "search"))
	cmd := exec.Command(os.Args[0], "-test.run=^TestRankHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), rankHelperEnv+"="+dir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(dir, "stalled")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("the helper study never reached its third run")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if _, err := os.Stat(filepath.Join(dir, "rank", RankResultFile)); err == nil {
		t.Fatal("the killed study wrote its result")
	}
	resumed, err := newRank(t, filepath.Join(dir, "search"), filepath.Join(dir, "rank")).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	whole, err := newRank(t, filepath.Join(dir, "search"), filepath.Join(dir, "whole")).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range resumed.Archs {
		b := whole.Archs[i]
		if a.Name != b.Name || a.Text != b.Text || a.OneShot != b.OneShot || !slices.Equal(a.StandAlone, b.StandAlone) {
			t.Fatalf("architecture %d differs: resumed %+v, uninterrupted %+v", i, a, b)
		}
	}
	if !sameFloat(float64(resumed.KendallTau), float64(whole.KendallTau)) || !sameFloat(float64(resumed.NoiseCeilingTau), float64(whole.NoiseCeilingTau)) {
		t.Fatalf("statistics differ: τ %g vs %g", float64(resumed.KendallTau), float64(whole.KendallTau))
	}
}

func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }

// TestRankFindings: the sentences follow the intervals.
func TestRankFindings(t *testing.T) {
	iv := func(lo, hi float64) stats.Interval { return stats.Interval{Lo: stats.Float(lo), Hi: stats.Float(hi)} }
	res := &RankResult{Config: RankConfig{Band: 0.1}, N: 24,
		KendallTau: 0.3, KendallTauCI: iv(0.05, 0.5),
		NoiseCeilingTau: 0.8, NoiseCeilingCI: iv(0.6, 0.95), NoiseCeilingN: 8, SeedSD: 0.002,
		BandTau: 0.1, BandCI: iv(-0.3, 0.5), BandN: 9,
		TopK:  []Regret{{K: 1, Regret: 0.01}},
		Archs: []RankArch{{Name: "final", StandAlone: []float64{0.91, 0.912}, Mean: 0.911}, {Name: "multi_avg", StandAlone: []float64{0.905, 0.909}, Mean: 0.907}},
	}
	got := strings.Join(res.Findings(), "\n")
	for _, want := range []string{
		"0.300, 95% interval [0.050, 0.500] over 24 architectures: better than chance",
		"the supernet ranks clearly below what a second training run achieves",
		"τ is 0.100, 95% interval [-0.300, 0.500] over 9 architectures: not distinguishable from chance",
		"loses 1.00 points", "more than twice the seed-to-seed SD (0.20): a real loss",
		// 0.911 − 0.907 = 0.4 points, SE 0.2·√(1/2+1/2) = 0.2: resolved.
		"+0.40 points against multi_avg (± 0.20 standard error): resolved",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("findings lack %q:\n%s", want, got)
		}
	}
	res.KendallTauCI = iv(-0.1, 0.7)
	res.SeedSD = stats.Float(math.NaN())
	got = strings.Join(res.Findings(), "\n")
	for _, want := range []string{"not distinguishable from chance (the interval includes 0)", "seed noise unknown"} {
		if !strings.Contains(got, want) {
			t.Errorf("findings lack %q:\n%s", want, got)
		}
	}
}
