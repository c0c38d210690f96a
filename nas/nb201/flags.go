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

// Config is the search configuration of the flags with reward r.
func (s *SearchFlags) Config(r nas.Reward) SearchConfig {
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
	return cfg
}
