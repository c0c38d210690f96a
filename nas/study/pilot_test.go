package study

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multihw/multihw/train"
)

func tinyPilot() PilotConfig {
	c := tinyConfig()
	p := PilotFor(c, []string{"mobilenet_v2_0.5"}, 3)
	p.Recipe = train.QuickRecipe(3)
	p.Recipe.BatchSize, p.Recipe.BNRecalibrationBatches = 8, 1
	return p
}

// TestPilot trains one model with 3 seeds, checks the statistics against
// the accuracies, and that a rerun reads the runs back instead of training.
func TestPilot(t *testing.T) {
	dir := t.TempDir()
	run := func(cfg PilotConfig) (*PilotResult, error) {
		return NewPilot(dir, cfg).Dataset(bandsDataset(t)).Backend(goBackend(t)).Run(context.Background())
	}
	res, err := run(tinyPilot())
	if err != nil {
		t.Fatal(err)
	}
	m := res.Models[0]
	if len(m.Accuracy) != 3 || m.Steps != 3 || res.TrainLen != 192 {
		t.Fatalf("pilot model %+v, train length %d", m, res.TrainLen)
	}
	var mean, ss float64
	for _, a := range m.Accuracy {
		mean += a / 3
	}
	for _, a := range m.Accuracy {
		ss += (a - mean) * (a - mean)
	}
	sd := math.Sqrt(ss / 2)
	if math.Abs(m.Mean-mean) > 1e-12 || math.Abs(m.SD-sd) > 1e-12 || math.Abs(res.PooledSD-sd) > 1e-12 || res.PooledDF != 2 {
		t.Errorf("mean %g SD %g pooled %g (df %d), want %g, %g", m.Mean, m.SD, res.PooledSD, res.PooledDF, mean, sd)
	}
	if len(res.Needed) != 3 || res.Needed[1].Points != 0.5 || res.Needed[1].Seeds != SeedsNeeded(sd, 0.005, 2) {
		t.Errorf("seeds needed %+v", res.Needed)
	}
	result := filepath.Join(dir, TrainDir, "mobilenet_v2_0.5", "seed2", train.ResultFile)
	before, err := os.Stat(result)
	if err != nil {
		t.Fatal(err)
	}
	again, err := run(tinyPilot())
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(result)
	if !after.ModTime().Equal(before.ModTime()) || again.PooledSD != res.PooledSD {
		t.Error("rerunning the pilot trained again instead of reading its runs")
	}
	back, err := ReadPilot(dir)
	if err != nil || back.PooledSD != res.PooledSD {
		t.Fatalf("read back: %v", err)
	}
	other := tinyPilot()
	other.Seeds = 4
	if _, err := run(other); err == nil || !strings.Contains(err.Error(), "another configuration") {
		t.Errorf("pilot of another configuration in the same directory: %v", err)
	}
	bad := tinyPilot()
	bad.Seeds = 1
	if _, err := run(bad); err == nil || !strings.Contains(err.Error(), "at least 2 seeds") {
		t.Errorf("one seed: %v", err)
	}
	// A model given twice trained its seeds twice into one directory; a
	// difference of 1e308 points or given twice sized nothing.
	for want, mut := range map[string]func(*PilotConfig){
		"model mobilenet_v2_0.5 given twice":     func(c *PilotConfig) { c.Models = append(c.Models, c.Models[0]) },
		"difference 0.5 given twice":             func(c *PilotConfig) { c.Differences = []float64{0.5, 1, 0.5} },
		"differences must be in (0, 100] points": func(c *PilotConfig) { c.Differences = []float64{1e308} },
	} {
		c := tinyPilot()
		mut(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
}

// TestEstimate checks the sizing arithmetic on a pilot written by hand.
func TestEstimate(t *testing.T) {
	c := DefaultConfig() // 16 searches of 2000 steps, 4 references, 3 seeds
	c.Recipe.Epochs = 2
	p := &PilotResult{Config: PilotFor(c, []string{"multi_avg"}, 4), TrainLen: 54000, PooledSD: 0.002, RunSeconds: 150,
		SearchStepsPerMinute: 150}
	p.Config.Recipe.Epochs = 1
	p.Config.SearchSteps = 2000
	e, err := NewEstimate(c, p, "pilot", 0)
	if err != nil {
		t.Fatal(err)
	}
	// Searches: 16 × 2000 / 150 steps/min = 213.3 min = 3.556 h.
	// Steps per run: 2 epochs of 54,000 at batch 128 = ⌈843.75⌉ = 844 against 422: ratio 2.
	// Retraining: 20 architectures × 3 seeds × 150 s × 2 = 18,000 s = 5 h.
	if e.Searches != 16 || math.Abs(e.SearchHours-32000.0/150/60) > 1e-9 || e.StepsRatio != 2 || e.Architectures != 20 ||
		math.Abs(e.TrainHours-5) > 1e-9 || math.Abs(e.TotalHours-(e.SearchHours+5)) > 1e-12 {
		t.Errorf("estimate %+v", e)
	}
	// 2·0.2·√(2/3) = 0.3266 points.
	if math.Abs(float64(e.Resolvable)-0.4*math.Sqrt(2.0/3)) > 1e-9 || len(e.Notes) != 0 {
		t.Errorf("resolvable %g points, notes %v", e.Resolvable, e.Notes)
	}
	// A pilot whose seeds all reached one accuracy (SD 0) resolves nothing
	// it can state: unknown, and the plan holding it still encodes (null)
	// and reads back.
	flat := *p
	flat.PooledSD = 0
	fe, err := NewEstimate(c, &flat, "pilot", 0)
	if err != nil || !math.IsNaN(float64(fe.Resolvable)) || !strings.Contains(strings.Join(fe.Lines(), "\n"), "resolves accuracy differences of unknown") {
		t.Errorf("pilot with SD 0: resolvable %v, %v, lines %q", fe.Resolvable, err, fe.Lines())
	}
	plan, err := NewPlan(c)
	if err != nil {
		t.Fatal(err)
	}
	plan.Estimate = &fe
	dir := t.TempDir()
	if _, err := WritePlan(dir, plan); err != nil {
		t.Fatalf("plan with an unknown resolvable difference: %v", err)
	}
	if back, err := ReadPlan(dir); err != nil || !math.IsNaN(float64(back.Estimate.Resolvable)) {
		t.Errorf("read back: %v", err)
	}
	// A given search rate wins; a different width is noted.
	c.TrainWidth = 1
	e, err = NewEstimate(c, p, "pilot", 300)
	if err != nil || math.Abs(e.SearchHours-32000.0/300/60) > 1e-9 || len(e.Notes) != 1 || !strings.Contains(e.Notes[0], "rescaled by steps only") {
		t.Errorf("estimate with a rate and another width: %+v, %v", e, err)
	}
	// The pilot command's text: the pilot's summary, then the estimate's lines, indented.
	text, err := p.StudySummary(c, p.Config, "pilot")
	if err != nil {
		t.Fatal(err)
	}
	e, _ = NewEstimate(c, p, "pilot", 0)
	want := p.Summary(p.Config) + "the study with these settings:\n  " + strings.Join(e.Lines(), "\n  ") + "\n"
	if text != want {
		t.Errorf("study summary:\n%s\nwant:\n%s", text, want)
	}
}

// TestPlanWithPilot: without a pilot the plan has no estimate; with one it has
// the estimate NewEstimate makes; a missing pilot is an error naming it.
func TestPlanWithPilot(t *testing.T) {
	c := DefaultConfig()
	p, err := NewPlanWithPilot(c, "", 0)
	if err != nil || p.Estimate != nil {
		t.Fatalf("no pilot: estimate %v, err %v", p.Estimate, err)
	}
	if _, err := NewPlanWithPilot(c, filepath.Join(t.TempDir(), "none"), 0); err == nil || !strings.Contains(err.Error(), "none") {
		t.Errorf("missing pilot: %v", err)
	}
}
