package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/internal/atomicfile"
	"github.com/multihw/multihw/internal/memlimit"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/nas/study"
	"github.com/multihw/multihw/nas/tunas"
	"github.com/multihw/multihw/plots"
	"github.com/multihw/multihw/plots/figset"
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
	if f.asJSON {
		return printJSON(res)
	}
	printSearchSummary(res, f.out)
	return nil
}

func printSearchSummary(res *tunas.Result, out string) {
	printf("%s search, %d steps (%.1f steps/min), T0 %g, β %g\n", res.Config.Objective, res.Steps, res.Stats.StepsPerMinute,
		res.Config.Reward.T0, res.Config.Reward.Beta)
	printf("final architecture (probability %.3g):\n%s", res.Final.Probability, res.Final.Text)
	printf("cost: T %.3f, avg %.3f, max %.3f;", res.Final.Costs.T, res.Final.Costs.Avg, res.Final.Costs.Max)
	for _, n := range res.Targets {
		printf(" %s %.3f", n, res.Final.Costs.Normalized[n])
	}
	printf("\n%.1f M MACs, %.2f M params\n", float64(res.Final.MACs)/1e6, float64(res.Final.Params)/1e6)
	if out != "" {
		printf("written: %s/{%s,%s,%s}\n", out, tunas.ResultFile, tunas.ArchTextFile, tunas.ArchJSONFile)
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
			printf("%s: none\n", name)
			return
		}
		printf("%s: one-shot Q %.4f (whole validation split %.4f), T %.3f (avg %.3f, max %.3f), reward %.4f\n%s", name, c.Q, c.QValidation, c.T, c.Costs.Avg, c.Costs.Max, c.Reward, c.Text)
	}
	printf("%s over the supernet of %s: %d queries (the controller made %d reward evaluations after its warm-up) in %.0f s\n",
		f.algo, f.supernetDir, len(res.Trials), res.ControllerEvaluations, res.Seconds)
	show("best", res.Best)
	show("controller's architecture", res.Controller)
	printf("written: %s/%s\n", f.supernetDir, tunas.BaselineFile(f.algo))
	return nil
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
	if *asJSON {
		return printJSON(rows)
	}
	printf("%s", tunas.BenchText(rows))
	return nil
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
	if *asJSON {
		return printJSON(rows)
	}
	printf("%s", tunas.AblationTable(rows).Text())
	return nil
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
	benchFile := fs.String("bench", "", "JSON output of `multihw search bench --json`")
	ablationFile := fs.String("ablation", "", "JSON outputs of `multihw search ablation --json` (comma-separated: one column per run)")
	commands := fs.String("commands", "", "text file with the commands that produced the runs (quoted verbatim)")
	notes := fs.String("notes", "", "markdown file appended verbatim (hand-written discussion)")
	out := fs.String("out", "", "output file (default: stdout)")
	figures := fs.String("figures", "", "also write figures (search curves, decision probabilities, accuracy vs latency) as PNG+SVG into this directory, linked from the report")
	if err := parse(fs, args); err != nil {
		return err
	}
	ss, err := parsePairs(*searches, "search")
	if err != nil {
		return err
	}
	ts, err := parsePairs(*trained, "trained")
	if err != nil {
		return err
	}
	rs, err := parsePairs(*ranks, "rank")
	if err != nil {
		return err
	}
	figRel := ""
	if *figures != "" && *out != "" {
		if figRel, err = filepath.Rel(filepath.Dir(*out), *figures); err != nil {
			figRel = *figures
		}
	}
	in := reportInput{searches: ss, trained: ts, ranks: rs, benchFile: *benchFile, ablationFile: *ablationFile, commandsFile: *commands,
		figDir: *figures, figRel: figRel}
	if *studyDir != "" {
		if in.study, err = study.Summarize(*studyDir); err != nil {
			return err
		}
	}
	md, err := searchReport(in)
	if err != nil {
		return err
	}
	if *notes != "" {
		raw, err := memlimit.ReadFile(*notes, "notes", 16<<20)
		if err != nil {
			return err
		}
		md += "\n" + string(raw)
	}
	if *out == "" {
		_, err = io.WriteString(stdout, md)
		return err
	}
	return atomicfile.WriteFile(*out, []byte(md), 0o644)
}

// reportInput is what `search report` reads.
type reportInput struct {
	searches, trained, ranks                              [][2]string
	benchFile, ablationFile, commandsFile, figDir, figRel string
	// study, when set, adds a reproduction study's sections and searches.
	study *study.Summary
}

func searchReport(in reportInput) (string, error) {
	searches, trained, ranks := in.searches, in.trained, in.ranks
	benchFile, ablationFile, commandsFile, figDir, figRel := in.benchFile, in.ablationFile, in.commandsFile, in.figDir, in.figRel
	var figs []*plots.Figure
	link := func(name, caption string) string {
		if figRel == "" {
			return ""
		}
		return fmt.Sprintf("![%s](%s/%s.png)\n\n", caption, figRel, name)
	}
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# One-shot multi-hardware search: report\n\n")
	p("Generated by `multihw search report` from the run directories below; every number is read from them.\n\n")
	if in.study != nil {
		p("`%s`\n\n", in.study.Marker())
	}
	if commandsFile != "" {
		raw, err := memlimit.ReadFile(commandsFile, "commands", 16<<20)
		if err != nil {
			return "", err
		}
		p("## Commands\n\n```\n%s```\n\n", strings.TrimRight(string(raw), "\n")+"\n")
	}
	if benchFile != "" {
		var rows []tunas.BenchRow
		if err := readJSONFile(benchFile, &rows); err != nil {
			return "", err
		}
		p("## Design: sliced path graphs vs a masked graph (Go backend)\n\n")
		p("One training step of the supernet (`multihw search bench`). A *fresh* path builds and compiles its graph, then runs it once (that first run allocates); a *cached* path reruns its compiled graph. The masked graph of TuNAS computes, at every step, both block kinds with the largest kernel, expansion, width and depth: its cost is that of the fully mixed maximal path measured here.\n\n")
		p("| measurement | step (ms) | build (ms) | first run (ms) | proxy MMACs |\n|---|---:|---:|---:|---:|\n")
		for _, r := range rows {
			if strings.HasPrefix(r.What, "ratio") {
				p("| **%s** | **%.1f×** | | | |\n", r.What, r.MS)
				continue
			}
			if r.StepsPerMinute > 0 {
				p("| %s (%.1f steps/min: %d steps in %.1f min) | %.1f | | | |\n", r.What, r.StepsPerMinute, tunas.DefaultSteps, r.SearchMinutes, r.MS)
				continue
			}
			p("| %s | %.1f | %.1f | %.1f | %.1f |\n", r.What, r.MS, r.BuildMS, r.FirstMS, r.MMACs)
		}
		p("\n")
	}
	if ablationFile != "" {
		type abl struct { // the rows of `multihw search ablation --json`
			Variant        string    `json:"variant"`
			Scores         []float64 `json:"scores"`
			Mean, Min, Max float64
			Seconds        float64 `json:"seconds"`
		}
		files := splitList(ablationFile)
		var order []string
		byVariant := map[string][]abl{}
		for _, f := range files {
			var rows []abl
			if err := readJSONFile(f, &rows); err != nil {
				return "", err
			}
			for _, r := range rows {
				if _, ok := byVariant[r.Variant]; !ok {
					order = append(order, r.Variant)
				}
				byVariant[r.Variant] = append(byVariant[r.Variant], r)
			}
		}
		p("## Design: what lets the supernet learn\n\n")
		p("One-shot validation accuracy of random paths after training the supernet with a uniform policy (`multihw search ablation`): sharing between IBN and fused IBN (none / projection / expansion centre tap + projection), the space's expansion-1 rule (keep: expansion-1 blocks keep their expansion conv, as TuNAS; omit: they drop it, as the reference models; supernet, cost and retraining alike), and TuNAS's op/filter warm-up (mixtures of all ops, largest filters) or uniform paths from the start. %d run(s) with different seeds (the seed draws the initial weights, batches and scored paths).\n\n", len(files))
		p("| sharing / expansion 1 / warm-up |")
		for i := range files {
			p(" mean (run %d) |", i+1)
		}
		p(" min | max | seconds (run 1) |\n|---|")
		for range files {
			p("---:|")
		}
		p("---:|---:|---:|\n")
		for _, v := range order {
			rs := byVariant[v]
			lo, hi := rs[0].Min, rs[0].Max
			p("| %s |", v)
			for _, r := range rs {
				p(" %.3f |", r.Mean)
				lo, hi = min(lo, r.Min), max(hi, r.Max)
			}
			for range len(files) - len(rs) {
				p(" |")
			}
			p(" %.3f | %.3f | %.0f |\n", lo, hi, rs[0].Seconds)
		}
		p("\n")
	}
	m, err := hwcost.NewMetric().ReferenceModel(hwcost.DefaultReference).Done()
	if err != nil {
		return "", err
	}
	// Each search is read once: search.json holds the whole history (MBs).
	var runs []tunas.Run
	curves := map[string]bool{} // searches whose curves are drawn (all but the study's secondary ones)
	if st := in.study; st != nil {
		sfigs, err := studyHead(&b, st, figDir != "", link)
		if err != nil {
			return "", err
		}
		figs = append(figs, sfigs...)
		for _, r := range st.Searches {
			if !r.Done {
				continue
			}
			sr, err := tunas.ReadRun(filepath.Join(st.Dir, study.SearchesDir, r.Name))
			if err != nil {
				return "", err
			}
			sr.Name = r.Name
			runs = append(runs, *sr)
			curves[r.Name] = studyPrimary(st, r)
		}
	}
	for _, s := range searches {
		r, err := tunas.ReadRun(s[1])
		if err != nil {
			return "", err
		}
		r.Name = s[0]
		runs = append(runs, *r)
		curves[r.Name] = true
	}
	if len(runs) > 0 {
		p("## Searches\n\n")
		p("| search | objective | T0 | β | steps | controller lr | steps/min | minutes | final T | AVG | MAX | P(final) | Q first 10%% | Q last 10%% | entropy start → end |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, s := range runs {
			res := s.Result
			n := len(res.History)
			meanQ := func(from, to int) float64 {
				var q float64
				for _, r := range res.History[from:to] {
					q += r.Q
				}
				return q / float64(max(1, to-from))
			}
			tenth := max(1, n/10)
			c := res.Config
			p("| %s | %s | %.4g | %g | %d | %.3g | %.1f | %.1f | %.3f | %.3f | %.3f | %.3g | %.3f | %.3f | %.1f → %.1f |\n", s.Name, c.Objective, c.Reward.T0, c.Reward.Beta, res.Steps,
				c.Controller.LR, res.Stats.StepsPerMinute, res.Stats.Seconds/60, res.Final.Costs.T, res.Final.Costs.Avg, res.Final.Costs.Max, res.Final.Probability,
				meanQ(0, tenth), meanQ(n-tenth, n), res.History[0].Entropy, res.History[n-1].Entropy)
		}
		p("\n")
		for _, s := range runs {
			res := s.Result
			p("### %s: final architecture (%s)\n\n```\n%s```\n\n", s.Name, s.Dir, res.Final.Text)
			if figDir != "" && curves[s.Name] {
				curves, err := figset.SearchCurves(s.Name, res)
				if err != nil {
					return "", err
				}
				probs, err := figset.SearchProbs(s.Name, res)
				if err != nil {
					return "", err
				}
				figs = append(figs, curves, probs)
				p("%s", link(curves.Name, s.Name+": search curves"))
				p("%s", link(probs.Name, s.Name+": decision probabilities"))
			}
		}
	}
	if st := in.study; st != nil {
		sfigs, err := studyBody(&b, st, figDir != "", link)
		if err != nil {
			return "", err
		}
		figs = append(figs, sfigs...)
	}
	// Ranking studies, read once.
	var studies []rankStudy
	for _, r := range ranks {
		res, err := tunas.ReadRank(filepath.Join(r[1], tunas.RankResultFile))
		if err != nil {
			return "", err
		}
		studies = append(studies, rankStudy{name: r[0], dir: r[1], res: res})
	}
	if err := baselineSection(&b, runs, studies); err != nil {
		return "", err
	}
	rfigs, err := rankSection(&b, studies, figDir != "", link)
	if err != nil {
		return "", err
	}
	figs = append(figs, rfigs...)
	if len(trained) > 0 {
		p("## Retrained on Fashion-MNIST, with the multi-hardware cost\n\n")
		names := m.TargetNames()
		var trainRuns []train.Run
		p("| model | test accuracy | params | MMACs (224) |")
		for _, n := range names {
			p(" %s |", n)
		}
		p(" AVG | MAX | recipe |\n|---|---:|---:|---:|")
		for range names {
			p("---:|")
		}
		p("---:|---:|---|\n")
		// The cost models' parameter uncertainty (hwcost.Sensitivity): each
		// distinct architecture once.
		var archs []*blocks.Arch
		archIndex := map[string]int{}
		for _, t := range trained {
			if run, err := train.ReadRun(t[1]); err == nil && run.Result.Arch != nil {
				if _, ok := archIndex[run.Result.Arch.String()]; !ok {
					archIndex[run.Result.Arch.String()] = len(archs)
					a := run.Result.Arch.Clone()
					a.Name = t[0]
					archs = append(archs, a)
				}
			}
		}
		var sens *hwcost.SensitivityResult
		if len(archs) > 0 {
			if sens, err = hwcost.Sensitivity(hwcost.SensitivityConfig{Metric: m, Archs: archs, Draws: figset.TradeoffDraws, Seed: 1}); err != nil {
				return "", err
			}
		}
		band := func(s hwcost.Spread) string { return fmt.Sprintf("%.3f [%.2f, %.2f]", s.Fitted, s.P05, s.P95) }
		for _, t := range trained {
			run, err := train.ReadRun(t[1])
			if err != nil {
				p("| %s | (not finished: %v) |\n", t[0], err)
				continue
			}
			run.Name = t[0]
			trainRuns = append(trainRuns, *run)
			res := run.Result
			cost, err := m.Evaluate(res.Arch)
			if err != nil {
				return "", err
			}
			p("| %s | %.2f%% | %.2f M | %.0f |", t[0], 100*res.Test.Accuracy, float64(cost.Params)/1e6, float64(cost.MACs)/1e6)
			for _, n := range names {
				p(" %.3f |", cost.Normalized[n])
			}
			sp := sens.Archs[archIndex[res.Arch.String()]]
			p(" %s | %s | %s, %d steps, batch %d, %s |\n", band(sp.Avg), band(sp.Max), res.Recipe.Optimizer, res.Steps, res.Recipe.BatchSize, res.Adapt)
		}
		if sens != nil && len(sens.Archs) > 1 {
			p("\nAVG and MAX with their 5%%-95%% band over %d parameter sets drawn from the cost models' fitted uncertainty (`multihw cost sensitivity`, seed 1). ", sens.Draws)
			p("Probability that the row's architecture has the lower AVG / MAX than the column's:\n\n|  |")
			for _, a := range sens.Archs {
				p(" %s |", a.Name)
			}
			p("\n|---|")
			for range sens.Archs {
				p("---|")
			}
			p("\n")
			prob := map[[3]string]float64{}
			for _, o := range sens.Orderings {
				prob[[3]string{o.A, o.B, o.Metric}] = o.P
				prob[[3]string{o.B, o.A, o.Metric}] = 1 - o.P
			}
			for _, a := range sens.Archs {
				p("| %s |", a.Name)
				for _, b := range sens.Archs {
					if a.Name == b.Name {
						p(" |")
						continue
					}
					p(" %.2f / %.2f |", prob[[3]string{a.Name, b.Name, "avg"}], prob[[3]string{a.Name, b.Name, "max"}])
				}
				p("\n")
			}
		}
		if figDir != "" && len(trainRuns) > 0 {
			tradeoffs, err := figset.TrainedTradeoff(m, trainRuns, runs)
			if err != nil {
				return "", err
			}
			for _, f := range tradeoffs {
				figs = append(figs, f)
				p("\n%s", link(f.Name, "accuracy vs AVG and MAX latency"))
			}
		}
		p("\nNormalised latency: the analytic hwcost models of the paper's Pixel 4 targets, relative to MobileNetV2 1.0 at 224 px (1.0 = MobileNetV2); accuracy on the Fashion-MNIST test set (10,000 images) after the training recipe in the last column (optimizer, steps, batch, small-input adaptation).\n")
	}
	if figDir != "" && len(figs) > 0 {
		if _, err := plots.WriteFiles(figDir, 1, figs...); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

func readJSONFile(path string, v any) error {
	raw, err := memlimit.ReadFile(path, "JSON input", 1<<30)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
