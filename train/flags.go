package train

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/flaglist"
	"github.com/multihw/multihw/train/data"
	"github.com/multihw/multihw/train/optim"
)

// Flags bind a training run to the command-line flags of `multihw train`
// (all but the architecture's): Register defines them with DefaultRecipe's
// values, Check validates them and finds the checkpoint to resume, Config
// configures the run.
type Flags struct {
	recipe           Recipe
	augment, adapt   string
	seed             uint64
	validation       float64
	budget, ckptWall time.Duration
	evalEvery, keep  int
	set              map[string]bool

	Dataset, Out      string
	Resume, Overwrite bool
	JSON              bool
}

// recipeFlagNames are the flags registerRecipe defines.
var recipeFlagNames = []string{"epochs", "steps", "batch", "lr", "optimizer", "momentum", "nesterov", "decay", "epsilon",
	"schedule", "warmup", "final-lr", "weight-decay", "label-smoothing", "bn-momentum", "bn-recalibrate", "augment"}

// registerRecipe defines the flags of a Recipe into r, with DefaultRecipe's
// defaults, and --augment into augment.
func registerRecipe(fs *flag.FlagSet, r *Recipe, augment *string) {
	*r = DefaultRecipe()
	fs.Float64Var(&r.Epochs, "epochs", r.Epochs, "training length in epochs")
	fs.IntVar(&r.Steps, "steps", 0, "training length in steps (overrides --epochs; 0: --epochs)")
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
	fs.StringVar(augment, "augment", "default", "training augmentation: default (the dataset's), none, or pad=N[,flip]")
}

// EpochsMode is the mode of an --epochs flag beside a steps flag (named
// stepsFlag, with value steps) that overrides it: given together with a
// non-zero steps flag, --epochs would be ignored (and a bad value of it
// accepted), so it is refused.
func EpochsMode(steps int, stepsFlag string) flaglist.Mode {
	return flaglist.Mode{Flags: []string{"epochs"}, Chosen: steps == 0,
		For: fmt.Sprintf("a length in epochs, which %s %d overrides", stepsFlag, steps)}
}

// Register defines the flags in fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Dataset, "dataset", data.KindFashionMNIST, "dataset: "+data.SpecHelp)
	fs.Float64Var(&f.validation, "validation", data.DefaultValidation, "fraction of the training split held out for validation")
	registerRecipe(fs, &f.recipe, &f.augment)
	fs.StringVar(&f.adapt, "adapt", string(blocks.DefaultAdapt), fmt.Sprintf("small-input adaptation of the strides: %v", blocks.Adapts))
	fs.Uint64Var(&f.seed, "seed", 1, "seed of initialisation, dropout and batch order")
	fs.StringVar(&f.Out, "out", "", "output directory: checkpoints, metrics.jsonl, result.json")
	fs.BoolVar(&f.Resume, "resume", false, "continue the run in --out from its newest valid checkpoint (a new run, with a note, if it holds none)")
	fs.BoolVar(&f.Overwrite, "overwrite", false, "replace the training run in --out (its checkpoints, metrics and result; nothing else)")
	fs.DurationVar(&f.budget, "time", 0, "stop training after this much training time (e.g. 30m); the schedule still follows --epochs/--steps")
	fs.IntVar(&f.evalEvery, "eval-every", 0, "steps between validation evaluations (0: one per epoch)")
	fs.DurationVar(&f.ckptWall, "checkpoint-every", 5*time.Minute, "wall time between checkpoints (besides one at every evaluation)")
	fs.IntVar(&f.keep, "keep", 3, "checkpoints kept")
	fs.BoolVar(&f.JSON, "json", false, "print the result as JSON (no progress output)")
}

// Check validates the flags of the parsed fs, then the output directory (read
// only), and returns the checkpoint of --resume (nil: none, or no --resume).
func (f *Flags) Check(fs *flag.FlagSet) (*Checkpoint, error) {
	f.set = flaglist.Given(fs)
	if (f.Resume || f.Overwrite) && f.Out == "" {
		return nil, fmt.Errorf("--resume and --overwrite need --out DIR")
	}
	if f.Resume && f.Overwrite {
		return nil, fmt.Errorf("give --resume or --overwrite, not both")
	}
	var err error
	if f.recipe.Augment, err = data.ParseAugment(f.augment); err != nil {
		return nil, err
	}
	if err := f.recipe.Validate(); err != nil {
		return nil, err
	}
	sgd := f.recipe.Optimizer == optim.SGD
	if err := flaglist.Unused(fs, flaglist.Mode{Flags: []string{"decay", "epsilon"}, Chosen: !sgd, For: "--optimizer rmsprop and adam"},
		flaglist.Mode{Flags: []string{"nesterov"}, Chosen: sgd, For: "--optimizer sgd"},
		EpochsMode(f.recipe.Steps, "--steps")); err != nil {
		return nil, err
	}
	if !slices.Contains(blocks.Adapts, blocks.Adapt(f.adapt)) {
		return nil, fmt.Errorf("unknown --adapt %q (valid: %v)", f.adapt, blocks.Adapts)
	}
	if f.keep < 1 || f.evalEvery < 0 || f.ckptWall < 0 || f.budget < 0 {
		return nil, fmt.Errorf("--keep must be positive; --eval-every, --checkpoint-every and --time must not be negative")
	}
	if f.Out != "" {
		if err := CheckOutputDir(f.Out); err != nil {
			return nil, err
		}
	}
	if !f.Resume {
		return nil, nil
	}
	ck, err := LoadCheckpoint(f.Out)
	if err != nil && !errors.Is(err, ErrNoCheckpoint) && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return ck, nil
}

// DatasetSpec is --dataset, or on resume without it the checkpoint's.
func (f *Flags) DatasetSpec(ck *Checkpoint) string {
	if ck != nil && !f.set["dataset"] {
		return ck.Dataset.Spec()
	}
	return f.Dataset
}

// LoadDataset loads the dataset of DatasetSpec with the flags' validation
// split, writing a line about it to progress (nil: none).
func (f *Flags) LoadDataset(ck *Checkpoint, progress io.Writer) (*data.Dataset, error) {
	return LoadDataset(f.DatasetSpec(ck), f.validation, progress)
}

// Config is the run of arch on ds the flags describe. On resuming ck, the
// checkpoint's recipe, adaptation and seed apply; flags given explicitly
// must agree with them (Run checks).
func (f *Flags) Config(arch *blocks.Arch, ds *data.Dataset, ck *Checkpoint) *Config {
	cfg := New(arch, ds).Out(f.Out).Resume(f.Resume).Overwrite(f.Overwrite).TimeBudget(f.budget).EvalEvery(f.evalEvery).
		CheckpointEvery(f.ckptWall, 0).Keep(f.keep)
	resume := ck != nil
	recipeGiven := false
	for _, n := range recipeFlagNames {
		recipeGiven = recipeGiven || f.set[n]
	}
	if !resume || recipeGiven {
		cfg.Recipe(f.recipe)
	}
	if !resume || f.set["adapt"] {
		cfg.Adapt(blocks.Adapt(f.adapt))
	}
	if !resume || f.set["seed"] {
		cfg.Seed(f.seed)
	}
	return cfg
}

// LoadDataset loads a dataset spec with the given validation fraction,
// writing a line about it (with the load time: folder datasets are slow) to
// progress (nil: none).
func LoadDataset(spec string, validation float64, progress io.Writer) (*data.Dataset, error) {
	start := time.Now()
	ds, err := data.NewLoader(spec).Validation(validation).Load()
	if err != nil {
		return nil, err
	}
	if progress != nil {
		fmt.Fprintf(progress, "dataset: %s (loaded in %s)\n", ds, time.Since(start).Round(time.Millisecond))
	}
	return ds, nil
}

// LoadCheckpointData loads a checkpoint (writing its notes to notes) and,
// when spec is set, that dataset with the checkpoint's validation split (nil:
// the checkpoint's own dataset), writing a line about it to progress.
func LoadCheckpointData(path, spec string, notes, progress io.Writer) (*Checkpoint, *data.Dataset, error) {
	if path == "" {
		return nil, nil, fmt.Errorf("missing --checkpoint")
	}
	ck, err := LoadCheckpoint(path)
	if err != nil {
		return nil, nil, err
	}
	for _, n := range ck.Notes {
		fmt.Fprintf(notes, "note: %s\n", n)
	}
	if spec == "" {
		return ck, nil, nil
	}
	ds, err := LoadDataset(spec, ck.Dataset.ValidationFraction(), progress)
	if err != nil {
		return nil, nil, err
	}
	return ck, ds, nil
}
