package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/train"
	"github.com/multihw/multihw/train/data"
	"github.com/multihw/multihw/train/export"
)

// The training command group: train, eval, export, consistency. The work is
// done by package train (and train/export); these functions parse flags and
// print.
func init() {
	register(&command{name: "train", summary: "train an architecture on a small-image dataset (checkpoints, --resume)", run: runTrain})
	register(&command{name: "eval", summary: "evaluate a checkpoint: accuracy, per-class accuracy, confusion matrix, hardware cost", run: runEval})
	register(&command{name: "export", summary: "export a checkpoint's inference graph to ONNX and check it loads back", run: runExport})
	register(&command{name: "consistency", summary: "run a checkpoint on several backends (go, onnx, xla) and compare the logits", run: runConsistency})
}

func runTrain(args []string) error {
	fs := newFlags("train", "--model NAME | --spec FILE --dataset SPEC [--width W] [--epochs E | --steps S] [--batch B] [--out DIR] [--resume] [--seed N] [--json]")
	var af blocks.ArchFlags
	af.Register(fs, false)
	var f train.Flags
	f.Register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	// Flags first, then the output directory (read only), then the data.
	ck, err := f.Check(fs)
	if err != nil {
		return err
	}
	var arch *blocks.Arch
	if af.Given() || ck == nil {
		if arch, err = af.Load(); err != nil {
			return err
		}
	}
	ds, err := f.LoadDataset(ck, progressTo(!f.JSON))
	if err != nil {
		return err
	}
	cfg := f.Config(arch, ds, ck)
	if !f.JSON {
		cfg.Progress(os.Stderr)
	}
	ctx, stop := interruptible()
	defer stop()
	res, err := cfg.Run(ctx)
	if err != nil {
		if errors.Is(err, context.Canceled) && f.Out != "" {
			return fmt.Errorf("interrupted; continue with: multihw train --out %s --resume", f.Out)
		}
		return err
	}
	return emit(f.JSON, res, res.Summary)
}

// progressTo is stderr for progress lines, or nil where they are off.
func progressTo(on bool) io.Writer {
	if on {
		return os.Stderr
	}
	return nil
}

// evalOutput is the JSON output of `multihw eval`.
type evalOutput struct {
	Checkpoint string `json:"checkpoint"`
	Step       int    `json:"step"`
	Final      bool   `json:"final"`
	*train.EvalResult
	Arch      *blocks.Arch   `json:"arch"`
	TrainArch *blocks.Arch   `json:"train_arch"`
	Cost      *hwcost.Result `json:"cost"`
}

func runEval(args []string) error {
	fs := newFlags("eval", "--checkpoint DIR|FILE [--dataset SPEC] [--split test|validation] [--json]")
	ckPath := fs.String("checkpoint", "", "checkpoint file, or a run directory (its newest checkpoint)")
	dataset := fs.String("dataset", "", "dataset (default: the one the checkpoint was trained on): "+data.SpecHelp)
	split := fs.String("split", train.SplitTest, "split: test or validation")
	batch := fs.Int("batch", 256, "evaluation batch size")
	hardware := fs.String("hardware", "paper", "cost targets: paper, mnv4, all or names (comma-separated)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *batch < 1 {
		return fmt.Errorf("--batch must be positive, got %d", *batch)
	}
	if *split != train.SplitTest && *split != train.SplitValidation {
		return fmt.Errorf("unknown --split %q (valid: %s, %s)", *split, train.SplitTest, train.SplitValidation)
	}
	metric, err := hwcost.NewMetric().Targets(strings.Split(*hardware, ",")...).Done()
	if err != nil {
		return err
	}
	ck, ds, err := train.LoadCheckpointData(*ckPath, *dataset, os.Stderr, progressTo(!*asJSON))
	if err != nil {
		return err
	}
	res, err := train.EvaluateCheckpoint(ck, ds, *split, nil, *batch)
	if err != nil {
		return err
	}
	cost, err := metric.Evaluate(ck.Arch)
	if err != nil {
		return err
	}
	out := evalOutput{Checkpoint: ck.Path, Step: ck.Step, Final: ck.Final, EvalResult: res, Arch: ck.Arch, TrainArch: ck.TrainArch, Cost: cost}
	if *asJSON {
		return printJSON(out)
	}
	printf("%s: %s step %d%s\n", ck.Path, ck.Arch.Name, ck.Step, map[bool]string{true: " (final)"}[ck.Final])
	printf("%s accuracy %s, mean cross-entropy %.4f\n\n", res.Split, res.AccuracyText(), res.Loss)
	printf("%s\nmulti-hardware cost of %s at %d px (normalised to %s):\n%sAVG %.3f  MAX %.3f\n", res.ConfusionTable().Text(),
		ck.Arch.Name, cost.Resolution, cost.Reference, cost.Table().Text(), cost.Avg, cost.Max)
	return nil
}

func runExport(args []string) error {
	fs := newFlags("export", "--checkpoint DIR|FILE --onnx FILE [--opset N] [--lowered [--batch B]] [--check N] [--json]")
	var f export.Flags
	f.Register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	opts, err := f.Options(fs)
	if err != nil {
		return err
	}
	ck, _, err := train.LoadCheckpointData(f.Checkpoint, "", os.Stderr, progressTo(!*asJSON))
	if err != nil {
		return err
	}
	rep, err := export.ONNX(ck, f.Path, opts)
	if err != nil {
		return err
	}
	return emit(*asJSON, rep, rep.Summary)
}

func runConsistency(args []string) error {
	fs := newFlags("consistency", "--checkpoint DIR|FILE [--backends go,onnx,xla] [--dataset SPEC] [--limit N] [--json]")
	ckPath := fs.String("checkpoint", "", "checkpoint file, or a run directory (its newest checkpoint)")
	backends := fs.String("backends", "go,onnx,xla?", "backends to compare, the first the reference; each must run, except those marked optional with a trailing ? (skipped with a note when they cannot)")
	dataset := fs.String("dataset", "", "dataset (default: the one the checkpoint was trained on): "+data.SpecHelp)
	limit := fs.Int("limit", 0, "use only the first N test images (0: all)")
	batch := fs.Int("batch", 100, "batch size")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *batch < 1 || *limit < 0 {
		return fmt.Errorf("--batch must be positive and --limit >= 0")
	}
	ck, ds, err := train.LoadCheckpointData(*ckPath, *dataset, os.Stderr, progressTo(!*asJSON))
	if err != nil {
		return err
	}
	res, err := export.Consistency(ck, ds, strings.Split(*backends, ","), *batch, *limit)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(res)
	}
	printf("%s step %d on %d test images, reference %s:\n%s", ck.Arch.Name, ck.Step, res.N, res.Backends[0], res.Summary())
	return nil
}
