package main

import (
	"os"
	"path/filepath"

	"github.com/multihw/multihw/nas/demo"
	"github.com/multihw/multihw/nas/tunas"
)

func init() {
	register(&command{name: "demo", summary: "the main job in minutes: reference models, a quick multi-hardware search, its cost on every target, a short retraining, ONNX export and consistency", run: runDemo})
}

// runDemo is what `make demo` runs (package nas/demo).
func runDemo(args []string) error {
	fs := newFlags("demo", "[--out DIR] [--objective avg|max] [--train-steps N] [--seed S]")
	var c demo.Config
	fs.StringVar(&c.Out, "out", filepath.Join("out", "demo"), "output directory: a new or empty directory, or the output of an earlier demo (whose runs are replaced)")
	fs.StringVar(&c.Objective, "objective", tunas.ObjectiveAvg, "search objective: avg or max over the Pixel 4 CPU, GPU, DSP and EdgeTPU")
	fs.IntVar(&c.TrainSteps, "train-steps", 300, "training steps of the found architecture (batch 64)")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the search and the training")
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	return demo.Run(ctx, c, stdout, os.Stderr)
}
