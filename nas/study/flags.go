package study

import (
	"flag"
	"fmt"
	"strings"

	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/internal/flaglist"
	"github.com/multihw/multihw/nas/tunas"
	"github.com/multihw/multihw/train"
)

// Flags bind a study configuration to command-line flags (`multihw study
// plan` and `study pilot`): Register defines them with DefaultConfig's
// values, Config applies those given on the command line.
type Flags struct {
	quick                                         bool
	objectives, t0s, searchSeeds                  string
	singleTargets, singleT0, singleSeeds          string
	references, dataset                           string
	searchSteps, searchBatch, trainSteps, seeds   int
	searchWidth, trainWidth, epochs               float64
	z, costProbability, costTolerance, nearPoints float64
	costDraws                                     int
	set                                           map[string]bool
}

// Register defines the flags in fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	d := DefaultConfig()
	t0s := make([]string, len(d.T0s))
	for i, t := range d.T0s {
		t0s[i] = t.String()
	}
	fs.BoolVar(&f.quick, "quick", false, "smoke run of the whole workflow: tiny searches and trainings (minutes; supports no claim)")
	fs.StringVar(&f.objectives, "objectives", strings.Join(d.Objectives, ","), "multi-target objectives (avg, max), each swept over --t0 and --search-seeds")
	fs.StringVar(&f.t0s, "t0", strings.Join(t0s, ","), "target costs of the multi-target searches: numbers, or a reference model whose cost on the objective is matched (multi_max), or MODEL@METRIC")
	fs.StringVar(&f.searchSeeds, "search-seeds", "1,2", "seeds of the multi-target searches")
	fs.StringVar(&f.singleTargets, "single-targets", "paper", "targets searched alone (comma-separated, a group, or none)")
	fs.StringVar(&f.singleT0, "single-t0", d.SingleT0.String(), "target cost of the single-target searches")
	fs.StringVar(&f.singleSeeds, "single-seeds", "1", "seeds of the single-target searches")
	fs.StringVar(&f.references, "references", strings.Join(d.References, ","), "reference models retrained next to the searched ones")
	fs.StringVar(&f.dataset, "dataset", d.Search.Dataset, "proxy dataset of the searches and the retraining")
	fs.IntVar(&f.searchSteps, "search-steps", d.Search.Steps, "steps of every search")
	fs.IntVar(&f.searchBatch, "search-batch", d.Search.BatchSize, "training batch of the searches (the reward's is twice that)")
	fs.Float64Var(&f.searchWidth, "search-width", d.Search.WidthFactor, "proxy width factor of the supernet")
	fs.Float64Var(&f.trainWidth, "train-width", 0, "proxy width factor of the retraining (default: --search-width, as the ranking study)")
	fs.Float64Var(&f.epochs, "epochs", d.Recipe.Epochs, "retraining epochs (train.DefaultRecipe otherwise)")
	fs.IntVar(&f.trainSteps, "train-steps", 0, "retraining steps (overrides --epochs; 0: --epochs)")
	fs.IntVar(&f.seeds, "train-seeds", len(d.TrainSeeds), "retraining seeds of every architecture (1..K)")
	fs.Float64Var(&f.z, "z", d.Rules.Z, "decision rule: differences beyond Z standard errors are resolved")
	fs.Float64Var(&f.costProbability, "cost-probability", d.Rules.CostProbability, "decision rule: a latency ordering holding in this fraction of the cost draws is resolved")
	fs.Float64Var(&f.costTolerance, "cost-tolerance", d.Rules.CostTolerance, "decision rule without cost draws: relative latency differences beyond this are resolved")
	fs.Float64Var(&f.nearPoints, "near", d.Rules.NearAccuracy, "decision rule: accuracy margin (points) of \"near\" the Pareto front")
	fs.IntVar(&f.costDraws, "cost-draws", d.Rules.CostDraws, "parameter sets drawn from the cost models' uncertainty for latency spreads and ordering probabilities (0: fitted values only)")
}

// Config turns the flags of the parsed fs into a study configuration: the
// defaults (or their quick form) with every flag given on the command line
// applied, validated.
func (f *Flags) Config(fs *flag.FlagSet) (Config, error) {
	f.set = flaglist.Given(fs)
	if err := flaglist.Unused(fs, train.EpochsMode(f.trainSteps, "--train-steps")); err != nil {
		return Config{}, err
	}
	c := DefaultConfig()
	if f.quick {
		c = c.Quick()
	}
	var err error
	apply := map[string]func() error{
		"objectives": func() error { c.Objectives = flaglist.Split(f.objectives); return nil },
		"t0":         func() (err error) { c.T0s, err = ParseT0s(f.t0s); return err },
		"search-seeds": func() (err error) {
			c.SearchSeeds, err = flaglist.Seeds(f.searchSeeds, "search-seeds")
			return err
		},
		"single-targets": func() error {
			switch f.singleTargets {
			case "none", "":
				c.SingleTargets = nil
			case "paper":
				c.SingleTargets = hwcost.PaperTargets()
			default:
				c.SingleTargets = flaglist.Split(f.singleTargets)
			}
			return nil
		},
		"single-t0": func() (err error) { c.SingleT0, err = ParseT0(f.singleT0); return err },
		"single-seeds": func() (err error) {
			c.SingleSeeds, err = flaglist.Seeds(f.singleSeeds, "single-seeds")
			return err
		},
		"references": func() error { c.References = flaglist.Split(f.references); return nil },
		"dataset":    func() error { c.Search.Dataset = f.dataset; return nil },
		"search-steps": func() error {
			c.Search.Steps = f.searchSteps
			c.Search.Controller.LR = tunas.ControllerLR(f.searchSteps)
			return nil
		},
		"search-batch": func() error {
			c.Search.BatchSize, c.Search.ValidationBatch = f.searchBatch, 2*f.searchBatch
			c.Search.WeightLR = tunas.WeightLR(f.searchBatch)
			return nil
		},
		"search-width": func() error {
			c.Search.WidthFactor = f.searchWidth
			if !f.set["train-width"] {
				c.TrainWidth = f.searchWidth
			}
			return nil
		},
		"train-width": func() error { c.TrainWidth = f.trainWidth; return nil },
		"epochs":      func() error { c.Recipe.Epochs, c.Recipe.Steps = f.epochs, 0; return nil },
		"train-steps": func() error { c.Recipe.Steps = f.trainSteps; return nil },
		"train-seeds": func() error {
			if f.seeds < 1 {
				return fmt.Errorf("--train-seeds must be at least 1, got %d", f.seeds)
			}
			if f.seeds > train.MaxSeeds { // before building the list
				return fmt.Errorf("--train-seeds must be at most %d, got %d", train.MaxSeeds, f.seeds)
			}
			c.TrainSeeds = nil
			for s := 1; s <= f.seeds; s++ {
				c.TrainSeeds = append(c.TrainSeeds, uint64(s))
			}
			return nil
		},
		"z":                func() error { c.Rules.Z = f.z; return nil },
		"cost-probability": func() error { c.Rules.CostProbability = f.costProbability; return nil },
		"cost-tolerance":   func() error { c.Rules.CostTolerance = f.costTolerance; return nil },
		"near":             func() error { c.Rules.NearAccuracy = f.nearPoints; return nil },
		"cost-draws":       func() error { c.Rules.CostDraws = f.costDraws; return nil },
	}
	// A fixed order: search-width before train-width.
	for _, name := range []string{"objectives", "t0", "search-seeds", "single-targets", "single-t0", "single-seeds", "references", "dataset",
		"search-steps", "search-batch", "search-width", "train-width", "epochs", "train-steps", "train-seeds", "z", "cost-probability", "cost-tolerance", "near", "cost-draws"} {
		if f.set[name] {
			if err = apply[name](); err != nil {
				return c, err
			}
		}
	}
	return c, c.Validate()
}

// PilotFlags bind a seed-spread pilot to the command-line flags of `multihw
// study pilot` (with Flags for the study it sizes).
type PilotFlags struct {
	models, differences string
	seeds, timingSteps  int

	Out string // the pilot's directory
}

// Register defines the flags in fs.
func (f *PilotFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Out, "out", "", "pilot directory (rerun the same command to resume)")
	fs.StringVar(&f.models, "models", "multi_avg,mobilenet_v2", "reference models trained with every seed")
	fs.IntVar(&f.seeds, "seeds", 4, "seeds per model (at least 2)")
	fs.StringVar(&f.differences, "differences", "0.25,0.5,1", "accuracy differences (points) to size the seeds for")
	fs.IntVar(&f.timingSteps, "timing-steps", 0, "also time a search of this many steps at the study's search setting (0: none)")
}

// Config is the pilot of study c the flags describe.
func (f *PilotFlags) Config(c Config) (PilotConfig, error) {
	pc := PilotFor(c, flaglist.Split(f.models), f.seeds)
	var err error
	if pc.Differences, err = flaglist.Floats(f.differences); err != nil {
		return pc, fmt.Errorf("--differences: %w", err)
	}
	pc.SearchSteps = f.timingSteps
	if err := pc.Validate(); err != nil {
		return pc, err
	}
	// The study the pilot sizes must plan, before the pilot trains for it.
	if _, err := NewPlan(c); err != nil {
		return pc, err
	}
	return pc, nil
}
