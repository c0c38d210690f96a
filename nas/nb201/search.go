package nb201

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/multihw/multihw/hwcost/devicedata"
	"github.com/multihw/multihw/nas"
)

// Algorithm names accepted by [Bench.Search].
const (
	AlgoExhaustive = "exhaustive"
	AlgoEvolution  = "evolution"
	AlgoReinforce  = "reinforce"
	AlgoRandom     = "random"
)

// Algorithms lists the valid algorithm names.
var Algorithms = []string{AlgoExhaustive, AlgoEvolution, AlgoReinforce, AlgoRandom}

// Quality is the search's Q of an accuracy in percent: the fraction in
// [0, 1], the scale the rewards' default β assume.
func Quality(accuracy float64) float64 { return accuracy / 100 }

// Reward returns the reward of kind for budget (the target cost T0) with the
// kind's default β.
func Reward(kind nas.RewardKind, budget float64) nas.Reward {
	return nas.Reward{Kind: kind, T0: budget, Beta: nas.DefaultBeta(kind)}
}

// Problem returns the bench as a [nas.Problem]: six decisions (one per edge)
// of five ops; Evaluate returns Q = accuracy/100 and T = the objective's cost,
// and [nas.ErrSkipPoint] for cells that are not candidates. Every call is one
// evaluation; [Bench.Search] adds the distinct-query budget.
func (bn *Bench) Problem() nas.Problem { return problem{bn} }

type problem struct{ bn *Bench }

func (p problem) Sizes() []int {
	s := make([]int, devicedata.NumEdges)
	for i := range s {
		s[i] = devicedata.NumOps
	}
	return s
}

func (p problem) Evaluate(pt nas.Point) (float64, float64, error) {
	c, err := cellOf(pt)
	if err != nil {
		return 0, 0, err
	}
	code := c.Code()
	if p.bn.rel[code] == nil {
		return 0, 0, fmt.Errorf("cell %s: %w", c, nas.ErrSkipPoint)
	}
	return Quality(p.bn.acc[code]), p.bn.cost[code], nil
}

// cellOf converts a point (one op index per edge) to a cell.
func cellOf(pt nas.Point) (devicedata.Cell, error) {
	var c devicedata.Cell
	if len(pt) != devicedata.NumEdges {
		return c, fmt.Errorf("point has %d decisions, want %d (one per edge)", len(pt), devicedata.NumEdges)
	}
	for e, op := range pt {
		if op < 0 || op >= devicedata.NumOps {
			return c, fmt.Errorf("point %v: edge %d has op %d, want 0..%d", pt, e, op, devicedata.NumOps-1)
		}
		c[e] = devicedata.Op(op)
	}
	return c, nil
}

// PointOf is the inverse of the problem's decoding: the point of cell c.
func PointOf(c devicedata.Cell) nas.Point {
	p := make(nas.Point, devicedata.NumEdges)
	for e, op := range c {
		p[e] = int(op)
	}
	return p
}

// distinct wraps a bench's problem: repeats of a cell are served from a cache
// and not counted, nor are non-candidate cells; after queries distinct
// candidates, or max calls in all, it stops the search.
type distinct struct {
	bn           *Bench
	inner        nas.Problem
	queries, max int
	evaluations  int
	// skipOver: cells over budget are skipped without a query (the cost is
	// known, SearchConfig.CostByQuery unset).
	skipOver bool
	// budget is the budget reward's T0 (+Inf for other rewards); over
	// counts queries spent on cells above it.
	budget float64
	over   int
	seen   map[devicedata.Cell]cached
}

type cached struct {
	q, t float64
	err  error
}

func (d *distinct) Sizes() []int { return d.inner.Sizes() }

func (d *distinct) Evaluate(pt nas.Point) (float64, float64, error) {
	if d.evaluations >= d.max {
		return 0, 0, nas.ErrStopSearch
	}
	c, err := cellOf(pt)
	if err != nil {
		return 0, 0, err
	}
	d.evaluations++
	if v, ok := d.seen[c]; ok {
		return v.q, v.t, v.err
	}
	if d.bn.rel[c.Code()] == nil {
		// Not a candidate: known without a query (the candidate list is
		// public), as NAS-Bench-101 does not count invalid graphs.
		return 0, 0, fmt.Errorf("cell %s: %w", c, nas.ErrSkipPoint)
	}
	if d.skipOver && d.bn.cost[c.Code()] > d.budget {
		// Over the budget, and the cost is known without a query.
		return 0, 0, fmt.Errorf("cell %s over the budget: %w", c, nas.ErrSkipPoint)
	}
	if len(d.seen) >= d.queries {
		return 0, 0, nas.ErrStopSearch
	}
	q, t, err := d.inner.Evaluate(pt)
	d.seen[c] = cached{q, t, err}
	if err == nil && t > d.budget {
		d.over++
	}
	return q, t, err
}

// SearchConfig configures [Bench.Search].
type SearchConfig struct {
	// Algorithm is one of [Algorithms].
	Algorithm string
	// Reward decides the answer: the trial of highest reward among those it
	// deems feasible; for [nas.RewardBudget] that is the highest accuracy with
	// cost <= T0.
	Reward nas.Reward
	// Guide is the reward the algorithm optimises while searching (zero: see
	// [DefaultGuide]). It may differ from Reward: a hard budget ranks every
	// over-budget cell below every feasible one, which hides good cells just
	// over the budget whose neighbours are under it.
	Guide nas.Reward
	// Queries is the number of distinct candidate cells a non-exhaustive
	// search may look up: a cell counts once (repeats come from a cache) and
	// proposing a non-candidate cell costs no query (the algorithm skips it,
	// as NAS-Bench-101 searches skip invalid graphs).
	Queries int
	// MaxEvaluations bounds all lookups, repeats included (default 20 ×
	// Queries), so that a converged controller cannot loop forever.
	MaxEvaluations int
	// Seed makes the search reproducible.
	Seed uint64
	// Evolution configures evolution (zero: [DefaultEvolution]).
	Evolution nas.EvolutionConfig
	// CostByQuery says a cell's cost is revealed only by its query, as if
	// every latency had to be measured. By default the cost is known without
	// a query, as it is when it comes from a latency table or a cost model
	// (TuNAS, Once-for-All): only accuracy costs a query, so a budget search
	// skips cells over the budget before looking them up and spends every
	// query on feasible cells.
	CostByQuery bool
	// ReinforceLR is the controller's Adam learning rate (0:
	// [DefaultReinforceLR]). The tabular search has no supernet to warm up,
	// so the rate is constant.
	ReinforceLR float64
}

// Defaults of the tabular search, chosen on the 0.3/0.5/0.7 AVG budgets of
// CIFAR-10 with seeds 1000..1199 (REPORT.md shows other seeds).
var (
	// DefaultEvolution: a population of 200, tournaments of 50, children
	// already looked up re-drawn up to 50 times, the worst individual removed.
	DefaultEvolution = nas.EvolutionConfig{Population: 200, Sample: 50, Retries: 50, RemoveWorst: true}
	// DefaultGuideBeta is the exponent of the guide for budget searches.
	DefaultGuideBeta = -0.25
)

// DefaultReinforceLR is the controller learning rate of the tabular search.
const DefaultReinforceLR = 0.02

// DefaultGuide returns the search guide for reward r: for the budget reward,
// MnasNet's hard-capped reward Q·min(1, T/T0)^β with β = [DefaultGuideBeta],
// which keeps cells a few percent over budget in play when they are clearly
// more accurate; any other reward guides itself.
func DefaultGuide(r nas.Reward) nas.Reward {
	if r.Kind == nas.RewardBudget {
		return nas.Reward{Kind: nas.RewardMnasHard, T0: r.T0, Beta: DefaultGuideBeta}
	}
	return r
}

// Outcome is the result of a search.
type Outcome struct {
	Algorithm string     `json:"algo"`
	Objective string     `json:"objective"`
	Dataset   string     `json:"dataset"`
	Reward    nas.Reward `json:"reward"`
	// Guide is the reward the algorithm searched with (absent for exhaustive).
	Guide *nas.Reward `json:"guide,omitempty"`
	// Found is false when no feasible candidate was seen (Eval is then nil).
	Found bool `json:"found"`
	*Eval
	// RewardValue is the reward of the chosen cell.
	RewardValue float64 `json:"reward_value"`
	// Queries counts distinct cells looked up, Evaluations all lookups
	// (exhaustive: every candidate once).
	Queries     int `json:"queries"`
	Evaluations int `json:"evaluations"`
	// QueriesOverBudget counts queries spent on cells over the budget reward's
	// T0: zero unless SearchConfig.CostByQuery.
	QueriesOverBudget int    `json:"queries_over_budget"`
	Seed              uint64 `json:"seed"`
	// Candidates and Excluded describe the space (see [Bench.Candidates]).
	Candidates int `json:"candidates"`
	Excluded   int `json:"excluded"`
}

// Exhaustive returns the exact optimum over all candidates: the highest
// reward (for the budget reward: the highest accuracy with cost <= T0); ties
// go to the lower cost, then the lower cell code. A budget below the cheapest
// candidate is an error naming the minimum achievable cost.
func (bn *Bench) Exhaustive(r nas.Reward) (*Outcome, error) {
	if err := bn.checkReward(r); err != nil {
		return nil, err
	}
	out := bn.outcome(AlgoExhaustive, r)
	best := -1
	var bestR float64
	for code, rel := range bn.rel {
		if rel == nil {
			continue
		}
		out.Evaluations++
		t := bn.cost[code]
		if !r.Feasible(t) {
			continue
		}
		v := r.Value(Quality(bn.acc[code]), t)
		if best < 0 || v > bestR || (v == bestR && t < bn.cost[best]) {
			best, bestR = code, v
		}
	}
	out.Queries = out.Evaluations
	if best >= 0 {
		bn.setBest(out, best, bestR)
	}
	return out, nil
}

func (bn *Bench) outcome(algo string, r nas.Reward) *Outcome {
	return &Outcome{Algorithm: algo, Objective: bn.objective, Dataset: bn.dataset, Reward: r,
		Candidates: bn.candidates, Excluded: bn.excluded}
}

func (bn *Bench) setBest(out *Outcome, code int, reward float64) {
	e, _ := bn.Lookup(mustCell(code))
	out.Found, out.Eval, out.RewardValue = true, &e, reward
}

// checkReward validates r and, for the budget reward, that some candidate
// meets the budget.
func (bn *Bench) checkReward(r nas.Reward) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if r.Kind == nas.RewardBudget && bn.cost[bn.minCode] > r.T0 {
		return fmt.Errorf("budget %g: no candidate meets it; the minimum achievable %s cost is %.4f (cell %s)",
			r.T0, bn.objective, bn.cost[bn.minCode], mustCell(bn.minCode))
	}
	return nil
}

// MaxQueries bounds SearchConfig.Queries (and so the default evaluation
// budget, 20 per query, which must not overflow).
const MaxQueries = 1 << 30

// Search runs one algorithm. Exhaustive ignores Queries and Seed.
func (bn *Bench) Search(cfg SearchConfig) (*Outcome, error) {
	if cfg.Algorithm == AlgoExhaustive {
		return bn.Exhaustive(cfg.Reward)
	}
	if err := bn.checkReward(cfg.Reward); err != nil {
		return nil, err
	}
	if cfg.Queries < 1 || cfg.Queries > MaxQueries {
		return nil, fmt.Errorf("search %s: queries must be in [1, %d], got %d", cfg.Algorithm, MaxQueries, cfg.Queries)
	}
	maxEval := cfg.MaxEvaluations
	if maxEval == 0 {
		maxEval = 20 * cfg.Queries
	}
	if maxEval < cfg.Queries {
		return nil, fmt.Errorf("search %s: max evaluations %d below the %d queries", cfg.Algorithm, maxEval, cfg.Queries)
	}
	guide := cfg.Guide
	if guide == (nas.Reward{}) {
		guide = DefaultGuide(cfg.Reward)
	}
	if err := guide.Validate(); err != nil {
		return nil, fmt.Errorf("search guide: %w", err)
	}
	d := &distinct{bn: bn, inner: bn.Problem(), queries: cfg.Queries, max: maxEval,
		budget: math.Inf(1), skipOver: !cfg.CostByQuery, seen: make(map[devicedata.Cell]cached, cfg.Queries)}
	if cfg.Reward.Kind == nas.RewardBudget {
		d.budget = cfg.Reward.T0 // other rewards have no budget: +Inf skips nothing
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6e62323031)) // stream "nb201"
	var res *nas.Result
	var err error
	// The algorithms loop at most maxEval times; d stops them at the budget.
	switch cfg.Algorithm {
	case AlgoRandom:
		res, err = nas.RandomSearch(d, guide, maxEval, rng)
	case AlgoEvolution:
		evo := cfg.Evolution
		if evo == (nas.EvolutionConfig{}) {
			evo = DefaultEvolution
		}
		res, err = nas.Evolution(d, guide, maxEval, evo, rng)
	case AlgoReinforce:
		lr := cfg.ReinforceLR
		if lr == 0 {
			lr = DefaultReinforceLR
		}
		if !(lr > 0) || math.IsInf(lr, 0) {
			return nil, fmt.Errorf("search reinforce: learning rate must be positive, got %g", lr)
		}
		res, _, err = nas.Reinforce(d, guide, maxEval, nas.ReinforceConfig{Controller: nas.DefaultControllerConfig(lr)}, rng)
	default:
		return nil, fmt.Errorf("unknown algorithm %q (valid: %s)", cfg.Algorithm, strings.Join(Algorithms, ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("search %s: %w", cfg.Algorithm, err)
	}
	out := bn.outcome(cfg.Algorithm, cfg.Reward)
	out.Guide = &guide
	out.Queries, out.Evaluations, out.Seed = len(d.seen), d.evaluations, cfg.Seed
	out.QueriesOverBudget = d.over
	// The answer: the best trial under the user's reward, whatever guided.
	best, bestR := -1, 0.0
	for _, tr := range res.Trials {
		if !cfg.Reward.Feasible(tr.Cost) {
			continue
		}
		c, err := cellOf(tr.Point)
		if err != nil {
			return nil, err
		}
		code := c.Code()
		v := cfg.Reward.Value(tr.Quality, tr.Cost)
		if best < 0 || v > bestR || (v == bestR && bn.cost[code] < bn.cost[best]) {
			best, bestR = code, v
		}
	}
	if best >= 0 {
		bn.setBest(out, best, bestR)
	}
	return out, nil
}

// SearchResult is a search's outcome with, for context, the bench's targets
// and weights and the exhaustive optimum of the same reward (nil when the
// search was exhaustive): how far from the exact optimum the search landed.
type SearchResult struct {
	*Outcome
	Targets  []string  `json:"targets"`
	Weights  []float64 `json:"weights,omitempty"`
	Optimum  *Outcome  `json:"optimum,omitempty"`
	describe string
}

// SearchAgainstOptimum runs the search and, unless it is exhaustive, the
// exhaustive search of the same reward.
func (bn *Bench) SearchAgainstOptimum(cfg SearchConfig) (*SearchResult, error) {
	out, err := bn.Search(cfg)
	if err != nil {
		return nil, err
	}
	res := &SearchResult{Outcome: out, Targets: bn.Targets(), Weights: bn.Weights(), describe: bn.Describe()}
	if cfg.Algorithm != AlgoExhaustive {
		if res.Optimum, err = bn.Exhaustive(cfg.Reward); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// Summary describes the bench, the cell found with its accuracy and costs,
// and the gap to the exhaustive optimum.
func (r *SearchResult) Summary() string {
	var b strings.Builder
	out, opt := r.Outcome, r.Optimum
	b.WriteString(r.describe + "\n")
	if !out.Found {
		fmt.Fprintf(&b, "%s: no cell within budget %g among the %d looked up (%d evaluations)\n", out.Algorithm, out.Reward.T0, out.Queries, out.Evaluations)
		return b.String()
	}
	fmt.Fprintf(&b, "%s (%s reward, %d queries, %d evaluations): %s (#%d)\n", out.Algorithm, out.Reward.Kind, out.Queries, out.Evaluations, out.ArchStr, out.Index)
	fmt.Fprintf(&b, "  accuracy %.2f%%  cost %.4f  AVG %.4f  MAX %.4f\n", out.Accuracy, out.Cost, out.AVG, out.MAX)
	for k, t := range r.Targets {
		fmt.Fprintf(&b, "  %-44s %.4f\n", t, out.Relative[k])
	}
	switch {
	case opt == nil || !opt.Found:
	case out.Reward.Kind == nas.RewardBudget:
		fmt.Fprintf(&b, "exhaustive optimum: %.2f%% (%s); gap %.2f points\n", opt.Accuracy, opt.ArchStr, opt.Accuracy-out.Accuracy)
	default:
		fmt.Fprintf(&b, "exhaustive optimum: reward %.4f (%s, %.2f%%); found reward %.4f\n", opt.RewardValue, opt.ArchStr, opt.Accuracy, out.RewardValue)
	}
	return b.String()
}
