package nb201

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/multihw/multihw/hwcost/devicedata"
	"github.com/multihw/multihw/internal/flaglist"
	"github.com/multihw/multihw/nas"
)

// BenchFlags bind the definition of a bench (tables, targets, reference,
// dataset and objective) to the command-line flags of `multihw search nb201`
// and its siblings.
type BenchFlags struct {
	latency, targets, reference, dataset, objective, weights string
}

// Register defines the flags in fs; withObjective adds --objective and
// --weights.
func (f *BenchFlags) Register(fs *flag.FlagSet, withObjective bool) {
	fs.StringVar(&f.latency, "latency", devicedata.NameBRPNAS, "latency table: an embedded name (nb201-brpnas, nb201-help) or a CSV path")
	fs.StringVar(&f.targets, "targets", strings.Join(devicedata.Pixel4Targets, ","),
		"comma-separated latency columns (exact names or substrings matching one column)")
	fs.StringVar(&f.reference, "reference", AllConv3x3, "reference cell (arch_str) every latency is divided by")
	fs.StringVar(&f.dataset, "dataset", "cifar10", "accuracy of: "+strings.Join(DatasetNames(), ", "))
	if withObjective {
		fs.StringVar(&f.objective, "objective", ObjAVG, "cost: avg, max, weighted (with --weights) or one target column (e.g. dsp)")
		fs.StringVar(&f.weights, "weights", "", "comma-separated per-target weights for --objective weighted (normalised to sum 1)")
	}
}

// Build builds the bench the flags describe and writes its notes to notes.
func (f *BenchFlags) Build(notes io.Writer) (*Bench, error) {
	b := New().Latency(f.latency).Reference(f.reference).Dataset(f.dataset)
	b.Targets(flaglist.Split(f.targets)...)
	if f.objective != "" {
		b.Objective(f.objective)
	}
	if f.weights != "" {
		w, err := flaglist.Floats(f.weights)
		if err != nil || len(w) == 0 {
			return nil, fmt.Errorf("--weights: %v", flaglist.OrEmpty(err))
		}
		b.Weights(w...)
	}
	bn, err := b.Build()
	if err != nil {
		return nil, err
	}
	for _, n := range bn.Notes() {
		fmt.Fprintf(notes, "note: %s\n", n)
	}
	return bn, nil
}

// SearchFlags bind the settings of the non-exhaustive algorithms to
// command-line flags.
type SearchFlags struct {
	population, sample, retries int
	keepOldest, costByQuery     bool
	lr, guideBeta               float64
	maxEval                     int
}

// Register defines the flags in fs.
func (s *SearchFlags) Register(fs *flag.FlagSet) {
	d := DefaultEvolution
	fs.IntVar(&s.population, "population", d.Population, "evolution: population size")
	fs.IntVar(&s.sample, "sample", d.Sample, "evolution: tournament size")
	fs.IntVar(&s.retries, "retries", d.Retries, "evolution: re-draws of a child already looked up")
	fs.BoolVar(&s.keepOldest, "aging", !d.RemoveWorst, "evolution: remove the oldest individual (regularised evolution) instead of the worst")
	fs.Float64Var(&s.lr, "lr", DefaultReinforceLR, "reinforce: controller learning rate")
	fs.Float64Var(&s.guideBeta, "guide-beta", DefaultGuideBeta,
		"budget reward: β of the search guide Q·min(1,T/T0)^β (the answer is still the best within-budget cell)")
	fs.IntVar(&s.maxEval, "max-evaluations", 0, "bound on all lookups, repeats included (default 20 × queries)")
	fs.BoolVar(&s.costByQuery, "cost-by-query", false, "budget reward: a cell's cost is revealed only by its query (default: known without one, as from a latency table or cost model, so cells over the budget are skipped before they are looked up)")
}

// Config is the search configuration of the flags of the parsed fs with
// reward r.
func (s *SearchFlags) Config(fs *flag.FlagSet, r nas.Reward) (SearchConfig, error) {
	if err := flaglist.NotZero(fs, "max-evaluations"); err != nil {
		return SearchConfig{}, err
	}
	cfg := SearchConfig{
		Reward:         r,
		Evolution:      nas.EvolutionConfig{Population: s.population, Sample: s.sample, Retries: s.retries, RemoveWorst: !s.keepOldest},
		ReinforceLR:    s.lr,
		MaxEvaluations: s.maxEval,
		CostByQuery:    s.costByQuery,
	}
	if r.Kind == nas.RewardBudget {
		cfg.Guide = nas.Reward{Kind: nas.RewardMnasHard, T0: r.T0, Beta: s.guideBeta}
	}
	return cfg, nil
}

// StudyFlags bind the success-rate study to the command-line flags of
// `multihw search nb201-bench` (with BenchFlags and SearchFlags).
type StudyFlags struct {
	seeds, queries, more    int
	budgets, algos, compare string
	tolerance               float64
	moreOffset              uint64

	Report string // markdown report file (empty: none)
}

// Register defines the flags in fs.
func (f *StudyFlags) Register(fs *flag.FlagSet) {
	fs.IntVar(&f.seeds, "seeds", 20, "seeds per (algorithm, budget): 0 .. seeds-1")
	fs.IntVar(&f.queries, "queries", 500, "distinct candidate cells per search")
	fs.StringVar(&f.budgets, "budgets", "0.3,0.5,0.7", "comma-separated budgets")
	fs.StringVar(&f.algos, "algos", "evolution,random,reinforce", "comma-separated algorithms")
	fs.Float64Var(&f.tolerance, "tolerance", 0.5, "success: within this many accuracy points of the exhaustive optimum")
	fs.IntVar(&f.more, "more-seeds", 0, "also run this many seeds from --more-offset, for tighter rates")
	fs.Uint64Var(&f.moreOffset, "more-offset", 2000, "first seed of --more-seeds (the defaults were tuned on 1000..1199)")
	fs.StringVar(&f.Report, "report", "", "write a markdown report (rates and comparisons) to this file, e.g. nas/nb201/REPORT.md")
	fs.StringVar(&f.compare, "compare", "0.3,0.5", "budgets of the comparison tables in --report")
}

// Config is the study the flags of the parsed fs describe, its searches
// configured by search (their T0 follows each budget); command is quoted in
// the report.
func (f *StudyFlags) Config(fs *flag.FlagSet, search SearchConfig, progress io.Writer, command string) (StudyConfig, error) {
	if err := flaglist.Unused(fs, flaglist.Mode{Flags: []string{"compare"}, Chosen: f.Report != "", For: "the tables of --report FILE"},
		flaglist.Mode{Flags: []string{"more-offset"}, Chosen: f.more != 0, For: "--more-seeds N"}); err != nil {
		return StudyConfig{}, err
	}
	bl, err := flaglist.Floats(f.budgets)
	if err != nil || len(bl) == 0 {
		return StudyConfig{}, fmt.Errorf("--budgets: %v", flaglist.OrEmpty(err))
	}
	cb, err := flaglist.Floats(f.compare)
	if err != nil || (f.Report != "" && len(cb) == 0) {
		return StudyConfig{}, fmt.Errorf("--compare: %v", flaglist.OrEmpty(err))
	}
	rates := RatesConfig{Budgets: bl, Algorithms: flaglist.Split(f.algos), Seeds: f.seeds, Queries: f.queries, Tolerance: f.tolerance, Search: search, Progress: progress}
	return StudyConfig{Rates: rates, MoreSeeds: f.more, MoreOffset: f.moreOffset, WithReport: f.Report != "", CompareBudgets: cb, Command: command}, nil
}
