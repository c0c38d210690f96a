package tunas

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/flaglist"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/train"
	"github.com/multihw/multihw/train/data"
)

// Flags bind a search (or a baseline over a finished search) to the
// command-line flags of `multihw search`: Register defines them with
// DefaultConfig's values, Config and Baseline turn the parsed flags into
// configurations.
type Flags struct {
	space, objective, targets, weights, reference, reward, dataset, adapt string
	t0, beta, width, lr, controllerLR, validation                         float64
	steps, batch, valBatch, queries, evalBatches, population, tournament  int
	seed                                                                  uint64
	quick                                                                 bool
	set                                                                   map[string]bool

	// What the command does with the configuration.
	Out, Algo, Supernet     string
	Resume, Overwrite, JSON bool
	CheckpointMinutes       int
}

// Register defines the flags in fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	def := DefaultConfig()
	fs.StringVar(&f.space, "space", "multihw", fmt.Sprintf("search space: %s, or a .json file", strings.Join(nas.SpaceNames(), ", ")))
	fs.StringVar(&f.objective, "objective", def.Objective, "cost objective: avg, max, weighted, or one target's name")
	fs.StringVar(&f.targets, "targets", strings.Join(def.Targets, ","), "comma-separated hardware targets or groups (paper, mnv4, all; see `multihw cost`)")
	fs.StringVar(&f.weights, "weights", "", "comma-separated weights of the targets, for --objective weighted")
	fs.StringVar(&f.reference, "reference", def.Reference, "reference model the latencies are normalised to")
	fs.StringVar(&f.reward, "reward", string(def.Reward.Kind), "reward: abs (Q + β|T/T0−1|), mnas (Q·(T/T0)^β), mnas_hard, budget")
	fs.Float64Var(&f.t0, "t0", def.Reward.T0, "target cost T0 (normalised latency: 1 = the reference model)")
	fs.Float64Var(&f.beta, "beta", 0, "cost weight/exponent β (default: the reward's, -0.10 for abs, -0.07 for mnas)")
	fs.StringVar(&f.dataset, "dataset", def.Dataset, "proxy dataset: "+data.SpecHelp)
	fs.Float64Var(&f.validation, "validation", def.Validation, "fraction of the training set held out for the reward")
	fs.IntVar(&f.steps, "steps", def.Steps, "search steps (one weight and one controller update each)")
	fs.IntVar(&f.batch, "batch", def.BatchSize, "training batch size")
	fs.IntVar(&f.valBatch, "val-batch", def.ValidationBatch, "validation batch size of the reward")
	fs.Float64Var(&f.width, "width", def.WidthFactor, "proxy width factor of the supernet's networks")
	fs.StringVar(&f.adapt, "adapt", string(def.Adapt), "proxy adaptation to small images (see blocks.Adapt)")
	fs.Float64Var(&f.lr, "lr", 0, "peak weight learning rate (default 0.165·batch/256)")
	fs.Float64Var(&f.controllerLR, "controller-lr", 0, "controller learning rate (default 100/steps)")
	fs.Uint64Var(&f.seed, "seed", def.Seed, "seed of every random choice")
	fs.StringVar(&f.Out, "out", "", "output directory (checkpoint, search.json, arch.txt, arch.json)")
	fs.BoolVar(&f.Resume, "resume", false, "resume the search in --out from its checkpoint (a new search, with a note, if it holds none)")
	fs.BoolVar(&f.Overwrite, "overwrite", false, "replace the search in --out (its checkpoints, result, architecture files and baselines; nothing else)")
	fs.IntVar(&f.CheckpointMinutes, "checkpoint-minutes", 5, "checkpoint interval in minutes (also every steps/10 steps)")
	fs.BoolVar(&f.quick, "quick", false, "short search for tests and notebooks (400 steps, width 0.25, small batches; < 3 min)")
	fs.BoolVar(&f.JSON, "json", false, "print the result as JSON")
	fs.StringVar(&f.Algo, "algo", "tunas", "tunas (the one-shot search), or a baseline over a trained supernet: random, evolution")
	fs.StringVar(&f.Supernet, "supernet", "", "for --algo random|evolution: the output directory of a finished search")
	fs.IntVar(&f.queries, "queries", 0, "baselines: reward evaluations (default: the controller's after its warm-up, an equal budget)")
	fs.IntVar(&f.evalBatches, "eval-batches", 0, "baselines: score every point on the same N validation batches (default: query i on the controller's i-th batch after its warm-up)")
	fs.IntVar(&f.population, "population", nas.DefaultEvolution.Population, "evolution: population")
	fs.IntVar(&f.tournament, "tournament", nas.DefaultEvolution.Sample, "evolution: tournament size")
}

// Config turns the flags of the parsed fs into a validated search
// configuration, after checking the flags that control the run (--out,
// --resume, --overwrite, --checkpoint-minutes).
func (f *Flags) Config(fs *flag.FlagSet) (Config, error) {
	f.set = flaglist.Given(fs)
	cfg := DefaultConfig()
	if err := flaglist.Unused(fs, flaglist.Mode{Flags: append([]string{"supernet"}, baselineOnly...), For: "--algo random|evolution"}); err != nil {
		return cfg, err
	}
	switch {
	case f.Resume && f.Out == "":
		return cfg, fmt.Errorf("--resume needs --out DIR")
	case f.Overwrite && f.Out == "":
		return cfg, fmt.Errorf("--overwrite needs --out DIR")
	case f.CheckpointMinutes < 0:
		return cfg, fmt.Errorf("--checkpoint-minutes must not be negative, got %d", f.CheckpointMinutes)
	}
	if f.quick {
		cfg = cfg.Quick()
	}
	sp, err := nas.LoadSpace(f.space)
	if err != nil {
		return cfg, err
	}
	cfg.Space = sp
	cfg.Objective = f.objective
	cfg.Targets = flaglist.Split(f.targets)
	if f.weights != "" {
		if cfg.Weights, err = flaglist.Floats(f.weights); err != nil {
			return cfg, fmt.Errorf("--weights: %w", err)
		}
	}
	cfg.Reference = f.reference
	cfg.Reward = nas.Reward{Kind: nas.RewardKind(f.reward), T0: f.t0, Beta: nas.DefaultBeta(nas.RewardKind(f.reward))}
	if f.set["beta"] {
		cfg.Reward.Beta = f.beta
	}
	cfg.Dataset, cfg.Validation, cfg.Seed = f.dataset, f.validation, f.seed
	cfg.Adapt = blocks.Adapt(f.adapt)
	for name, apply := range map[string]func(){
		"steps":     func() { cfg.Steps = f.steps },
		"batch":     func() { cfg.BatchSize = f.batch },
		"val-batch": func() { cfg.ValidationBatch = f.valBatch },
		"width":     func() { cfg.WidthFactor = f.width },
	} {
		if f.set[name] {
			apply()
		}
	}
	cfg.WeightLR = WeightLR(cfg.BatchSize)
	if f.set["lr"] {
		cfg.WeightLR = f.lr
	}
	cfg.Controller.LR = ControllerLR(cfg.Steps)
	if f.set["controller-lr"] {
		cfg.Controller.LR = f.controllerLR
	}
	return cfg, cfg.Validate()
}

// baselineFlags are the flags of a baseline over a finished search (with
// the command's own: --json, --memory-limit); the search's other flags
// configure a search and mean nothing to a baseline.
var baselineFlags = append([]string{"algo", "supernet", "seed", "json", "memory-limit"}, baselineOnly...)

// baselineOnly are the baselines' own flags, which a search refuses.
var baselineOnly = []string{"queries", "eval-batches", "population", "tournament"}

// Baseline is the configuration of --algo random|evolution over the
// finished search in --supernet, from the flags of the parsed fs.
func (f *Flags) Baseline(fs *flag.FlagSet) (BaselineConfig, error) {
	bc := DefaultBaseline(f.Algo)
	if f.Supernet == "" {
		return bc, fmt.Errorf("--algo %s needs --supernet DIR (the output directory of a finished search)", f.Algo)
	}
	if err := flaglist.NotZero(fs, "queries", "eval-batches"); err != nil {
		return bc, err
	}
	if err := flaglist.Only(fs, "a baseline, which takes the search's settings from --supernet", baselineFlags...); err != nil {
		return bc, err
	}
	if err := flaglist.Unused(fs, flaglist.Mode{Flags: []string{"population", "tournament"}, Chosen: f.Algo == AlgoEvolution, For: "--algo evolution"}); err != nil {
		return bc, err
	}
	bc.Queries, bc.EvalBatches, bc.Seed = f.queries, f.evalBatches, f.seed
	bc.Evolution.Population, bc.Evolution.Sample = f.population, f.tournament
	return bc, nil
}

// RankFlags bind a ranking study to the command-line flags of `multihw
// search rank`: Register defines them with DefaultRank's values, Config
// applies those given.
type RankFlags struct {
	archs, seeds, repeated, steps int
	band, epochs                  float64
	seed                          uint64
	quick                         bool

	Supernet, Out string
	JSON          bool
}

// Register defines the flags in fs.
func (f *RankFlags) Register(fs *flag.FlagSet) {
	def := DefaultRank()
	fs.StringVar(&f.Supernet, "supernet", "", "output directory of a finished search (`multihw search --out`)")
	fs.IntVar(&f.archs, "archs", def.Archs, "architectures: the search's final one, MultiAVG/MAX if in the space, the baselines' winners (baseline-*.json), then uniform and in-band random ones (at least 4)")
	fs.IntVar(&f.seeds, "seeds", def.Seeds, "stand-alone seeds of the repeated architectures (the noise ceiling needs 2)")
	fs.IntVar(&f.repeated, "repeated", 0, "architectures trained with every seed (default: a third of --archs, at least 4)")
	fs.Float64Var(&f.band, "band", def.Band, "cost band |T/T0 - 1| <= B of the in-band random architectures and of τ inside the band")
	fs.Float64Var(&f.epochs, "epochs", def.Recipe.Epochs, "stand-alone training epochs (train.DefaultRecipe)")
	fs.IntVar(&f.steps, "steps", 0, "stand-alone training steps (overrides --epochs; 0: --epochs)")
	fs.Uint64Var(&f.seed, "seed", def.Seed, "seed of the random architectures and of the bootstrap")
	fs.StringVar(&f.Out, "out", "", "output directory (default: SUPERNET/rank); rerun the same command to resume")
	fs.BoolVar(&f.quick, "quick", false, "smoke run: 4 architectures, 2 seeds each, 40 training steps")
	fs.BoolVar(&f.JSON, "json", false, "print the result as JSON")
}

// Config turns the flags of the parsed fs into a validated ranking study
// configuration: the defaults (or their quick form) with the flags given.
func (f *RankFlags) Config(fs *flag.FlagSet) (RankConfig, error) {
	set := flaglist.Given(fs)
	cfg := DefaultRank()
	if f.Supernet == "" {
		return cfg, fmt.Errorf("search rank needs --supernet DIR (the output directory of a finished search)")
	}
	if err := flaglist.NotZero(fs, "repeated"); err != nil {
		return cfg, err
	}
	if err := flaglist.Unused(fs, train.EpochsMode(f.steps, "--steps")); err != nil {
		return cfg, err
	}
	if f.quick {
		cfg = cfg.Quick()
	}
	for name, apply := range map[string]func(){
		"archs":    func() { cfg.Archs = f.archs },
		"seeds":    func() { cfg.Seeds = f.seeds },
		"repeated": func() { cfg.Repeated = f.repeated },
		"band":     func() { cfg.Band = f.band },
		"epochs":   func() { cfg.Recipe.Epochs, cfg.Recipe.Steps = f.epochs, 0 },
		"steps":    func() { cfg.Recipe.Steps = f.steps },
		"seed":     func() { cfg.Seed = f.seed },
	} {
		if set[name] {
			apply()
		}
	}
	if f.quick && set["archs"] && !set["repeated"] {
		cfg.Repeated = 0 // a third of the given number
	}
	return cfg, cfg.Validate()
}

// BenchFlags bind the supernet design measurements to the command-line flags
// of `multihw search bench`; Run measures them.
type BenchFlags struct {
	width                               float64
	batch, points, repeats, searchSteps int
	seed                                uint64
}

// Register defines the flags in fs.
func (f *BenchFlags) Register(fs *flag.FlagSet) {
	fs.Float64Var(&f.width, "width", DefaultWidthFactor, "proxy width factor")
	fs.IntVar(&f.batch, "batch", DefaultBatchSize, "training batch size")
	fs.IntVar(&f.points, "points", 6, "random paths measured")
	fs.IntVar(&f.repeats, "repeats", 3, "cached steps timed per path (median)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the random paths")
	fs.IntVar(&f.searchSteps, "search-steps", DefaultSteps, "steps of the default search (Fashion-MNIST) timed for its steps/min: all of them by default, fewer for its first steps only, 0 to skip")
}

// Run checks the flags and measures: SupernetBench, then (unless
// --search-steps 0) SearchSpeed, writing its progress to progress.
func (f *BenchFlags) Run(progress io.Writer) ([]BenchRow, error) {
	if f.searchSteps < 0 || f.searchSteps > DefaultSteps {
		return nil, fmt.Errorf("--search-steps must be in [0, %d]", DefaultSteps)
	}
	rows, err := SupernetBench(f.width, f.batch, f.points, f.repeats, f.seed)
	if err != nil {
		return nil, err
	}
	if f.searchSteps > 0 {
		r, err := SearchSpeed(f.searchSteps, progress)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// AblationFlags bind an ablation of supernet variants to the command-line
// flags of `multihw search ablation`.
type AblationFlags struct {
	Config            AblationConfig
	variants, Dataset string
}

// Register defines the flags in fs.
func (f *AblationFlags) Register(fs *flag.FlagSet) {
	c := &f.Config
	fs.IntVar(&c.Steps, "steps", 400, "training steps per variant")
	fs.Float64Var(&c.Width, "width", 0.25, "proxy width factor")
	fs.IntVar(&c.Batch, "batch", 32, "training batch size")
	fs.IntVar(&c.Points, "points", 8, "random paths scored per variant")
	fs.IntVar(&c.Batches, "batches", 1, "validation batches (of 256) per path")
	fs.StringVar(&f.variants, "variants", "expand+project/keep/warmup,project/keep/warmup,none/keep/warmup,expand+project/omit/warmup,expand+project/keep/uniform",
		"comma-separated SHARING/EXPANDONE/warmup|uniform variants (EXPANDONE: keep or omit, the space's expansion-1 rule; conv and skip are the old names)")
	fs.StringVar(&f.Dataset, "dataset", "fashion-mnist", "dataset: "+data.SpecHelp)
	fs.Uint64Var(&c.Seed, "seed", 1, "seed")
}

// Ablation is the configuration the flags describe, writing progress to
// progress.
func (f *AblationFlags) Ablation(progress io.Writer) AblationConfig {
	c := f.Config
	c.Variants, c.Progress = flaglist.Split(f.variants), progress
	return c
}
