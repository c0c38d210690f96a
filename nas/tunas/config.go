// Package tunas is the one-shot multi-hardware architecture search of Chu et
// al. (2021): TuNAS's REINFORCE controller over a nas.Space, a weight-sharing
// supernet (package nas/supernet) trained on a proxy task, and the
// multi-hardware cost T(a) from hwcost in the reward.
//
// Each step interleaves, as TuNAS does:
//
//  1. a weight update of the supernet on training batch k for a path sampled
//     from the controller (during the op/filter warm-up, with a probability
//     decaying from 1 to 0, the ops of that path are uniform and its widths
//     the largest);
//  2. a controller update: a new sample, its accuracy Q on validation batch k
//     (carved from the training set), its cost T, the reward R(Q, T) and one
//     REINFORCE step (nas.Controller, learning rate 0 during the controller
//     warm-up, then rising to Growth×).
//
// Every random choice is a function of (seed, step): a search killed and
// resumed from its checkpoint (Search.Resume) ends exactly as an
// uninterrupted one. The result (search.json) holds the configuration, the
// final architecture (argmax of every decision), the per-step history and the
// controller's probabilities over time.
package tunas

import (
	"fmt"
	"math"
	"slices"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/blocks/convnet"
	"github.com/multihw/multihw/internal/checked"
	"github.com/multihw/multihw/internal/memlimit"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/nas/supernet"
	"github.com/multihw/multihw/train/data"
)

// Config is the whole description of a search: plain data, stored in the
// checkpoint and in search.json. Start from DefaultConfig.
type Config struct {
	Space *nas.Space `json:"space"`
	// Dataset is the dataset spec (data.SpecHelp), recorded for reloading;
	// Validation the fraction of the training set held out for the reward.
	Dataset    string  `json:"dataset"`
	Validation float64 `json:"validation_fraction"`

	// Objective is avg, max, weighted or one target's name; Targets the
	// metric's targets (hwcost names and groups), Weights those of the
	// weighted objective, Reference the model latencies are normalised to.
	Objective string     `json:"objective"`
	Targets   []string   `json:"targets"`
	Weights   []float64  `json:"weights,omitempty"`
	Reference string     `json:"reference"`
	Reward    nas.Reward `json:"reward"`

	// Steps is the number of search steps; Seed derives every random choice.
	Steps int    `json:"steps"`
	Seed  uint64 `json:"seed"`

	// BatchSize is the training batch; ValidationBatch the reward's batch.
	BatchSize       int `json:"batch_size"`
	ValidationBatch int `json:"validation_batch"`
	// WeightLR is the peak learning rate of the weights (for BatchSize),
	// reached after WeightWarmup (a fraction of the steps), then cosine decay
	// to 0.
	WeightLR     float64            `json:"weight_lr"`
	WeightWarmup float64            `json:"weight_warmup"`
	Optimizer    supernet.Optimizer `json:"optimizer"`
	// WidthFactor scales the proxy networks' widths; Adapt adapts them to the
	// dataset's image size (blocks.ProxyArch, as retraining does).
	WidthFactor float64      `json:"width_factor"`
	Adapt       blocks.Adapt `json:"adapt"`
	// Sharing configures the supernet's weight sharing (see package
	// supernet). How expansion-1 blocks are built is the space's rule
	// (nas.Space.ExpandOne).
	Sharing supernet.Sharing `json:"sharing"`

	Controller nas.ControllerConfig `json:"controller"`
	// ControllerWarmup is the fraction of steps with a zero controller
	// learning rate; ControllerGrowth its final multiple (nas.LRScale).
	ControllerWarmup float64 `json:"controller_warmup"`
	ControllerGrowth float64 `json:"controller_growth"`
	// OpWarmup is the fraction of steps of the op and filter warm-up.
	OpWarmup float64 `json:"op_warmup"`
	// Snapshots is the number of snapshots of the controller's probabilities
	// kept over the search (for heat maps).
	Snapshots int `json:"snapshots"`
}

// Default search settings.
const (
	DefaultSteps     = 4000
	DefaultBatchSize = 64
	// DefaultWidthFactor halves every width of the proxy networks, so the
	// supernet holds about a quarter of the full-width shared weights (a
	// conv's weights grow with the product of its widths; the fused 5×5
	// convs of the widest stages dominate). `multihw search bench --width W`
	// measures the step time at each width.
	DefaultWidthFactor = 0.5
)

// DefaultConfig returns the defaults (TuNAS's settings where they apply:
// google-research/tunas mobile_architecture_search.py): the multihw space on
// Fashion-MNIST, AVG of the paper's four targets normalised to MobileNetV2,
// the absolute reward with β = −0.10 and T0 = 1, RMSProp at 0.165 × batch/256
// with 2.5% warm-up and cosine decay, the controller's Adam (β1 = 0) at
// ControllerLR(steps), 25% controller and op/filter warm-up, growth 10.
func DefaultConfig() Config {
	return Config{
		Space:      nas.MultiHWSpace(),
		Dataset:    "fashion-mnist",
		Validation: 0.1,
		Objective:  ObjectiveAvg,
		Targets:    []string{"paper"},
		Reference:  "mobilenet_v2",
		Reward:     nas.Reward{Kind: nas.RewardAbs, T0: 1, Beta: nas.DefaultBeta(nas.RewardAbs)},
		Steps:      DefaultSteps, Seed: 1,
		BatchSize: DefaultBatchSize, ValidationBatch: 2 * DefaultBatchSize,
		WeightLR: WeightLR(DefaultBatchSize), WeightWarmup: 0.025,
		Optimizer:   supernet.DefaultOptimizer(),
		WidthFactor: DefaultWidthFactor, Adapt: blocks.DefaultAdapt,
		Sharing:          supernet.DefaultSharing,
		Controller:       nas.DefaultControllerConfig(ControllerLR(DefaultSteps)),
		ControllerWarmup: 0.25, ControllerGrowth: 10, OpWarmup: 0.25,
		Snapshots: 50,
	}
}

// ControllerLR is the default controller learning rate for a search of the
// given steps: 100/steps (0.025 at 4000 steps). Scaling with 1/steps keeps
// the logits' total movement the same for any length; TuNAS's 3e-4 ×
// 4096/256 = 0.0048 over its ~28,000 steps is 134/steps. The constant was
// chosen with the search loop on a noisy synthetic quality:
// BenchmarkControllerLR measures the policy's entropy and the argmax's
// distance to T0 for smaller constants, and
// TestSearchConvergesOnSyntheticObjective checks that 100/steps finds the
// clearly better options of an objective of known optimum.
func ControllerLR(steps int) float64 { return 100 / float64(max(steps, 1)) }

// WeightLR is the default peak weight learning rate for training batches of
// batch: TuNAS's 0.165 for 256 images (mobile_architecture_search.py,
// model_learning_rate), scaled linearly with the batch.
func WeightLR(batch int) float64 { return 0.165 * float64(batch) / 256 }

// Quick returns c shortened for tests and notebooks (under 3 minutes on 2
// cores): 400 steps, batches of 32 and 64, proxy width 0.25. The supernet
// learns little in so few steps (its one-shot accuracy is in the run's
// history): a demonstration, not a search to retrain.
func (c Config) Quick() Config {
	c.Steps = 400
	c.BatchSize, c.ValidationBatch = 32, 64
	c.WeightLR = WeightLR(c.BatchSize)
	c.WidthFactor = 0.25
	c.Controller.LR = ControllerLR(c.Steps)
	return c
}

// supernet returns the configured supernet builder for dataset ds.
func (c *Config) supernet(ds *data.Dataset) *supernet.Builder {
	return supernet.New(c.Space).Input(ds.Height(), ds.Width(), ds.Channels(), ds.NumClasses()).
		Adapt(c.Adapt).WidthFactor(c.WidthFactor).Sharing(c.Sharing).
		Optimizer(c.Optimizer).Seed(c.Seed)
}

// MaxSteps is the largest number of search steps (the history keeps a
// record per step).
const MaxSteps = 10_000_000

// CheckMemory refuses a configuration whose supernet cannot fit the memory
// limit (internal/memlimit) on ds: the estimate is that of training the
// space's largest proxy network (convnet.MemoryEstimate) twice over, since
// the supernet holds both block kinds' weights and the paths' compiled graphs.
func (c *Config) CheckMemory(ds *data.Dataset) error {
	return checkSupernetMemory(supernet.Config{Space: c.Space, Height: ds.Height(), Width: ds.Width(), Channels: ds.Channels(),
		Classes: ds.NumClasses(), Adapt: c.Adapt, WidthFactor: c.WidthFactor}, max(c.BatchSize, c.ValidationBatch))
}

// checkSupernetMemory checks training the supernet of cfg on batches of
// batch images against the memory limit (see Config.checkMemory).
func checkSupernetMemory(cfg supernet.Config, batch int) error {
	a, err := cfg.Space.Arch(cfg.Space.MaxPoint())
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	proxy, err := blocks.ProxyArch(a.WithWidth(cfg.WidthFactor), cfg.Adapt, cfg.Height, cfg.Width, cfg.Channels, cfg.Classes)
	if err != nil {
		return fmt.Errorf("search: the space's largest proxy network at width %g: %w", cfg.WidthFactor, err)
	}
	est, err := convnet.MemoryEstimate(proxy, batch, true)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	return memlimit.Check(fmt.Sprintf("the supernet of the %s space at width %g with batches of %d", cfg.Space.Name, cfg.WidthFactor, batch),
		checked.SatMul(est, 2))
}

// Validate reports the first invalid field.
func (c *Config) Validate() error {
	frac := func(name string, v float64) error {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("search: %s must be in [0, 1], got %g", name, v)
		}
		return nil
	}
	if c.Space == nil {
		return fmt.Errorf("search: no search space")
	}
	if err := c.Space.Validate(); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	if err := c.Reward.Validate(); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	if err := c.Optimizer.Validate(); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	switch {
	case c.Steps <= 0 || c.Steps > MaxSteps:
		return fmt.Errorf("search: steps must be in [1, %d], got %d", MaxSteps, c.Steps)
	case c.BatchSize <= 0 || c.ValidationBatch <= 0:
		return fmt.Errorf("search: batch sizes must be positive, got %d and %d", c.BatchSize, c.ValidationBatch)
	case !(c.WeightLR > 0) || math.IsInf(c.WeightLR, 0):
		return fmt.Errorf("search: weight learning rate must be positive, got %g", c.WeightLR)
	case c.Controller.Validate() != nil:
		return fmt.Errorf("search: %w", c.Controller.Validate())
	case !(c.ControllerGrowth >= 1):
		return fmt.Errorf("search: controller growth must be >= 1, got %g", c.ControllerGrowth)
	case !(c.WidthFactor > 0 && c.WidthFactor <= 16):
		return fmt.Errorf("search: width factor must be in (0, 16], got %g", c.WidthFactor)
	case !slices.Contains(blocks.Adapts, c.Adapt):
		return fmt.Errorf("search: unknown adaptation %q (valid: %v)", c.Adapt, blocks.Adapts)
	case c.Snapshots < 0:
		return fmt.Errorf("search: snapshots must be >= 0, got %d", c.Snapshots)
	case len(c.Targets) == 0:
		return fmt.Errorf("search: no targets")
	}
	for _, f := range []struct {
		n string
		v float64
	}{{"validation fraction", c.Validation}, {"weight warm-up", c.WeightWarmup}, {"controller warm-up", c.ControllerWarmup}, {"op warm-up", c.OpWarmup}} {
		if err := frac(f.n, f.v); err != nil {
			return err
		}
	}
	if c.Objective == ObjectiveWeighted && len(c.Weights) == 0 {
		return fmt.Errorf("search: the weighted objective needs weights (one per target)")
	}
	return nil
}
