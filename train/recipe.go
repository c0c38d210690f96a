package train

import (
	"fmt"
	"math"

	"github.com/multihw/multihw/train/data"
	"github.com/multihw/multihw/train/optim"
)

// Recipe holds the optimisation hyper-parameters of a training run. It is
// plain data (stored in every checkpoint); start from DefaultRecipe and
// change fields. Validate reports the first invalid field.
type Recipe struct {
	// Optimizer is optim.SGD, optim.RMSProp or optim.Adam.
	Optimizer optim.Kind `json:"optimizer"`
	// LearningRate is the peak learning rate, reached at the end of the
	// warm-up, for batches of BatchSize (scale it linearly with BatchSize).
	LearningRate float64 `json:"learning_rate"`
	// Hyper holds the momentum (Adam: β1), decay (RMSProp ρ, Adam β2),
	// epsilon, weight decay on kernels (for Adam decoupled: w ← w −
	// lr·WeightDecay·w) and label smoothing.
	optim.Hyper
	// Nesterov selects Nesterov momentum for SGD.
	Nesterov bool `json:"nesterov,omitempty"`

	// Schedule is optim.Cosine or optim.Constant.
	Schedule optim.Schedule `json:"schedule"`
	// WarmupEpochs is the length of the linear warm-up from 0 to the peak;
	// it is capped at half the run.
	WarmupEpochs float64 `json:"warmup_epochs"`
	// FinalLRFraction is the cosine schedule's final learning rate as a
	// fraction of the peak.
	FinalLRFraction float64 `json:"final_lr_fraction"`

	// BatchSize is the number of images per step.
	BatchSize int `json:"batch_size"`
	// Epochs is the length of the run in passes over the training split;
	// Steps, when > 0, overrides it.
	Epochs float64 `json:"epochs"`
	Steps  int     `json:"steps,omitempty"`

	// Augment, when set, replaces the dataset's default training augmentation
	// (data.Dataset.Augment: none for Fashion-MNIST, crop and flip for colour).
	Augment *data.Augment `json:"augment,omitempty"`

	// BNMomentum is the momentum of the BatchNorm moving averages.
	BNMomentum float64 `json:"bn_momentum"`
	// BNRecalibrationBatches, when > 0, recomputes the BatchNorm averages on
	// that many training batches (forward only, fixed weights) before the
	// final evaluation: the averages then describe the final weights exactly,
	// instead of trailing them by 1/(1−BNMomentum) steps.
	BNRecalibrationBatches int `json:"bn_recalibration_batches"`
}

// DefaultRecipe is the default training recipe (TuNAS / Model Garden style,
// shortened for a proxy task on 2 CPU cores): SGD with Nesterov momentum 0.9,
// peak learning rate 0.1 for batches of 128 after a 0.3-epoch linear warm-up,
// cosine decay to 0 over 5 epochs, label smoothing 0.1, weight decay 5e-5 on
// kernels, BatchNorm momentum 0.99 and a recalibration of the BatchNorm
// averages on 50 batches before the final evaluation.
func DefaultRecipe() Recipe {
	return Recipe{
		Optimizer:              optim.SGD,
		LearningRate:           0.1,
		Hyper:                  optim.Hyper{Momentum: 0.9, WeightDecay: 5e-5, LabelSmoothing: 0.1},
		Nesterov:               true,
		Schedule:               optim.Cosine,
		WarmupEpochs:           0.3,
		FinalLRFraction:        0,
		BatchSize:              128,
		Epochs:                 5,
		BNMomentum:             0.99,
		BNRecalibrationBatches: 50,
	}
}

// QuickRecipe is DefaultRecipe shortened to a smoke run of steps steps, for
// demonstrations and notebooks: batches of 64 with the peak learning rate
// scaled linearly from the default's batch of 128, a short warm-up and the
// BatchNorm recalibration on 10 batches.
func QuickRecipe(steps int) Recipe {
	r := DefaultRecipe()
	r.LearningRate *= 64.0 / float64(r.BatchSize)
	r.Steps, r.BatchSize = steps, 64
	r.WarmupEpochs = 0.02
	r.BNRecalibrationBatches = 10
	return r
}

// withDefaults fills the optimizer-specific fields left at zero
// (optim.Hyper.WithDefaults).
func (r Recipe) withDefaults() Recipe {
	r.Hyper = r.Hyper.WithDefaults(r.Optimizer)
	return r
}

// Validate returns an error naming the first invalid field.
func (r Recipe) Validate() error {
	r = r.withDefaults()
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if err := r.Hyper.Validate(r.Optimizer); err != nil {
		return fmt.Errorf("recipe: %w", err)
	}
	if err := r.Schedule.Validate(); err != nil {
		return fmt.Errorf("recipe: %w", err)
	}
	switch {
	case !(r.LearningRate > 0) || !finite(r.LearningRate):
		return fmt.Errorf("recipe: learning rate must be positive and finite, got %g", r.LearningRate)
	case !(r.WarmupEpochs >= 0) || !finite(r.WarmupEpochs):
		return fmt.Errorf("recipe: warm-up epochs must be >= 0, got %g", r.WarmupEpochs)
	case !(r.FinalLRFraction >= 0 && r.FinalLRFraction <= 1):
		return fmt.Errorf("recipe: final learning-rate fraction must be in [0, 1], got %g", r.FinalLRFraction)
	case r.BatchSize <= 0:
		return fmt.Errorf("recipe: batch size must be positive, got %d", r.BatchSize)
	case r.Steps < 0:
		return fmt.Errorf("recipe: steps must be >= 0, got %d", r.Steps)
	case r.Steps == 0 && (!(r.Epochs > 0) || !finite(r.Epochs)):
		return fmt.Errorf("recipe: give a positive number of epochs or steps (epochs %g, steps %d)", r.Epochs, r.Steps)
	case !(r.BNMomentum >= 0 && r.BNMomentum < 1):
		return fmt.Errorf("recipe: BatchNorm momentum must be in [0, 1), got %g", r.BNMomentum)
	case r.BNRecalibrationBatches < 0:
		return fmt.Errorf("recipe: BatchNorm recalibration batches must be >= 0, got %d", r.BNRecalibrationBatches)
	case r.Augment != nil && (r.Augment.Pad < 0 || r.Augment.Pad > MaxPad):
		return fmt.Errorf("recipe: augmentation padding must be in [0, %d], got %d", MaxPad, r.Augment.Pad)
	}
	return nil
}

// Bounds of a recipe: far beyond any run, they keep step counts and padded
// image sizes from overflowing.
const (
	// MaxSteps is the largest number of training steps.
	MaxSteps = 1_000_000_000_000
	// MaxPad is the largest augmentation padding, in pixels.
	MaxPad = 256
	// MaxSeeds is the most seeds one architecture is trained with in a study,
	// a pilot or a ranking study (each seed is a full training run).
	MaxSeeds = 1000
)

// Plan resolves the recipe for a training split of trainLen images.
func (r Recipe) Plan(trainLen int) (optim.Plan, error) {
	if err := r.Validate(); err != nil {
		return optim.Plan{}, err
	}
	if trainLen <= 0 {
		return optim.Plan{}, fmt.Errorf("recipe: empty training split")
	}
	perEpoch := float64(trainLen) / float64(r.BatchSize)
	total := r.Steps
	if total == 0 {
		steps := math.Ceil(r.Epochs * perEpoch)
		if !(steps <= MaxSteps) {
			return optim.Plan{}, fmt.Errorf("recipe: %g epochs are %.3g steps, above the maximum %.0e", r.Epochs, steps, float64(MaxSteps))
		}
		total = max(1, int(steps))
	}
	if total > MaxSteps {
		return optim.Plan{}, fmt.Errorf("recipe: %d steps, above the maximum %.0e", total, float64(MaxSteps))
	}
	warmup := int(min(math.Round(r.WarmupEpochs*perEpoch), float64(total/2)))
	final := r.LearningRate * r.FinalLRFraction
	if r.Schedule == optim.Constant {
		final = r.LearningRate
	}
	return optim.Plan{TotalSteps: total, WarmupSteps: warmup, Peak: r.LearningRate, Final: final, Schedule: r.Schedule}, nil
}
