package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/nas/tunas"
	"github.com/multihw/multihw/train"
	"github.com/multihw/multihw/train/data"
)

func init() {
	register(&command{name: "search", summary: "one-shot multi-hardware search (TuNAS supernet + REINFORCE); --algo random|evolution for baselines", run: runSearch})
}

// searchFlags holds the flags of `multihw search`.
type searchFlags struct {
	space, objective, targets, weights, reference, reward, dataset, out, algo, supernetDir, adapt string
	t0, beta, width, lr, controllerLR, validation                                                 float64
	steps, batch, valBatch, queries, evalBatches, ckptMinutes, population, tournament             int
	seed                                                                                          uint64
	resume, asJSON, quick                                                                         bool
	set                                                                                           map[string]bool
}

func (f *searchFlags) register(fs *flag.FlagSet) {
	def := tunas.DefaultConfig()
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
	fs.StringVar(&f.adapt, "adapt", string(def.Adapt), "proxy adaptation to small images (see train.Adapt)")
	fs.Float64Var(&f.lr, "lr", 0, "peak weight learning rate (default 0.165·batch/256)")
	fs.Float64Var(&f.controllerLR, "controller-lr", 0, "controller learning rate (default 10/steps)")
	fs.Uint64Var(&f.seed, "seed", def.Seed, "seed of every random choice")
	fs.StringVar(&f.out, "out", "", "output directory (checkpoint, search.json, arch.txt, arch.json)")
	fs.BoolVar(&f.resume, "resume", false, "resume the search in --out from its checkpoint")
	fs.IntVar(&f.ckptMinutes, "checkpoint-minutes", 5, "checkpoint interval in minutes (also every steps/10 steps)")
	fs.BoolVar(&f.quick, "quick", false, "short search for tests and notebooks (400 steps, width 0.25, small batches; < 3 min)")
	fs.BoolVar(&f.asJSON, "json", false, "print the result as JSON")
	fs.StringVar(&f.algo, "algo", "tunas", "tunas (the one-shot search), or a baseline over a trained supernet: random, evolution")
	fs.StringVar(&f.supernetDir, "supernet", "", "for --algo random|evolution: the output directory of a finished search")
	fs.IntVar(&f.queries, "queries", 300, "baselines: points evaluated")
	fs.IntVar(&f.evalBatches, "eval-batches", 4, "baselines: validation batches per point")
	fs.IntVar(&f.population, "population", nas.DefaultEvolution.Population, "evolution: population")
	fs.IntVar(&f.tournament, "tournament", nas.DefaultEvolution.Sample, "evolution: tournament size")
}

// config turns the flags into a search configuration.
func (f *searchFlags) config() (tunas.Config, error) {
	cfg := tunas.DefaultConfig()
	if f.quick {
		cfg = cfg.Quick()
	}
	sp, err := nas.LoadSpace(f.space)
	if err != nil {
		return cfg, err
	}
	cfg.Space = sp
	cfg.Objective = f.objective
	cfg.Targets = splitList(f.targets)
	if f.weights != "" {
		if cfg.Weights, err = parseFloats(f.weights); err != nil {
			return cfg, fmt.Errorf("--weights: %w", err)
		}
	}
	cfg.Reference = f.reference
	cfg.Reward = nas.Reward{Kind: nas.RewardKind(f.reward), T0: f.t0, Beta: nas.DefaultBeta(nas.RewardKind(f.reward))}
	if f.set["beta"] {
		cfg.Reward.Beta = f.beta
	}
	cfg.Dataset, cfg.Validation, cfg.Seed = f.dataset, f.validation, f.seed
	cfg.Adapt = train.Adapt(f.adapt)
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
	cfg.WeightLR = 0.165 * float64(cfg.BatchSize) / 256
	if f.set["lr"] {
		cfg.WeightLR = f.lr
	}
	cfg.Controller.LR = tunas.ControllerLR(cfg.Steps)
	if f.set["controller-lr"] {
		cfg.Controller.LR = f.controllerLR
	}
	return cfg, cfg.Validate()
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func parseFloats(s string) ([]float64, error) {
	var out []float64
	for _, v := range splitList(s) {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", v)
		}
		out = append(out, x)
	}
	return out, nil
}

func runSearch(args []string) error {
	fs := newFlags("search", "[--space NAME|FILE] [--objective avg|max|weighted|TARGET] [--targets LIST] [--t0 X] [--beta B] [--dataset SPEC] [--steps N] [--out DIR] [--resume] [--seed S] [--quick] [--json]\n       multihw search --algo random|evolution --supernet DIR [--queries N] [--json]")
	f := &searchFlags{set: map[string]bool{}}
	f.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch f.algo {
	case "tunas":
	case tunas.AlgoRandom, tunas.AlgoEvolution:
		return runBaseline(ctx, f)
	default:
		return fmt.Errorf("unknown --algo %q (valid: tunas, random, evolution)", f.algo)
	}
	if f.supernetDir != "" {
		return fmt.Errorf("--supernet is for --algo random|evolution")
	}
	if f.resume && f.out == "" {
		return fmt.Errorf("--resume needs --out DIR")
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	s := tunas.New(cfg).Out(f.out).Resume(f.resume).Progress(os.Stderr).CheckpointEvery(0, time.Duration(f.ckptMinutes)*time.Minute)
	res, err := s.Run(ctx)
	if err != nil {
		return err
	}
	if f.asJSON {
		return printJSON(res)
	}
	printSearchSummary(res, f.out)
	return nil
}

func printSearchSummary(res *tunas.Result, out string) {
	fmt.Printf("%s search, %d steps (%.1f steps/min), T0 %g, β %g\n", res.Config.Objective, res.Steps, res.Stats.StepsPerMinute,
		res.Config.Reward.T0, res.Config.Reward.Beta)
	fmt.Printf("final architecture (probability %.3g):\n%s", res.Final.Probability, res.Final.Text)
	fmt.Printf("cost: T %.3f, avg %.3f, max %.3f;", res.Final.Costs.T, res.Final.Costs.Avg, res.Final.Costs.Max)
	for _, n := range res.Targets {
		fmt.Printf(" %s %.3f", n, res.Final.Costs.Normalized[n])
	}
	fmt.Printf("\n%.1f M MACs, %.2f M params\n", float64(res.Final.MACs)/1e6, float64(res.Final.Params)/1e6)
	if out != "" {
		fmt.Printf("written: %s/{%s,%s,%s}\n", out, tunas.ResultFile, tunas.ArchTextFile, tunas.ArchJSONFile)
	}
}

func runBaseline(ctx context.Context, f *searchFlags) error {
	if f.supernetDir == "" {
		return fmt.Errorf("--algo %s needs --supernet DIR (the output directory of a finished search)", f.algo)
	}
	bc := tunas.DefaultBaseline(f.algo)
	bc.Queries, bc.EvalBatches, bc.Seed = f.queries, f.evalBatches, f.seed
	bc.Evolution.Population, bc.Evolution.Sample = f.population, f.tournament
	res, err := tunas.RunBaseline(ctx, f.supernetDir, bc, nil, nil, os.Stderr)
	if err != nil {
		return err
	}
	if f.asJSON {
		return printJSON(res)
	}
	show := func(name string, c *tunas.Candidate) {
		if c == nil {
			fmt.Printf("%s: none\n", name)
			return
		}
		fmt.Printf("%s: one-shot Q %.4f, T %.3f (avg %.3f, max %.3f), reward %.4f\n%s", name, c.Q, c.T, c.Costs.Avg, c.Costs.Max, c.Reward, c.Text)
	}
	fmt.Printf("%s over the supernet of %s: %d queries in %.0f s\n", f.algo, f.supernetDir, len(res.Trials), res.Seconds)
	show("best", res.Best)
	show("controller's architecture", res.Controller)
	fmt.Printf("written: %s/baseline-%s.json\n", f.supernetDir, f.algo)
	return nil
}
