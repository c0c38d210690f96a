package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/nas/tunas"
	"github.com/multihw/multihw/train"
	"github.com/multihw/multihw/train/data"
	"github.com/multihw/multihw/train/export"
)

func init() {
	register(&command{name: "demo", summary: "the main job in minutes: reference models, a quick multi-hardware search, its cost on every target, a short retraining, ONNX export and consistency", run: runDemo})
}

// runDemo is what `make demo` runs: the whole pipeline of the paper with
// quick settings (about 5 minutes on 2 cores, on the default backend). The
// full-size steps are `multihw search`, `multihw train` and `multihw
// consistency`; the demo says so at the end.
func runDemo(args []string) error {
	fs := newFlags("demo", "[--out DIR] [--objective avg|max] [--train-steps N] [--seed S]")
	out := fs.String("out", filepath.Join("out", "demo"), "output directory (search and training runs; replaced)")
	objective := fs.String("objective", tunas.ObjectiveAvg, "search objective: avg or max over the Pixel 4 CPU, GPU, DSP and EdgeTPU")
	steps := fs.Int("train-steps", 300, "training steps of the found architecture (batch 64)")
	seed := fs.Uint64("seed", 1, "seed of the search and the training")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *steps < 1 {
		return fmt.Errorf("--train-steps must be positive, got %d", *steps)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	if err := os.RemoveAll(*out); err != nil {
		return err
	}

	step := func(n int, what string) {
		fmt.Printf("\n== %d/5 %s (%s)\n\n", n, what, time.Since(start).Round(time.Second))
	}
	step(1, "the reference models")
	if err := runModels(nil); err != nil {
		return err
	}

	step(2, "a quick multi-hardware search (TuNAS on a weight-sharing supernet, Fashion-MNIST)")
	cfg := tunas.DefaultConfig().Quick()
	cfg.Objective, cfg.Seed = *objective, *seed
	searchDir := filepath.Join(*out, "search")
	res, err := tunas.New(cfg).Out(searchDir).Progress(os.Stdout).CheckpointEvery(cfg.Steps, 0).Run(ctx)
	if err != nil {
		return err
	}
	printSearchSummary(res, searchDir)

	step(3, "the found architecture on every target, next to the references")
	m, err := hwcost.NewMetric().Targets(hwcost.PaperTargets()...).Done()
	if err != nil {
		return err
	}
	found := res.Final.Arch
	fmt.Printf("%-24s %9s", "model (normalised to "+m.Reference()+")", "MMACs")
	for _, t := range m.TargetNames() {
		fmt.Printf(" %15s", t)
	}
	fmt.Printf(" %6s %6s\n", "AVG", "MAX")
	for _, name := range []string{"mobilenet_v2", "multi_avg", "multi_max", ""} {
		a := found
		if name != "" {
			if a, err = blocks.Model(name); err != nil {
				return err
			}
		}
		c, err := m.Evaluate(a)
		if err != nil {
			return err
		}
		fmt.Printf("%-24s %9.1f", a.Name, float64(c.MACs)/1e6)
		for _, t := range c.Targets {
			fmt.Printf(" %15.3f", c.Normalized[t])
		}
		fmt.Printf(" %6.3f %6.3f\n", c.Avg, c.Max)
	}

	step(4, fmt.Sprintf("retraining the found architecture alone (%d steps: a smoke run, not a result)", *steps))
	ds, err := data.NewLoader(cfg.Dataset).Validation(data.DefaultValidation).Seed(*seed).Load()
	if err != nil {
		return err
	}
	r := train.QuickRecipe(*steps)
	trainDir := filepath.Join(*out, "train")
	tr, err := train.New(found, ds).Recipe(r).Seed(*seed).Out(trainDir).EvalEvery(*steps).Progress(os.Stdout).Run(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("test accuracy %.2f%% on %d images after %d steps (%.0f ms per step)\n", 100*tr.Test.Accuracy, tr.Test.N, tr.Steps, tr.StepMS)

	step(5, "export to ONNX and check the outputs on each backend")
	ck, err := train.LoadCheckpoint(trainDir)
	if err != nil {
		return err
	}
	backends := []string{"go"}
	if _, err := export.ONNXRuntime(); err == nil {
		backends = append(backends, "onnx")
		rep, err := export.ONNX(ck, filepath.Join(trainDir, "model.onnx"), export.Options{})
		if err != nil {
			return err
		}
		fmt.Printf("wrote %s (%.0f KB)\n", rep.Path, float64(rep.Bytes)/1024)
	} else {
		fmt.Printf("ONNX Runtime not available (make setup installs it): %v\n", err)
	}
	cr, err := export.Consistency(ck, ds, backends, 100, 500)
	if err != nil {
		return err
	}
	for _, b := range cr.PerBackend {
		fmt.Printf("%-5s accuracy %.2f%%, max |logit diff| vs %s %.2g, top-1 agreement %.4f\n", b.Name, 100*b.Accuracy,
			cr.Backends[0], b.MaxAbsLogitDiff, b.Top1Agreement)
	}

	fmt.Printf("\ndemo done in %s; runs in %s.\nFull size: multihw search --objective %s --out DIR (about 30 min), multihw train --spec DIR/arch.txt --dataset fashion-mnist, multihw consistency --checkpoint RUN.\n",
		time.Since(start).Round(time.Second), *out, *objective)
	return nil
}
