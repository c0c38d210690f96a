package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/multihw/multihw/hwcost/devicedata"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/nas/nb201"
	"github.com/multihw/multihw/plots"
	"github.com/multihw/multihw/plots/figset"
)

func init() {
	register(&command{name: "search nb201", summary: "tabular multi-hardware search on NAS-Bench-201 with real device latencies (BRP-NAS)", run: runSearchNB201})
	register(&command{name: "search nb201-compare", summary: "NAS-Bench-201 winners of each single-target objective and of AVG/MAX, measured on every target", run: runSearchNB201Compare})
	register(&command{name: "search nb201-bench", summary: "success rates of evolution/random/reinforce vs the exhaustive optimum over seeds (--report: REPORT.md)", run: runSearchNB201Bench})
}

// nb201Flags are the flags that define the bench: tables, targets, reference,
// dataset and objective.
type nb201Flags struct {
	latency, targets, reference, dataset, objective, weights string
}

func (f *nb201Flags) register(fs *flag.FlagSet, withObjective bool) {
	fs.StringVar(&f.latency, "latency", devicedata.NameBRPNAS, "latency table: an embedded name (nb201-brpnas, nb201-help) or a CSV path")
	fs.StringVar(&f.targets, "targets", strings.Join(devicedata.Pixel4Targets, ","),
		"comma-separated latency columns (exact names or substrings matching one column)")
	fs.StringVar(&f.reference, "reference", nb201.AllConv3x3, "reference cell (arch_str) every latency is divided by")
	fs.StringVar(&f.dataset, "dataset", "cifar10", "accuracy of: "+strings.Join(nb201.DatasetNames(), ", "))
	if withObjective {
		fs.StringVar(&f.objective, "objective", nb201.ObjAVG, "cost: avg, max, weighted (with --weights) or one target column (e.g. dsp)")
		fs.StringVar(&f.weights, "weights", "", "comma-separated per-target weights for --objective weighted (normalised to sum 1)")
	}
}

func (f *nb201Flags) build() (*nb201.Bench, error) {
	b := nb201.New().Latency(f.latency).Reference(f.reference).Dataset(f.dataset)
	b.Targets(splitList(f.targets)...)
	if f.objective != "" {
		b.Objective(f.objective)
	}
	if f.weights != "" {
		w, err := parseFloats(f.weights)
		if err != nil || len(w) == 0 {
			return nil, fmt.Errorf("--weights: %v", orEmpty(err))
		}
		b.Weights(w...)
	}
	bn, err := b.Build()
	if err != nil {
		return nil, err
	}
	for _, n := range bn.Notes() {
		fmt.Fprintf(os.Stderr, "note: %s\n", n)
	}
	return bn, nil
}

// searchFlags configure the non-exhaustive algorithms.
type nb201SearchFlags struct {
	population, sample, retries int
	keepOldest, costByQuery     bool
	lr, guideBeta               float64
	maxEval                     int
}

func (s *nb201SearchFlags) register(fs *flag.FlagSet) {
	d := nb201.DefaultEvolution
	fs.IntVar(&s.population, "population", d.Population, "evolution: population size")
	fs.IntVar(&s.sample, "sample", d.Sample, "evolution: tournament size")
	fs.IntVar(&s.retries, "retries", d.Retries, "evolution: re-draws of a child already looked up")
	fs.BoolVar(&s.keepOldest, "aging", !d.RemoveWorst, "evolution: remove the oldest individual (regularised evolution) instead of the worst")
	fs.Float64Var(&s.lr, "lr", nb201.DefaultReinforceLR, "reinforce: controller learning rate")
	fs.Float64Var(&s.guideBeta, "guide-beta", nb201.DefaultGuideBeta,
		"budget reward: β of the search guide Q·min(1,T/T0)^β (the answer is still the best within-budget cell)")
	fs.IntVar(&s.maxEval, "max-evaluations", 0, "bound on all lookups, repeats included (default 20 × queries)")
	fs.BoolVar(&s.costByQuery, "cost-by-query", false, "budget reward: a cell's cost is revealed only by its query (default: known without one, as from a latency table or cost model, so cells over the budget are skipped before they are looked up)")
}

func (s *nb201SearchFlags) config(r nas.Reward) nb201.SearchConfig {
	cfg := nb201.SearchConfig{
		Reward:         r,
		Evolution:      nas.EvolutionConfig{Population: s.population, Sample: s.sample, Retries: s.retries, RemoveWorst: !s.keepOldest},
		ReinforceLR:    s.lr,
		MaxEvaluations: s.maxEval,
		CostByQuery:    s.costByQuery,
	}
	if r.Kind == nas.RewardBudget {
		cfg.Guide = nas.Reward{Kind: nas.RewardMnasHard, T0: r.T0, Beta: s.guideBeta}
	}
	return cfg
}

func runSearchNB201(args []string) error {
	fs := newFlags("search nb201", "--budget B [--targets COLS] [--objective avg|max|weighted|COLUMN] [--weights W,...] "+
		"[--reference ARCH] [--dataset cifar10|cifar100|imagenet16] [--algo exhaustive|evolution|reinforce|random] "+
		"[--reward budget|abs|mnas|mnas_hard] [--queries Q] [--seed S] [--json]")
	var bf nb201Flags
	bf.register(fs, true)
	var sf nb201SearchFlags
	sf.register(fs)
	budget := fs.Float64("budget", 0, "target cost T0 (normalised latency under the objective); required")
	algo := fs.String("algo", nb201.AlgoExhaustive, "algorithm: "+strings.Join(nb201.Algorithms, ", "))
	reward := fs.String("reward", string(nas.RewardBudget), "reward: budget (max accuracy with cost <= budget), abs, mnas, mnas_hard")
	beta := fs.Float64("beta", 0, "reward β (default: the kind's: abs -0.10, mnas -0.07)")
	queries := fs.Int("queries", 500, "distinct candidate cells a non-exhaustive search may look up")
	seed := fs.Uint64("seed", 1, "seed of the search")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *budget == 0 {
		return fmt.Errorf("missing --budget (e.g. --budget 0.5: half the reference's normalised latency)")
	}
	if !slices.Contains(nb201.Algorithms, *algo) {
		return fmt.Errorf("unknown --algo %q (valid: %s)", *algo, strings.Join(nb201.Algorithms, ", "))
	}
	r := nb201.Reward(nas.RewardKind(*reward), *budget)
	if *beta != 0 {
		r.Beta = *beta
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("--reward/--budget/--beta: %w", err)
	}
	bn, err := bf.build()
	if err != nil {
		return err
	}
	cfg := sf.config(r)
	cfg.Algorithm, cfg.Queries, cfg.Seed = *algo, *queries, *seed
	res, err := bn.SearchAgainstOptimum(cfg)
	if err != nil {
		return err
	}
	return emit(*asJSON, res, res.Summary)
}

func runSearchNB201Compare(args []string) error {
	fs := newFlags("search nb201-compare", "[--budget B] [--targets COLS] [--reference ARCH] [--dataset D] [--plot DIR] [--json]")
	var bf nb201Flags
	bf.register(fs, false)
	budget := fs.Float64("budget", 0.3, "budget on every objective (normalised latency)")
	plotDir := fs.String("plot", "", "also write device_comparison.png/.svg to this directory")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	bn, err := bf.build()
	if err != nil {
		return err
	}
	c, err := bn.Compare(*budget)
	if err != nil {
		return err
	}
	if *plotDir != "" {
		fig, err := plots.DeviceComparison(figset.NB201ComparisonData(c))
		if err != nil {
			return err
		}
		paths, err := plots.WriteFiles(*plotDir, 1, fig)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "wrote %s\n", strings.Join(paths, ", "))
	}
	if *asJSON {
		return printJSON(c)
	}
	printf("Budget %g on each objective; %s accuracy; latency normalised to %s\n\n", c.Budget, nb201.DatasetLabel(c.Dataset), c.Reference)
	return c.WriteTable(stdout)
}

func runSearchNB201Bench(args []string) error {
	fs := newFlags("search nb201-bench", "[--seeds 20] [--queries 500] [--budgets 0.3,0.5,0.7] [--algos evolution,random,reinforce] "+
		"[--more-seeds N] [--report FILE [--compare 0.3,0.5]] [--json]")
	var bf nb201Flags
	bf.register(fs, true)
	var sf nb201SearchFlags
	sf.register(fs)
	seeds := fs.Int("seeds", 20, "seeds per (algorithm, budget): 0 .. seeds-1")
	queries := fs.Int("queries", 500, "distinct candidate cells per search")
	budgets := fs.String("budgets", "0.3,0.5,0.7", "comma-separated budgets")
	algos := fs.String("algos", "evolution,random,reinforce", "comma-separated algorithms")
	tol := fs.Float64("tolerance", 0.5, "success: within this many accuracy points of the exhaustive optimum")
	more := fs.Int("more-seeds", 0, "also run this many seeds from --more-offset, for tighter rates")
	moreOffset := fs.Uint64("more-offset", 2000, "first seed of --more-seeds (the defaults were tuned on 1000..1199)")
	report := fs.String("report", "", "write a markdown report (rates and comparisons) to this file, e.g. nas/nb201/REPORT.md")
	compare := fs.String("compare", "0.3,0.5", "budgets of the comparison tables in --report")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	bl, err := parseFloats(*budgets)
	if err != nil || len(bl) == 0 {
		return fmt.Errorf("--budgets: %v", orEmpty(err))
	}
	cb, err := parseFloats(*compare)
	if err != nil || (*report != "" && len(cb) == 0) {
		return fmt.Errorf("--compare: %v", orEmpty(err))
	}
	bn, err := bf.build()
	if err != nil {
		return err
	}
	search := sf.config(nas.Reward{Kind: nas.RewardBudget, T0: 1}) // T0 follows each budget
	cfg := nb201.RatesConfig{Budgets: bl, Algorithms: splitList(*algos), Seeds: *seeds, Queries: *queries, Tolerance: *tol, Search: search, Progress: os.Stderr}
	rep, err := bn.Study(nb201.StudyConfig{Rates: cfg, MoreSeeds: *more, MoreOffset: *moreOffset, WithReport: *report != "",
		CompareBudgets: cb, Command: "multihw search nb201-bench " + strings.Join(args, " ")})
	if err != nil {
		return err
	}
	if *report != "" {
		if err := bn.WriteReportFile(*report, *rep); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "wrote %s\n", *report)
	}
	if *asJSON {
		return printJSON(struct {
			Rates []nb201.RateRow `json:"rates"`
			More  []nb201.RateRow `json:"more,omitempty"`
		}{rep.Rates, rep.More})
	}
	printf("%s", bn.Summary(rep))
	return nil
}
