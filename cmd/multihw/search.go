package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/atomicfile"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/nas/study"
	"github.com/multihw/multihw/nas/tunas"
	"github.com/multihw/multihw/plots/figset"
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
	resume, overwrite, asJSON, quick                                                              bool
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
	fs.StringVar(&f.adapt, "adapt", string(def.Adapt), "proxy adaptation to small images (see blocks.Adapt)")
	fs.Float64Var(&f.lr, "lr", 0, "peak weight learning rate (default 0.165·batch/256)")
	fs.Float64Var(&f.controllerLR, "controller-lr", 0, "controller learning rate (default 100/steps)")
	fs.Uint64Var(&f.seed, "seed", def.Seed, "seed of every random choice")
	fs.StringVar(&f.out, "out", "", "output directory (checkpoint, search.json, arch.txt, arch.json)")
	fs.BoolVar(&f.resume, "resume", false, "resume the search in --out from its checkpoint (a new search, with a note, if it holds none)")
	fs.BoolVar(&f.overwrite, "overwrite", false, "replace the search in --out (its checkpoints, result, architecture files and baselines; nothing else)")
	fs.IntVar(&f.ckptMinutes, "checkpoint-minutes", 5, "checkpoint interval in minutes (also every steps/10 steps)")
	fs.BoolVar(&f.quick, "quick", false, "short search for tests and notebooks (400 steps, width 0.25, small batches; < 3 min)")
	fs.BoolVar(&f.asJSON, "json", false, "print the result as JSON")
	fs.StringVar(&f.algo, "algo", "tunas", "tunas (the one-shot search), or a baseline over a trained supernet: random, evolution")
	fs.StringVar(&f.supernetDir, "supernet", "", "for --algo random|evolution: the output directory of a finished search")
	fs.IntVar(&f.queries, "queries", 0, "baselines: reward evaluations (default: the controller's after its warm-up, an equal budget)")
	fs.IntVar(&f.evalBatches, "eval-batches", 0, "baselines: score every point on the same N validation batches (default: query i on the controller's i-th batch after its warm-up)")
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
	cfg.WeightLR = tunas.WeightLR(cfg.BatchSize)
	if f.set["lr"] {
		cfg.WeightLR = f.lr
	}
	cfg.Controller.LR = tunas.ControllerLR(cfg.Steps)
	if f.set["controller-lr"] {
		cfg.Controller.LR = f.controllerLR
	}
	return cfg, cfg.Validate()
}

func runSearch(args []string) error {
	fs := newFlags("search", "[--space NAME|FILE] [--objective avg|max|weighted|TARGET] [--targets LIST] [--t0 X] [--beta B] [--dataset SPEC] [--steps N] [--out DIR] [--resume] [--seed S] [--quick] [--json]\n       multihw search --algo random|evolution --supernet DIR [--queries N] [--json]")
	f := &searchFlags{}
	f.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	f.set = setFlags(fs)
	ctx, stop := interruptible()
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
	if f.overwrite && f.out == "" {
		return fmt.Errorf("--overwrite needs --out DIR")
	}
	if f.ckptMinutes < 0 {
		return fmt.Errorf("--checkpoint-minutes must not be negative, got %d", f.ckptMinutes)
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	if f.out != "" {
		if err := tunas.CheckOutputDir(f.out); err != nil {
			return err
		}
	}
	s := tunas.New(cfg).Out(f.out).Resume(f.resume).Overwrite(f.overwrite).Progress(os.Stderr).CheckpointEvery(0, time.Duration(f.ckptMinutes)*time.Minute)
	res, err := s.Run(ctx)
	if err != nil {
		if errors.Is(err, context.Canceled) && f.out != "" {
			return fmt.Errorf("interrupted (checkpoint saved); continue with the same flags and --resume")
		}
		return err
	}
	return emit(f.asJSON, res, func() string { return res.Summary(f.out) })
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
	return emit(f.asJSON, res, func() string { return res.Summary(f.supernetDir) })
}

func init() {
	register(&command{name: "search bench", summary: "supernet design measurements: sliced path graphs (build, first run, step) vs the maximal network a masked graph runs", run: runSearchBench})
	register(&command{name: "search ablation", summary: "how well supernet variants learn: one-shot accuracy of random paths after a uniform-policy training", run: runSearchAblation})
}

func runSearchBench(args []string) error {
	fs := newFlags("search bench", "[--width W] [--batch B] [--points N] [--repeats R] [--search-steps N] [--json]")
	width := fs.Float64("width", tunas.DefaultWidthFactor, "proxy width factor")
	batch := fs.Int("batch", tunas.DefaultBatchSize, "training batch size")
	points := fs.Int("points", 6, "random paths measured")
	repeats := fs.Int("repeats", 3, "cached steps timed per path (median)")
	seed := fs.Uint64("seed", 1, "seed of the random paths")
	searchSteps := fs.Int("search-steps", tunas.DefaultSteps, "steps of the default search (Fashion-MNIST) timed for its steps/min: all of them by default, fewer for its first steps only, 0 to skip")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *searchSteps < 0 || *searchSteps > tunas.DefaultSteps {
		return fmt.Errorf("--search-steps must be in [0, %d]", tunas.DefaultSteps)
	}
	rows, err := tunas.SupernetBench(*width, *batch, *points, *repeats, *seed)
	if err != nil {
		return err
	}
	if *searchSteps > 0 {
		r, err := tunas.SearchSpeed(*searchSteps, os.Stderr)
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}
	return emit(*asJSON, rows, func() string { return tunas.BenchText(rows) })
}

func runSearchAblation(args []string) error {
	fs := newFlags("search ablation", "[--steps N] [--width W] [--batch B] [--points N] [--variants LIST] [--json]")
	cfg := tunas.AblationConfig{Progress: os.Stderr}
	fs.IntVar(&cfg.Steps, "steps", 400, "training steps per variant")
	fs.Float64Var(&cfg.Width, "width", 0.25, "proxy width factor")
	fs.IntVar(&cfg.Batch, "batch", 32, "training batch size")
	fs.IntVar(&cfg.Points, "points", 8, "random paths scored per variant")
	fs.IntVar(&cfg.Batches, "batches", 1, "validation batches (of 256) per path")
	variants := fs.String("variants", "expand+project/keep/warmup,project/keep/warmup,none/keep/warmup,expand+project/omit/warmup,expand+project/keep/uniform",
		"comma-separated SHARING/EXPANDONE/warmup|uniform variants (EXPANDONE: keep or omit, the space's expansion-1 rule; conv and skip are the old names)")
	dataset := fs.String("dataset", "fashion-mnist", "dataset: "+data.SpecHelp)
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg.Variants = splitList(*variants)
	ds, err := data.NewLoader(*dataset).Validation(0.1).Load()
	if err != nil {
		return err
	}
	rows, err := tunas.Ablation(context.Background(), cfg, ds)
	if err != nil {
		return err
	}
	return emit(*asJSON, rows, tunas.AblationTable(rows).Text)
}

func init() {
	register(&command{name: "search report", summary: "write the markdown report of searches, baselines and retrained models (nas/SEARCH_REPORT.md)", run: runSearchReport})
}

func runSearchReport(args []string) error {
	fs := newFlags("search report", "[--study DIR] [--search NAME=DIR,...] [--rank NAME=DIR,...] [--trained NAME=DIR,...] [--bench FILE] [--ablation FILE] [--commands FILE] [--out FILE]")
	studyDir := fs.String("study", "", "a reproduction study's directory (`multihw study`): its settings and size, claims, searches, T0 sweep, retraining with seeds and cross-evaluation")
	searches := fs.String("search", "", "searches: NAME=DIR (output directories of `multihw search`; their baseline-*.json give the equal-budget section)")
	ranks := fs.String("rank", "", "ranking studies: NAME=DIR (output directories of `multihw search rank`)")
	trained := fs.String("trained", "", "retrained models: NAME=DIR (output directories of `multihw train`)")
	var in figset.SearchReportInput
	fs.StringVar(&in.BenchFile, "bench", "", "JSON output of `multihw search bench --json`")
	ablation := fs.String("ablation", "", "JSON outputs of `multihw search ablation --json` (comma-separated: one column per run)")
	fs.StringVar(&in.CommandsFile, "commands", "", "text file with the commands that produced the runs (quoted verbatim)")
	fs.StringVar(&in.NotesFile, "notes", "", "markdown file appended verbatim (hand-written discussion)")
	out := fs.String("out", "", "output file (default: stdout)")
	fs.StringVar(&in.FigureDir, "figures", "", "also write figures (search curves, decision probabilities, accuracy vs latency) as PNG+SVG into this directory, linked from the report")
	if err := parse(fs, args); err != nil {
		return err
	}
	var err error
	for _, f := range []struct {
		dst  *[]figset.NamedDir
		flag string
		val  string
	}{{&in.Searches, "search", *searches}, {&in.Trained, "trained", *trained}, {&in.Ranks, "rank", *ranks}} {
		pairs, err := parsePairs(f.val, f.flag)
		if err != nil {
			return err
		}
		for _, p := range pairs {
			*f.dst = append(*f.dst, figset.NamedDir{Name: p[0], Dir: p[1]})
		}
	}
	in.AblationFiles = splitList(*ablation)
	if in.FigureDir != "" && *out != "" {
		if in.FigureRel, err = filepath.Rel(filepath.Dir(*out), in.FigureDir); err != nil {
			in.FigureRel = in.FigureDir
		}
	}
	if *studyDir != "" {
		if in.Study, err = study.Summarize(*studyDir); err != nil {
			return err
		}
	}
	md, err := figset.SearchReport(in)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = io.WriteString(stdout, md)
		return err
	}
	return atomicfile.WriteFile(*out, []byte(md), 0o644)
}
