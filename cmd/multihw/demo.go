package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/internal/rundir"
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
	out := fs.String("out", filepath.Join("out", "demo"), "output directory: a new or empty directory, or the output of an earlier demo (whose runs are replaced)")
	objective := fs.String("objective", tunas.ObjectiveAvg, "search objective: avg or max over the Pixel 4 CPU, GPU, DSP and EdgeTPU")
	steps := fs.Int("train-steps", 300, "training steps of the found architecture (batch 64)")
	seed := fs.Uint64("seed", 1, "seed of the search and the training")
	if err := parse(fs, args); err != nil {
		return err
	}
	// Everything is checked before the output directory is touched.
	if *steps < 1 {
		return fmt.Errorf("--train-steps must be positive, got %d", *steps)
	}
	if *objective != tunas.ObjectiveAvg && *objective != tunas.ObjectiveMax {
		return fmt.Errorf("--objective must be %s or %s, got %q", tunas.ObjectiveAvg, tunas.ObjectiveMax, *objective)
	}
	cfg := tunas.DefaultConfig().Quick()
	cfg.Objective, cfg.Seed = *objective, *seed
	if err := cfg.Validate(); err != nil {
		return err
	}
	if _, err := export.ONNXRuntime(); err != nil {
		return fmt.Errorf("the demo exports to ONNX and compares the Go backend with ONNX Runtime, which cannot be loaded (make demo installs it; or run make setup): %w", err)
	}
	ds, err := data.NewLoader(cfg.Dataset).Validation(data.DefaultValidation).Seed(*seed).Load()
	if err != nil {
		return fmt.Errorf("the demo's dataset: %w (make demo installs Fashion-MNIST; or run make setup)", err)
	}
	dir, err := rundir.Open(*out, demoKind)
	if err != nil {
		return err
	}
	defer dir.Close()
	for _, n := range dir.Notes {
		fmt.Fprintf(os.Stderr, "note: %s\n", n)
	}
	ctx, stop := interruptible()
	defer stop()
	start := time.Now()

	step := func(n int, what string) {
		printf("\n== %d/5 %s (%s)\n\n", n, what, time.Since(start).Round(time.Second))
	}
	step(1, "the reference models")
	if err := runModels(nil); err != nil {
		return err
	}

	step(2, "a quick multi-hardware search (TuNAS on a weight-sharing supernet, Fashion-MNIST)")
	// The demo's own runs (sub-directories it created) are replaced: each
	// removes only its own files (tunas and train Overwrite).
	searchDir := filepath.Join(*out, "search")
	res, err := tunas.New(cfg).Dataset(ds).Out(searchDir).Overwrite(true).Progress(os.Stdout).CheckpointEvery(cfg.Steps, 0).Run(ctx)
	if err != nil {
		return err
	}
	printf("%s", res.Summary(searchDir))

	step(3, "the found architecture on every target, next to the references")
	found := res.Final.Arch
	if err := printLatencyTable(found); err != nil {
		return err
	}

	step(4, fmt.Sprintf("retraining the found architecture alone (%d steps: a smoke run, not a result)", *steps))
	r := train.QuickRecipe(*steps)
	trainDir := filepath.Join(*out, "train")
	tr, err := train.New(found, ds).Recipe(r).Seed(*seed).Out(trainDir).Overwrite(true).EvalEvery(*steps).Progress(os.Stdout).Run(ctx)
	if err != nil {
		return err
	}
	printf("test accuracy %.2f%% on %d images after %d steps (%.0f ms per step)\n", 100*tr.Test.Accuracy, tr.Test.N, tr.Steps, tr.StepMS)

	step(5, "export to ONNX and check the outputs on each backend")
	if err := demoExport(trainDir, ds); err != nil {
		return err
	}

	printf("\ndemo done in %s; runs in %s.\nFull size: multihw search --objective %s --out DIR (about 30 min), multihw train --spec DIR/arch.txt --dataset fashion-mnist, multihw consistency --checkpoint RUN.\n",
		time.Since(start).Round(time.Second), *out, *objective)
	return nil
}

// printLatencyTable prints the model x target table of the references and a.
func printLatencyTable(a *blocks.Arch) error {
	m, err := hwcost.NewMetric().Targets(hwcost.PaperTargets()...).Done()
	if err != nil {
		return err
	}
	archs, err := blocks.Models("mobilenet_v2", "multi_avg", "multi_max")
	if err != nil {
		return err
	}
	tbl, err := m.Table(append(archs, a)...)
	if err != nil {
		return err
	}
	printf("latency normalised to %s:\n%s", m.Reference(), tbl.Text())
	return nil
}

// demoExport exports the newest checkpoint of the training run in dir to
// ONNX and compares it on the Go backend and ONNX Runtime.
func demoExport(dir string, ds *data.Dataset) error {
	ck, err := train.LoadCheckpoint(dir)
	if err != nil {
		return err
	}
	rep, err := export.ONNX(ck, filepath.Join(dir, "model.onnx"), export.Options{})
	if err != nil {
		return err
	}
	printf("wrote %s (%.0f KB)\n", rep.Path, float64(rep.Bytes)/1024)
	cr, err := export.Consistency(ck, ds, []string{"go", "onnx"}, 100, 500)
	if err != nil {
		return err
	}
	printf("reference %s:\n%s", cr.Backends[0], cr.Summary())
	return nil
}

// demoKind is the demo's output directory: its two runs, search/ and train/
// (before markers existed, a demo directory held just those).
var demoKind = rundir.Kind{
	Name: "demo",
	Legacy: func(names []string) bool {
		for _, n := range names {
			if n != "search" && n != "train" {
				return false
			}
		}
		return true
	},
}
