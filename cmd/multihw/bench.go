package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/train"
	"github.com/multihw/multihw/train/export"
	"github.com/multihw/multihw/train/optim"
)

// The bench command group: speed measurements printed as ratios measured side
// by side in one run (the machines are shared, so absolute times drift; the
// ratio of interleaved measurements does not). Each subcommand registers here.
func init() {
	register(&command{name: "bench train", summary: "training step time: lowered conv blocks vs stock graph.Convolve, side by side", run: runBenchTrain})
}

func runBenchTrain(args []string) error {
	fs := newFlags("bench train", "[--steps N] [--warmup N] [--batch B] [--optimizer sgd|rmsprop|adam] [--json]")
	steps := fs.Int("steps", 5, "timed training steps per variant")
	warmup := fs.Int("warmup", 2, "untimed steps per variant first (the first one compiles the graph)")
	batch := fs.Int("batch", 64, "batch size")
	kind := fs.String("optimizer", string(train.DefaultRecipe().Optimizer), "optimizer of both variants, with the rest of the default training recipe (as multihw train runs it): sgd (Nesterov), rmsprop or adam")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *steps < 1 || *warmup < 1 || *batch < 1 {
		return fmt.Errorf("--steps, --warmup and --batch must be positive (got %d, %d, %d)", *steps, *warmup, *batch)
	}
	if err := optim.Kind(*kind).Validate(); err != nil {
		return fmt.Errorf("--optimizer: %w", err)
	}
	be, err := backend.Default()
	if err != nil {
		return err
	}
	res, err := train.BenchTrain(be, optim.Kind(*kind), *steps, *warmup, *batch, os.Stderr)
	if err != nil {
		return err
	}
	// A comparison that could not run both sides fails (after showing what
	// it measured): a speed-up of one variant alone is no result.
	var incomplete error
	if res.StockError != "" {
		incomplete = fmt.Errorf("the stock variant cannot train on %s, so there is no comparison: %s", be, train.FirstLine(res.StockError))
	}
	if *asJSON {
		return errors.Join(printJSON(res), incomplete)
	}
	printf("%s", res.Summary())
	return incomplete
}

// bench infer: batch-1 inference on the Go backend vs ONNX Runtime.
func init() {
	register(&command{name: "bench infer", summary: "batch-1 inference time: Go backend vs ONNX Runtime (exported model), side by side", run: runBenchInfer})
}

func runBenchInfer(args []string) error {
	fs := newFlags("bench infer", "[--model NAME[,NAME...]|all | --spec FILE] [--width W] [--resolution R] [--classes C] [--runs N] [--warmup N] [--lowered] [--json]")
	var af blocks.ArchFlags
	af.Register(fs, true)
	runs := fs.Int("runs", 20, "timed runs per backend")
	warmup := fs.Int("warmup", 3, "untimed runs per backend first")
	lowered := fs.Bool("lowered", false, "export the MatMul/window lowering to ONNX instead of standard Conv nodes")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if !af.Given() {
		af.Model = "multi_avg"
	}
	archs, err := af.LoadList()
	if err != nil {
		return err
	}
	var results []*export.BenchResult
	for i, arch := range archs {
		prefix := "bench infer: "
		if len(archs) > 1 {
			prefix = fmt.Sprintf("bench infer: %s (%d/%d): ", arch.Name, i+1, len(archs))
		}
		res, err := export.BenchInfer(arch, *runs, *warmup, *lowered, 1, func(s string) { fmt.Fprintf(os.Stderr, "%s%s\n", prefix, s) })
		if err != nil {
			return fmt.Errorf("%s: %w", arch.Name, err)
		}
		results = append(results, res)
	}
	if len(results) == 1 {
		return emit(*asJSON, results[0], results[0].Summary)
	}
	return emit(*asJSON, results, func() string { return export.BenchTable(results) })
}
