package nb201

import (
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/multihw/multihw/internal/flaglist"
	"github.com/multihw/multihw/internal/stats"
	"github.com/multihw/multihw/nas"
)

// RatesConfig configures a success-rate study: how often each algorithm,
// given Queries distinct cells, lands within Tolerance accuracy points of the
// exhaustive optimum under each budget (budget reward on the bench's
// objective).
type RatesConfig struct {
	Budgets    []float64
	Algorithms []string // any of Algorithms except exhaustive
	// Seeds runs seeds SeedOffset .. SeedOffset+Seeds-1.
	Seeds      int
	SeedOffset uint64
	Queries    int
	// Tolerance in accuracy points (0: 0.5).
	Tolerance float64
	// Search is the template of every run (Evolution, ReinforceLR, Guide,
	// MaxEvaluations); its Algorithm, Reward, Queries and Seed are set per run.
	Search SearchConfig
	// Progress, if set, receives one line per (budget, algorithm).
	Progress io.Writer
}

// RateRow is one (algorithm, budget) cell of the study.
type RateRow struct {
	Algorithm string  `json:"algo"`
	Budget    float64 `json:"budget"`
	// Optimum is the exhaustive optimum's accuracy and OptimumArch its cell.
	Optimum     float64 `json:"optimum"`
	OptimumArch string  `json:"optimum_arch_str"`
	// Hits counts seeds within tolerance of the optimum out of Seeds.
	Hits  int     `json:"hits"`
	Seeds int     `json:"seeds"`
	Rate  float64 `json:"rate"`
	// MeanGap is the mean of optimum − found accuracy (a run that found
	// nothing feasible counts as a gap of the optimum itself).
	MeanGap         float64 `json:"mean_gap"`
	MeanQueries     float64 `json:"mean_queries"`
	MeanEvaluations float64 `json:"mean_evaluations"`
}

// Interval is the 95% Clopper-Pearson interval of Rate over the seeds: the
// success rates the Hits out of Seeds leave open.
func (r RateRow) Interval() stats.Interval { return stats.BinomialInterval(r.Hits, r.Seeds, 0.95) }

// MaxRateSeeds bounds RatesConfig.Seeds (each seed runs every algorithm at
// every budget).
const MaxRateSeeds = 100_000

// Rates runs the study. Rows come budget by budget, algorithms in the given
// order.
func (bn *Bench) Rates(cfg RatesConfig) ([]RateRow, error) {
	tol := cfg.Tolerance
	if tol == 0 {
		tol = 0.5
	}
	if !(tol > 0) || math.IsInf(tol, 0) {
		return nil, fmt.Errorf("rates: tolerance must be positive, got %g", tol)
	}
	if cfg.Seeds > MaxRateSeeds {
		return nil, fmt.Errorf("rates: seeds must be at most %d, got %d", MaxRateSeeds, cfg.Seeds)
	}
	if cfg.Seeds < 1 || cfg.Queries < 1 || len(cfg.Budgets) == 0 || len(cfg.Algorithms) == 0 {
		return nil, fmt.Errorf("rates: need seeds >= 1, queries >= 1, a budget and an algorithm (got %d seeds, %d queries, %d budgets, %d algorithms)",
			cfg.Seeds, cfg.Queries, len(cfg.Budgets), len(cfg.Algorithms))
	}
	if b, dup := flaglist.Repeated(cfg.Budgets); dup {
		return nil, fmt.Errorf("rates: budget %g given twice", b)
	}
	if a, dup := flaglist.Repeated(cfg.Algorithms); dup {
		return nil, fmt.Errorf("rates: algorithm %q given twice", a)
	}
	for _, a := range cfg.Algorithms {
		if a == AlgoExhaustive || !slices.Contains(Algorithms, a) {
			return nil, fmt.Errorf("rates: algorithm %q is not a search (valid: %s, %s, %s)", a, AlgoEvolution, AlgoReinforce, AlgoRandom)
		}
	}
	var rows []RateRow
	for _, b := range cfg.Budgets {
		r := Reward(nas.RewardBudget, b)
		opt, err := bn.Exhaustive(r)
		if err != nil {
			return nil, err
		}
		for _, algo := range cfg.Algorithms {
			row := RateRow{Algorithm: algo, Budget: b, Optimum: opt.Accuracy, OptimumArch: opt.ArchStr, Seeds: cfg.Seeds}
			for s := range uint64(cfg.Seeds) {
				sc := cfg.Search
				sc.Algorithm, sc.Reward, sc.Queries, sc.Seed = algo, r, cfg.Queries, cfg.SeedOffset+s
				if sc.Guide != (nas.Reward{}) {
					sc.Guide.T0 = b // a template guide follows the budget
				}
				out, err := bn.Search(sc)
				if err != nil {
					return nil, err
				}
				gap := opt.Accuracy
				if out.Found {
					gap = opt.Accuracy - out.Accuracy
				}
				if gap <= tol+1e-9 {
					row.Hits++
				}
				row.MeanGap += gap
				row.MeanQueries += float64(out.Queries)
				row.MeanEvaluations += float64(out.Evaluations)
			}
			n := float64(cfg.Seeds)
			row.Rate, row.MeanGap, row.MeanQueries, row.MeanEvaluations = float64(row.Hits)/n, row.MeanGap/n, row.MeanQueries/n, row.MeanEvaluations/n
			if cfg.Progress != nil {
				fmt.Fprintf(cfg.Progress, "budget %g %-9s %d/%d within %g of %.2f\n", b, algo, row.Hits, cfg.Seeds, tol, opt.Accuracy)
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}
