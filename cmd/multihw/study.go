package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/nas/study"
	"github.com/multihw/multihw/nas/tunas"
)

func init() {
	register(&command{name: "study plan", summary: "plan a reproduction study (T0 sweeps, single- vs multi-target searches, retraining with seeds) in a directory", run: runStudyPlan})
	register(&command{name: "study run", summary: "run (or resume) a planned study: every unfinished search and training, in order", run: runStudyRun})
	register(&command{name: "study status", summary: "what a study has done, what is left, and what it cost", run: runStudyStatus})
	register(&command{name: "study report", summary: "the study's report (nas/SEARCH_REPORT.md): `search report --study DIR`", run: runStudyReport})
	register(&command{name: "study pilot", summary: "seed-spread pilot: train references with K seeds at a proxy setting; seeds needed per difference; the study's size", run: runStudyPilot})
}

// studyFlags are the flags that configure a study (plan and pilot).
type studyFlags struct {
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

func (f *studyFlags) register(fs *flag.FlagSet) {
	d := study.DefaultConfig()
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
	fs.IntVar(&f.trainSteps, "train-steps", 0, "retraining steps (overrides --epochs)")
	fs.IntVar(&f.seeds, "train-seeds", len(d.TrainSeeds), "retraining seeds of every architecture (1..K)")
	fs.Float64Var(&f.z, "z", d.Rules.Z, "decision rule: differences beyond Z standard errors are resolved")
	fs.Float64Var(&f.costProbability, "cost-probability", d.Rules.CostProbability, "decision rule: a latency ordering holding in this fraction of the cost draws is resolved")
	fs.Float64Var(&f.costTolerance, "cost-tolerance", d.Rules.CostTolerance, "decision rule without cost draws: relative latency differences beyond this are resolved")
	fs.Float64Var(&f.nearPoints, "near", d.Rules.NearAccuracy, "decision rule: accuracy margin (points) of \"near\" the Pareto front")
	fs.IntVar(&f.costDraws, "cost-draws", d.Rules.CostDraws, "parameter sets drawn from the cost models' uncertainty for latency spreads and ordering probabilities (0: fitted values only)")
}

func parseSeeds(s, flagName string) ([]uint64, error) {
	var out []uint64
	for _, v := range splitList(s) {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--%s: %q is not a seed", flagName, v)
		}
		out = append(out, n)
	}
	return out, nil
}

// config turns the flags into a study configuration: the defaults (or their
// quick form) with every flag given on the command line applied.
func (f *studyFlags) config() (study.Config, error) {
	c := study.DefaultConfig()
	if f.quick {
		c = c.Quick()
	}
	var err error
	apply := map[string]func() error{
		"objectives": func() error { c.Objectives = splitList(f.objectives); return nil },
		"t0":         func() (err error) { c.T0s, err = study.ParseT0s(f.t0s); return err },
		"search-seeds": func() (err error) {
			c.SearchSeeds, err = parseSeeds(f.searchSeeds, "search-seeds")
			return err
		},
		"single-targets": func() error {
			switch f.singleTargets {
			case "none", "":
				c.SingleTargets = nil
			case "paper":
				c.SingleTargets = hwcost.PaperTargets()
			default:
				c.SingleTargets = splitList(f.singleTargets)
			}
			return nil
		},
		"single-t0": func() (err error) { c.SingleT0, err = study.ParseT0(f.singleT0); return err },
		"single-seeds": func() (err error) {
			c.SingleSeeds, err = parseSeeds(f.singleSeeds, "single-seeds")
			return err
		},
		"references": func() error { c.References = splitList(f.references); return nil },
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

func runStudyPlan(args []string) error {
	fs := newFlags("study plan", "--dir DIR [--quick] [study flags] [--pilot DIR [--search-rate R]] [--json]")
	dir := fs.String("dir", "", "study directory")
	pilot := fs.String("pilot", "", "pilot directory (`study pilot --out`): estimate the study's size from its measurements")
	rate := fs.Float64("search-rate", 0, "search steps per minute for the estimate (default: the pilot's timed search)")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	f := &studyFlags{}
	f.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	f.set = setFlags(fs)
	if *dir == "" {
		return errors.New("study plan needs --dir DIR")
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	p, err := study.NewPlanWithPilot(cfg, *pilot, *rate)
	if err != nil {
		return err
	}
	if p, err = study.WritePlan(*dir, p); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(p)
	}
	printf("%srun it: multihw study run --dir %s\n", p.Summary(*dir), *dir)
	return nil
}

func runStudyRun(args []string) error {
	fs := newFlags("study run", "--dir DIR [--only search|train]")
	dir := fs.String("dir", "", "study directory (planned with `study plan`)")
	only := fs.String("only", "", "run only the jobs of one kind: search or train")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("study run needs --dir DIR")
	}
	r := study.NewRunner(*dir).Progress(os.Stderr)
	switch *only {
	case "":
	case study.KindSearch, study.KindTrain:
		r = r.Only(*only)
	default:
		return fmt.Errorf("--only %q: want search or train", *only)
	}
	ctx, stop := interruptible()
	defer stop()
	st, err := r.Run(ctx)
	if err != nil {
		return err
	}
	printf("%d of %d jobs done in %s\n", st.Done(), len(st.Jobs), *dir)
	if !st.Complete() {
		printf("not finished (blocked or not selected): run `multihw study status --dir %s`\n", *dir)
	}
	return nil
}

func runStudyStatus(args []string) error {
	fs := newFlags("study status", "--dir DIR [--json]")
	dir := fs.String("dir", "", "study directory")
	asJSON := fs.Bool("json", false, "print the jobs and the summary as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("study status needs --dir DIR")
	}
	st, err := study.Inspect(*dir)
	if err != nil {
		return err
	}
	sum, err := study.Summarize(*dir)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(struct {
			Status  *study.Status  `json:"status"`
			Summary *study.Summary `json:"summary"`
		}{st, sum})
	}
	printf("%s", st.Summary(sum))
	return nil
}

func runStudyReport(args []string) error {
	fs := newFlags("study report", "--dir DIR [--out FILE] [--figures DIR] [other `search report` flags]")
	dir := fs.String("dir", "", "study directory")
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fs.Usage()
		fmt.Fprintln(fs.Output(), "\nThe other flags are those of `multihw search report` (see `multihw search report -h`).")
		return errUsage
	}
	// --dir is ours; everything else goes to search report.
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--dir" || a == "-dir":
			if i+1 >= len(args) {
				return errors.New("--dir needs a value")
			}
			*dir = args[i+1]
			i++
		case strings.HasPrefix(a, "--dir=") || strings.HasPrefix(a, "-dir="):
			*dir = a[strings.Index(a, "=")+1:]
		default:
			rest = append(rest, a)
		}
	}
	if *dir == "" {
		return errors.New("study report needs --dir DIR")
	}
	return runSearchReport(append([]string{"--study", *dir}, rest...))
}

func runStudyPilot(args []string) error {
	fs := newFlags("study pilot", "--out DIR [--models LIST] [--seeds K] [--timing-steps N] [study flags] [--json]")
	out := fs.String("out", "", "pilot directory (rerun the same command to resume)")
	models := fs.String("models", "multi_avg,mobilenet_v2", "reference models trained with every seed")
	seeds := fs.Int("seeds", 4, "seeds per model (at least 2)")
	diffs := fs.String("differences", "0.25,0.5,1", "accuracy differences (points) to size the seeds for")
	timing := fs.Int("timing-steps", 0, "also time a search of this many steps at the study's search setting (0: none)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	f := &studyFlags{}
	f.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	f.set = setFlags(fs)
	if *out == "" {
		return errors.New("study pilot needs --out DIR")
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	pc := study.PilotFor(cfg, splitList(*models), *seeds)
	if pc.Differences, err = parseFloats(*diffs); err != nil {
		return fmt.Errorf("--differences: %w", err)
	}
	pc.SearchSteps = *timing
	ctx, stop := interruptible()
	defer stop()
	res, err := study.NewPilot(*out, pc).Progress(os.Stderr).Run(ctx)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted; run the same command again to resume: %w", err)
		}
		return err
	}
	if *asJSON {
		return printJSON(res)
	}
	text, err := res.StudySummary(cfg, pc, *out)
	if err != nil {
		return err
	}
	printf("%s", text)
	return nil
}
