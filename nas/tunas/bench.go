package tunas

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/flaglist"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/nas/supernet"
	"github.com/multihw/multihw/report"
	"github.com/multihw/multihw/train/data"
)

// BenchRow is one measurement of the supernet design benchmark (`multihw
// search bench`).
type BenchRow struct {
	What    string  `json:"what"`
	MS      float64 `json:"ms"`
	BuildMS float64 `json:"build_ms,omitempty"`
	FirstMS float64 `json:"first_run_ms,omitempty"`
	MMACs   float64 `json:"proxy_mmacs"`
	// The default search's speed (the row of SearchSpeed): steps timed,
	// steps per minute, the minutes the default search takes at that rate,
	// and its supernet's graph builds and cache hits.
	Steps          int     `json:"steps,omitempty"`
	StepsPerMinute float64 `json:"steps_per_minute,omitempty"`
	SearchMinutes  float64 `json:"search_minutes,omitempty"`
	Builds         int     `json:"builds,omitempty"`
	Hits           int     `json:"hits,omitempty"`
}

// MaxBenchPoints bounds SupernetBench's points and repeats.
const MaxBenchPoints = 100_000

// SupernetBench measures, interleaved, the training step of points random
// sliced paths of the multihw space (fresh: graph build + first run; cached:
// the median of repeats later steps) against the fully mixed maximal path,
// which computes what a TuNAS masked graph computes at every step (both
// kinds, the largest kernel, expansion, width and depth). The supernet has
// width factor width and the builder's default input (28×28×1, 10 classes:
// Fashion-MNIST); the batch of batch random images has that shape.
//
// Points and repeats are at most MaxBenchPoints (each point is a graph
// built and compiled).
func SupernetBench(width float64, batch, points, repeats int, seed uint64) ([]BenchRow, error) {
	if points < 1 || repeats < 1 || batch < 1 || points > MaxBenchPoints || repeats > MaxBenchPoints {
		return nil, fmt.Errorf("search bench: points and repeats must be in [1, %d] and batch positive, got %d, %d, %d", MaxBenchPoints, points, repeats, batch)
	}
	sp := nas.MultiHWSpace()
	sn, err := supernet.New(sp).WidthFactor(width).Build()
	if err != nil {
		return nil, err
	}
	defer sn.Close()
	in := sn.Config()
	if err := checkSupernetMemory(in, batch); err != nil {
		return nil, fmt.Errorf("search bench: %w", err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	b := supernet.Batch{Images: make([]float32, batch*in.Height*in.Width*in.Channels), Labels: make([]int32, batch), Size: batch}
	for i := range b.Images {
		b.Images[i] = float32(rng.NormFloat64())
	}
	for i := range b.Labels {
		b.Labels[i] = int32(rng.IntN(in.Classes))
	}
	var pts []nas.Point
	for range points {
		pts = append(pts, sp.Sample(rng, nil))
	}
	// The masked graph: the maximal point with every op decision averaged.
	pts = append(pts, sp.MaxPoint())
	mix := make([][]bool, len(pts))
	mix[points] = make([]bool, len(pts[points]))
	for i, d := range sp.Decisions() {
		mix[points][i] = d.Kind == nas.DecideKind || d.Kind == nas.DecideKernel || d.Kind == nas.DecideDepth
	}
	fresh, steps, err := timeSteps(sn, pts, mix, b, repeats)
	if err != nil {
		return nil, err
	}
	macs := func(p nas.Point) float64 {
		path, err := sn.Path(p)
		if err != nil {
			return 0
		}
		an, err := blocks.Analyze(path.Proxy, 0)
		if err != nil {
			return 0
		}
		return float64(an.MACs) / 1e6
	}
	var rows []BenchRow
	var avg BenchRow
	for i := range points {
		r := BenchRow{What: fmt.Sprintf("random path %d", i+1), MS: 1000 * median(steps[i]), BuildMS: 1000 * fresh[i][0], FirstMS: 1000 * fresh[i][1], MMACs: macs(pts[i])}
		rows = append(rows, r)
		avg.MS += r.MS / float64(points)
		avg.BuildMS += r.BuildMS / float64(points)
		avg.FirstMS += r.FirstMS / float64(points)
		avg.MMACs += r.MMACs / float64(points)
	}
	avg.What = "random paths: mean"
	m := BenchRow{What: "masked graph (mixed maximal path)", MS: 1000 * median(steps[points]), BuildMS: 1000 * fresh[points][0], FirstMS: 1000 * fresh[points][1]}
	ibn, fused := sp.MaxPoint(), sp.MaxPoint()
	for _, st := range sp.Layout().Stages {
		for _, d := range st.Blocks {
			ibn[d.Kind] = 0
		}
	}
	m.MMACs = macs(ibn) + macs(fused)
	return append(rows, avg, m,
		BenchRow{What: "ratio masked / random cached step", MS: m.MS / avg.MS},
		BenchRow{What: "ratio masked / random fresh (build+1st run)", MS: m.MS / (avg.BuildMS + avg.FirstMS)}), nil
}

// timeSteps trains each point once fresh (returning its graph build and its
// first run with the update, in seconds) and then repeats times, interleaved
// (returning each cached step's seconds).
func timeSteps(sn *supernet.Supernet, pts []nas.Point, mix [][]bool, b supernet.Batch, repeats int) ([][2]float64, [][]float64, error) {
	fresh := make([][2]float64, len(pts))
	steps := make([][]float64, len(pts))
	for i, p := range pts {
		before := sn.Stats()
		if _, _, err := sn.TrainMixed(p, mix[i], b, 0.001); err != nil {
			return nil, nil, err
		}
		after := sn.Stats()
		fresh[i] = [2]float64{after.BuildSeconds - before.BuildSeconds,
			after.FirstRunSeconds - before.FirstRunSeconds + after.UpdateSeconds - before.UpdateSeconds}
	}
	for range repeats {
		for i, p := range pts {
			t0 := time.Now()
			if _, _, err := sn.TrainMixed(p, mix[i], b, 0.001); err != nil {
				return nil, nil, err
			}
			steps[i] = append(steps[i], time.Since(t0).Seconds())
		}
	}
	return fresh, steps, nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// SearchSpeed runs the default search (DefaultConfig: the multihw space on
// Fashion-MNIST, DefaultSteps steps) for its first n steps and returns its
// speed, timed from the end of its first step (setup and the first step's
// graph build excluded) to the end of step n. A shortened run is the start of
// the default search, not a shorter search: the warm-up and the controller's
// learning rate follow the whole search. Progress goes to progress.
func SearchSpeed(n int, progress io.Writer) (BenchRow, error) {
	cfg := DefaultConfig()
	if n < 2 || n > cfg.Steps {
		return BenchRow{}, fmt.Errorf("search bench: time between 2 and %d steps of the default search, not %d", cfg.Steps, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var first, last time.Time
	done := 0
	s := New(cfg).Progress(progress).OnStep(func(Record) {
		done++
		last = time.Now()
		if done == 1 {
			first = last
		}
		if done >= n {
			cancel()
		}
	})
	res, err := s.Run(ctx)
	if err != nil && !(errors.Is(err, context.Canceled) && done >= n) {
		return BenchRow{}, fmt.Errorf("search bench: the default search: %w", err)
	}
	if done < 2 {
		return BenchRow{}, fmt.Errorf("search bench: the default search ran %d steps, need at least 2", done)
	}
	r := BenchRow{What: fmt.Sprintf("default search: steps 2-%d of %d", done, cfg.Steps), Steps: done - 1}
	perStep := last.Sub(first).Seconds() / float64(done-1)
	r.MS = 1000 * perStep
	r.StepsPerMinute = 60 / perStep
	r.SearchMinutes = float64(cfg.Steps) / r.StepsPerMinute
	if res != nil {
		r.Builds, r.Hits = res.Stats.Supernet.Builds, res.Stats.Supernet.Hits
	}
	return r, nil
}

// BenchText prints benchmark rows, one line each.
func BenchText(rows []BenchRow) string {
	var b strings.Builder
	for _, r := range rows {
		if r.StepsPerMinute > 0 {
			fmt.Fprintf(&b, "%-44s %9.1f ms/step  %.1f steps/min: the %d-step search in %.1f min", r.What, r.MS, r.StepsPerMinute, DefaultSteps, r.SearchMinutes)
			if r.Builds+r.Hits > 0 {
				fmt.Fprintf(&b, " (%d graph builds, %d cache hits)", r.Builds, r.Hits)
			}
			b.WriteString("\n")
			continue
		}
		fmt.Fprintf(&b, "%-44s %9.1f ms/step  build %7.1f ms  first run %7.1f ms  proxy %7.1f M MACs\n", r.What, r.MS, r.BuildMS, r.FirstMS, r.MMACs)
	}
	return b.String()
}

// AblationConfig configures Ablation: each variant's search configuration is
// the default one with these settings.
type AblationConfig struct {
	// Variants are SHARING/EXPANDONE/warmup|uniform: the supernet's sharing
	// (supernet.Sharing), the space's expansion-1 rule (keep or omit; conv
	// and skip are the old names) and the op warm-up (warmup) or uniform
	// paths from the start.
	Variants             []string
	Steps, Batch, Points int
	// Batches is the number of validation batches (of 256) per path.
	Batches int
	Width   float64
	Seed    uint64
	// Progress receives one line per variant.
	Progress io.Writer
}

// AblationRow is one variant's one-shot accuracies.
type AblationRow struct {
	Variant        string    `json:"variant"`
	Scores         []float64 `json:"scores"`
	Mean, Min, Max float64
	Seconds        float64 `json:"seconds"`
}

// Ablation trains the supernet of each variant with a uniform policy and
// scores random paths (RandomPathScores): how well supernet variants learn.
func Ablation(ctx context.Context, cfg AblationConfig, ds *data.Dataset) ([]AblationRow, error) {
	if len(cfg.Variants) == 0 {
		return nil, fmt.Errorf("ablation: no variants")
	}
	if v, dup := flaglist.Repeated(cfg.Variants); dup {
		return nil, fmt.Errorf("ablation: variant %q given twice", v)
	}
	configs := make([]Config, len(cfg.Variants))
	for i, v := range cfg.Variants { // every variant checked before any trains
		var err error
		if configs[i], err = cfg.search(v); err != nil {
			return nil, err
		}
	}
	var rows []AblationRow
	for i, v := range cfg.Variants {
		sc := configs[i]
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "variant %s: %d steps...\n", v, cfg.Steps)
		}
		scores, res, err := RandomPathScores(ctx, sc, ds, nil, cfg.Points, cfg.Batches, cfg.Seed)
		if err != nil {
			return nil, fmt.Errorf("variant %s: %w", v, err)
		}
		r := AblationRow{Variant: v, Scores: scores, Min: scores[0], Max: scores[0], Seconds: res.Stats.Seconds}
		for _, s := range scores {
			r.Mean += s / float64(len(scores))
			r.Min, r.Max = min(r.Min, s), max(r.Max, s)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// search returns the search configuration of variant v.
func (cfg AblationConfig) search(v string) (Config, error) {
	parts := strings.Split(v, "/")
	if len(parts) != 3 || (parts[2] != "warmup" && parts[2] != "uniform") {
		return Config{}, fmt.Errorf("variant %q: want SHARING/EXPANDONE/warmup|uniform", v)
	}
	c := DefaultConfig()
	c.Steps, c.WidthFactor, c.BatchSize, c.ValidationBatch = cfg.Steps, cfg.Width, cfg.Batch, 256
	c.WeightLR = WeightLR(cfg.Batch)
	c.Seed, c.Snapshots = cfg.Seed, 0
	c.Sharing = supernet.Sharing(parts[0])
	switch parts[1] {
	case "conv", string(nas.ExpandOneKeep):
		c.Space.ExpandOne = nas.ExpandOneKeep
	case "skip", string(nas.ExpandOneOmit):
		c.Space.ExpandOne = nas.ExpandOneOmit
	default:
		return Config{}, fmt.Errorf("variant %q: expansion-1 rule %q (valid: keep, omit)", v, parts[1])
	}
	if parts[2] == "uniform" {
		c.OpWarmup = 0
	}
	return c, nil
}

// AblationTable tabulates the variants: mean, min and max one-shot accuracy
// and seconds.
func AblationTable(rows []AblationRow) *report.Table {
	tb := report.NewTable("sharing/expand-one/op-warm-up", "mean", "min", "max", "seconds").RightFrom(1)
	for _, r := range rows {
		tb.Row(r.Variant, fmt.Sprintf("%.3f", r.Mean), fmt.Sprintf("%.3f", r.Min), fmt.Sprintf("%.3f", r.Max), fmt.Sprintf("%.0f", r.Seconds))
	}
	return tb
}
