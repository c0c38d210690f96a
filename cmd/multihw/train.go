package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

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

// recipeFlags registers the flags of a train.Recipe into r, with
// DefaultRecipe's defaults, and returns the spec of --augment.
func recipeFlags(fs *flag.FlagSet, r *train.Recipe) *string {
	*r = train.DefaultRecipe()
	fs.Float64Var(&r.Epochs, "epochs", r.Epochs, "training length in epochs")
	fs.IntVar(&r.Steps, "steps", 0, "training length in steps (overrides --epochs)")
	fs.IntVar(&r.BatchSize, "batch", r.BatchSize, "batch size")
	fs.Float64Var(&r.LearningRate, "lr", r.LearningRate, "peak learning rate (after the warm-up)")
	fs.StringVar((*string)(&r.Optimizer), "optimizer", string(r.Optimizer), "optimizer: sgd (Nesterov momentum), rmsprop (TF-style) or adam")
	fs.Float64Var(&r.Momentum, "momentum", r.Momentum, "momentum (Adam: beta1)")
	fs.BoolVar(&r.Nesterov, "nesterov", r.Nesterov, "Nesterov momentum (sgd)")
	fs.Float64Var(&r.Decay, "decay", 0, "RMSProp rho / Adam beta2 (0: 0.9 / 0.999)")
	fs.Float64Var(&r.Epsilon, "epsilon", 0, "RMSProp / Adam epsilon (0: 0.002 / 1e-7)")
	fs.StringVar((*string)(&r.Schedule), "schedule", string(r.Schedule), "learning-rate schedule after the warm-up: cosine or constant")
	fs.Float64Var(&r.WarmupEpochs, "warmup", r.WarmupEpochs, "linear warm-up length in epochs")
	fs.Float64Var(&r.FinalLRFraction, "final-lr", r.FinalLRFraction, "final learning rate of the cosine, as a fraction of the peak")
	fs.Float64Var(&r.WeightDecay, "weight-decay", r.WeightDecay, "L2 weight decay on kernels")
	fs.Float64Var(&r.LabelSmoothing, "label-smoothing", r.LabelSmoothing, "label smoothing")
	fs.Float64Var(&r.BNMomentum, "bn-momentum", r.BNMomentum, "BatchNorm moving-average momentum")
	fs.IntVar(&r.BNRecalibrationBatches, "bn-recalibrate", r.BNRecalibrationBatches, "batches used to recompute the BatchNorm averages before the final evaluation (0: off)")
	return fs.String("augment", "default", "training augmentation: default (the dataset's), none, or pad=N[,flip]")
}

// recipeFlagNames are the flags recipeFlags registers.
var recipeFlagNames = []string{"epochs", "steps", "batch", "lr", "optimizer", "momentum", "nesterov", "decay", "epsilon",
	"schedule", "warmup", "final-lr", "weight-decay", "label-smoothing", "bn-momentum", "bn-recalibrate", "augment"}

// loadDataset loads a dataset spec with a progress line for slow folder datasets.
func loadDataset(spec string, validation float64, quiet bool) (*data.Dataset, error) {
	start := time.Now()
	ds, err := data.NewLoader(spec).Validation(validation).Load()
	if err != nil {
		return nil, err
	}
	if !quiet {
		fmt.Fprintf(os.Stderr, "dataset: %s (loaded in %s)\n", ds, time.Since(start).Round(time.Millisecond))
	}
	return ds, nil
}

// applyTrainFlags sets the recipe, adaptation and seed of cfg. On resume
// the checkpoint's apply; flags given explicitly must agree with them (Run
// checks).
func applyTrainFlags(cfg *train.Config, resume bool, set map[string]bool, r train.Recipe, adapt blocks.Adapt, seed uint64) {
	recipeGiven := false
	for _, n := range recipeFlagNames {
		recipeGiven = recipeGiven || set[n]
	}
	if !resume || recipeGiven {
		cfg.Recipe(r)
	}
	if !resume || set["adapt"] {
		cfg.Adapt(adapt)
	}
	if !resume || set["seed"] {
		cfg.Seed(seed)
	}
}

func runTrain(args []string) error {
	fs := newFlags("train", "--model NAME | --spec FILE --dataset SPEC [--width W] [--epochs E | --steps S] [--batch B] [--out DIR] [--resume] [--seed N] [--json]")
	var af archFlags
	fs.StringVar(&af.model, "model", "", "reference model name (see `multihw models`)")
	fs.StringVar(&af.spec, "spec", "", "architecture spec file (JSON or text form)")
	fs.Float64Var(&af.width, "width", 1, "width multiplier")
	dataset := fs.String("dataset", data.KindFashionMNIST, "dataset: "+data.SpecHelp)
	validation := fs.Float64("validation", data.DefaultValidation, "fraction of the training split held out for validation")
	var r train.Recipe
	augment := recipeFlags(fs, &r)
	adapt := fs.String("adapt", string(blocks.DefaultAdapt), fmt.Sprintf("small-input adaptation of the strides: %v", blocks.Adapts))
	seed := fs.Uint64("seed", 1, "seed of initialisation, dropout and batch order")
	out := fs.String("out", "", "output directory: checkpoints, metrics.jsonl, result.json")
	resume := fs.Bool("resume", false, "continue the run in --out from its newest valid checkpoint (a new run, with a note, if it holds none)")
	overwrite := fs.Bool("overwrite", false, "replace the training run in --out (its checkpoints, metrics and result; nothing else)")
	budget := fs.Duration("time", 0, "stop training after this much training time (e.g. 30m); the schedule still follows --epochs/--steps")
	evalEvery := fs.Int("eval-every", 0, "steps between validation evaluations (0: one per epoch)")
	ckptEvery := fs.Duration("checkpoint-every", 5*time.Minute, "wall time between checkpoints (besides one at every evaluation)")
	keep := fs.Int("keep", 3, "checkpoints kept")
	asJSON := fs.Bool("json", false, "print the result as JSON (no progress output)")
	if err := parse(fs, args); err != nil {
		return err
	}
	set := setFlags(fs)
	// Flags first, then the output directory (read only), then the data.
	if (*resume || *overwrite) && *out == "" {
		return fmt.Errorf("--resume and --overwrite need --out DIR")
	}
	if *resume && *overwrite {
		return fmt.Errorf("give --resume or --overwrite, not both")
	}
	var err error
	if r.Augment, err = data.ParseAugment(*augment); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return err
	}
	if !slices.Contains(blocks.Adapts, blocks.Adapt(*adapt)) {
		return fmt.Errorf("unknown --adapt %q (valid: %v)", *adapt, blocks.Adapts)
	}
	if *keep < 1 || *evalEvery < 0 || *ckptEvery < 0 || *budget < 0 {
		return fmt.Errorf("--keep must be positive; --eval-every, --checkpoint-every and --time must not be negative")
	}
	if *out != "" {
		if err := train.CheckOutputDir(*out); err != nil {
			return err
		}
	}
	var ck *train.Checkpoint
	if *resume {
		if ck, err = train.LoadCheckpoint(*out); err != nil && !errors.Is(err, train.ErrNoCheckpoint) && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	var arch *blocks.Arch
	if af.model != "" || af.spec != "" || ck == nil {
		var err error
		if arch, err = af.load(); err != nil {
			return err
		}
	}
	spec := *dataset
	if ck != nil && !set["dataset"] {
		spec = ck.Dataset.Spec()
	}
	ds, err := loadDataset(spec, *validation, *asJSON)
	if err != nil {
		return err
	}
	cfg := train.New(arch, ds).Out(*out).Resume(*resume).Overwrite(*overwrite).TimeBudget(*budget).EvalEvery(*evalEvery).
		CheckpointEvery(*ckptEvery, 0).Keep(*keep)
	applyTrainFlags(cfg, ck != nil, set, r, blocks.Adapt(*adapt), *seed)
	if !*asJSON {
		cfg.Progress(os.Stderr)
	}
	ctx, stop := interruptible()
	defer stop()
	res, err := cfg.Run(ctx)
	if err != nil {
		if errors.Is(err, context.Canceled) && *out != "" {
			return fmt.Errorf("interrupted; continue with: multihw train --out %s --resume", *out)
		}
		return err
	}
	if *asJSON {
		return printJSON(res)
	}
	printf("%s", res.Summary())
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

// loadCheckpointData loads a checkpoint and, when spec is set, that dataset
// with the checkpoint's validation split (nil: the checkpoint's own dataset).
func loadCheckpointData(ckPath, spec string, quiet bool) (*train.Checkpoint, *data.Dataset, error) {
	if ckPath == "" {
		return nil, nil, fmt.Errorf("missing --checkpoint")
	}
	ck, err := train.LoadCheckpoint(ckPath)
	if err != nil {
		return nil, nil, err
	}
	for _, n := range ck.Notes {
		fmt.Fprintf(os.Stderr, "note: %s\n", n)
	}
	if spec == "" {
		return ck, nil, nil
	}
	ds, err := loadDataset(spec, ck.Dataset.ValidationFraction(), quiet)
	if err != nil {
		return nil, nil, err
	}
	return ck, ds, nil
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
	ck, ds, err := loadCheckpointData(*ckPath, *dataset, *asJSON)
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
	printf("%s accuracy %.2f%% on %d images, mean cross-entropy %.4f\n\n", res.Split, 100*res.Accuracy, res.N, res.Loss)
	printf("%s\nmulti-hardware cost of %s at %d px (normalised to %s):\n%sAVG %.3f  MAX %.3f\n", res.ConfusionTable().Text(),
		ck.Arch.Name, cost.Resolution, cost.Reference, cost.Table().Text(), cost.Avg, cost.Max)
	return nil
}

func runExport(args []string) error {
	fs := newFlags("export", "--checkpoint DIR|FILE --onnx FILE [--opset N] [--lowered [--batch B]] [--check N] [--json]")
	ckPath := fs.String("checkpoint", "", "checkpoint file, or a run directory (its newest checkpoint)")
	path := fs.String("onnx", "", "ONNX file to write")
	opset := fs.Int("opset", export.DefaultOpset, fmt.Sprintf("ONNX opset of the deployment graph (%d to %d)", export.MinOpset, export.MaxOpset))
	lowered := fs.Bool("lowered", false, "write instead the Go backend's MatMul/window lowering as gomlx converts it (a diagnostic: BatchNorm at run time, fixed batch, the converter's opset)")
	batch := fs.Int("batch", 1, "with --lowered: the graph's fixed batch size (the deployment graph's batch is dynamic)")
	check := fs.Int("check", 0, "random images compared between the reloaded file and the Go backend (default 4)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	set := setFlags(fs)
	if *ckPath == "" || *path == "" {
		return fmt.Errorf("missing --checkpoint or --onnx")
	}
	opts := export.Options{CheckImages: *check, Lowered: *lowered}
	switch {
	case *check < 0:
		return fmt.Errorf("--check must be >= 0, got %d", *check)
	case *lowered && set["opset"]:
		return fmt.Errorf("--opset applies to the deployment graph; the --lowered graph has the opset of gomlx's converter")
	case !*lowered && set["batch"]:
		return fmt.Errorf("--batch applies to --lowered only: the deployment graph's batch dimension is dynamic")
	case *lowered && *batch < 1:
		return fmt.Errorf("--batch must be positive, got %d", *batch)
	case *lowered:
		opts.Batch = *batch
	default:
		if err := export.CheckOpset(*opset); err != nil {
			return fmt.Errorf("--opset: %w", err)
		}
		opts.Opset = *opset
	}
	if st, err := os.Lstat(*path); err == nil && !st.Mode().IsRegular() {
		return fmt.Errorf("--onnx %s exists and is not a regular file: refusing to replace it", *path)
	}
	ck, _, err := loadCheckpointData(*ckPath, "", *asJSON)
	if err != nil {
		return err
	}
	rep, err := export.ONNX(ck, *path, opts)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(rep)
	}
	printf("%s", rep.Summary())
	return nil
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
	ck, ds, err := loadCheckpointData(*ckPath, *dataset, *asJSON)
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
