package nas

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

// Problem is a search problem over categorical decisions: the one-shot
// supernet (quality = the sampled path's validation accuracy with shared
// weights) and the tabular NAS-Bench-201 search (quality = the benchmark's
// accuracy) both implement it, so every algorithm below serves both.
type Problem interface {
	// Sizes returns the number of options of each decision.
	Sizes() []int
	// Evaluate returns the quality Q and the cost T of a point, or
	// ErrSkipPoint / ErrStopSearch (see there).
	Evaluate(p Point) (q, t float64, err error)
}

// Sentinel errors a Problem's Evaluate may return (possibly wrapped) to steer
// the algorithms below; any other error aborts the search.
var (
	// ErrSkipPoint says the point is not a candidate (e.g. a NAS-Bench-201
	// cell with no measurement): no trial is recorded and the search moves
	// on. The evaluation still uses one of the iterations, so a search whose
	// points are all skipped ends.
	ErrSkipPoint = errors.New("point is not a candidate")
	// ErrStopSearch ends the search early: the algorithm returns the result so
	// far without an error. A problem that counts only distinct points as
	// queries (repeats served from a cache) uses it to stop at its budget.
	ErrStopSearch = errors.New("search stopped by the problem")
)

// outcome classifies an evaluation error: skip the point, stop the search,
// or fail.
func outcome(err error) (skip, stop bool, fail error) {
	switch {
	case err == nil:
		return false, false, nil
	case errors.Is(err, ErrSkipPoint):
		return true, false, nil
	case errors.Is(err, ErrStopSearch):
		return false, true, nil
	}
	return false, false, err
}

// Trial is one evaluated point.
type Trial struct {
	Point   Point   `json:"point"`
	Quality float64 `json:"quality"`
	Cost    float64 `json:"cost"`
	Reward  float64 `json:"reward"`
}

// Result is the outcome of a search: every trial and the best feasible one.
type Result struct {
	Algorithm string  `json:"algorithm"`
	Trials    []Trial `json:"trials"`
	// Best is the feasible trial of highest reward (nil if none was feasible).
	Best *Trial `json:"best"`
}

func (res *Result) add(tr Trial, r Reward) {
	res.Trials = append(res.Trials, tr)
	if !r.Feasible(tr.Cost) {
		return
	}
	if res.Best == nil || tr.Reward > res.Best.Reward {
		b := tr
		res.Best = &b
	}
}

func evaluate(prob Problem, r Reward, p Point) (Trial, error) {
	q, t, err := prob.Evaluate(p)
	if err != nil {
		return Trial{}, err
	}
	return Trial{Point: slices.Clone(p), Quality: q, Cost: t, Reward: r.Value(q, t)}, nil
}

func randomPoint(rng *rand.Rand, sizes []int) Point {
	p := make(Point, len(sizes))
	for i, n := range sizes {
		p[i] = rng.IntN(n)
	}
	return p
}

// checkSearch validates what every algorithm is given: the reward, a
// problem whose decisions each have at least one option, a positive number of
// queries and a random source.
func checkSearch(prob Problem, r Reward, queries int, rng *rand.Rand) error {
	if err := r.Validate(); err != nil {
		return err
	}
	switch {
	case prob == nil:
		return fmt.Errorf("search: problem is nil")
	case rng == nil:
		return fmt.Errorf("search: random source is nil")
	case queries < 1:
		return fmt.Errorf("search: queries must be positive, got %d", queries)
	}
	sizes := prob.Sizes()
	if len(sizes) == 0 {
		return fmt.Errorf("search: the problem has no decisions")
	}
	for d, n := range sizes {
		if n < 1 {
			return fmt.Errorf("search: decision %d has %d options, want at least 1", d, n)
		}
	}
	return nil
}

// RandomSearch evaluates queries uniformly random points.
func RandomSearch(prob Problem, r Reward, queries int, rng *rand.Rand) (*Result, error) {
	if err := checkSearch(prob, r, queries, rng); err != nil {
		return nil, err
	}
	res := &Result{Algorithm: "random"}
	sizes := prob.Sizes()
	for range queries {
		tr, err := evaluate(prob, r, randomPoint(rng, sizes))
		if skip, stop, err := outcome(err); err != nil {
			return nil, err
		} else if stop {
			break
		} else if skip {
			continue
		}
		res.add(tr, r)
	}
	return res, nil
}

// EvolutionConfig configures regularised evolution (Real et al. 2019).
type EvolutionConfig struct {
	Population int // individuals kept alive (the oldest dies)
	Sample     int // tournament size
	// Retries re-draws (new tournament, new mutation) a child already
	// evaluated in this run up to Retries times; if every draw was seen, the
	// iteration passes without an evaluation. 0 is classic regularised
	// evolution, which evaluates repeats and adds them again. Worth it when
	// repeats are free (tabular benchmarks counting distinct queries).
	Retries int
	// RemoveWorst removes the individual of lowest reward instead of the
	// oldest: an elitist steady-state variant that keeps exploring around
	// the best points found.
	RemoveWorst bool
}

// DefaultEvolution is a population of 50 with tournaments of 10.
var DefaultEvolution = EvolutionConfig{Population: 50, Sample: 10}

// Evolution runs regularised (aging) evolution: a random initial population,
// then repeatedly the best of a random tournament is mutated in one decision
// and replaces the oldest individual. On a HierarchicalProblem the mutated
// decision is one the parent's architecture uses: changing an inactive one
// would give the same architecture.
func Evolution(prob Problem, r Reward, queries int, cfg EvolutionConfig, rng *rand.Rand) (*Result, error) {
	if err := checkSearch(prob, r, queries, rng); err != nil {
		return nil, err
	}
	if cfg.Population < 2 || cfg.Sample < 1 || cfg.Sample > cfg.Population || cfg.Retries < 0 {
		return nil, fmt.Errorf("evolution: need population >= 2, 1 <= sample <= population and retries >= 0, got %+v", cfg)
	}
	res := &Result{Algorithm: "evolution"}
	sizes := prob.Sizes()
	var pop []Trial
	var seen map[string]bool
	if cfg.Retries > 0 {
		seen = make(map[string]bool)
	}
	for i := 0; i < queries; i++ {
		var p Point
		dup := false
		for try := 0; try <= cfg.Retries; try++ {
			if len(pop) < cfg.Population {
				p = randomPoint(rng, sizes)
			} else {
				best := pop[rng.IntN(len(pop))]
				for range cfg.Sample - 1 {
					if c := pop[rng.IntN(len(pop))]; c.Reward > best.Reward {
						best = c
					}
				}
				var active []bool
				if h, ok := prob.(HierarchicalProblem); ok {
					var err error
					if active, err = h.Active(best.Point); err != nil {
						return nil, err
					}
				}
				p = mutate(rng, best.Point, sizes, active)
			}
			if dup = seen != nil && seen[pointKey(p)]; !dup {
				break
			}
		}
		if dup {
			// Every draw was evaluated before: re-adding it would fill the
			// population with clones. The iteration is used up.
			continue
		}
		if seen != nil {
			seen[pointKey(p)] = true
		}
		tr, err := evaluate(prob, r, p)
		if skip, stop, err := outcome(err); err != nil {
			return nil, err
		} else if stop {
			break
		} else if skip {
			continue
		}
		res.add(tr, r)
		pop = append(pop, tr)
		if len(pop) > cfg.Population {
			drop := 0 // the oldest
			if cfg.RemoveWorst {
				for j, t := range pop {
					if t.Reward < pop[drop].Reward {
						drop = j
					}
				}
			}
			pop = slices.Delete(pop, drop, drop+1)
		}
	}
	return res, nil
}

// pointKey is a map key for p.
func pointKey(p Point) string {
	b := make([]byte, 0, 2*len(p))
	for _, v := range p {
		b = strconv.AppendInt(b, int64(v), 36)
		b = append(b, ',')
	}
	return string(b)
}

// mutate changes one decision (with more than one option and, if active is
// not nil, active) to another option.
func mutate(rng *rand.Rand, p Point, sizes []int, active []bool) Point {
	q := slices.Clone(p)
	var free []int
	for i, n := range sizes {
		if n > 1 && (active == nil || active[i]) {
			free = append(free, i)
		}
	}
	if len(free) == 0 {
		return q
	}
	d := free[rng.IntN(len(free))]
	q[d] = (q[d] + 1 + rng.IntN(sizes[d]-1)) % sizes[d]
	return q
}

// ReinforceConfig configures the REINFORCE search on a Problem.
type ReinforceConfig struct {
	Controller ControllerConfig
	// Warmup is the fraction of queries with a zero learning rate and Growth
	// the final learning-rate multiple (TuNAS: 0.25 and 10); 0 Growth means a
	// constant rate.
	Warmup, Growth float64
}

// Validate checks the controller and the schedule (a warm-up beyond every
// query would never learn, one without a schedule would be ignored; a
// negative growth gives NaN rates).
func (cfg ReinforceConfig) Validate() error {
	if err := cfg.Controller.Validate(); err != nil {
		return fmt.Errorf("reinforce: %w", err)
	}
	if !(cfg.Warmup >= 0 && cfg.Warmup < 1) {
		return fmt.Errorf("reinforce: warm-up must be a fraction in [0, 1), got %g", cfg.Warmup)
	}
	if !(cfg.Growth == 0 || cfg.Growth >= 1) || math.IsInf(cfg.Growth, 0) {
		return fmt.Errorf("reinforce: growth must be 0 (constant rate) or in [1, +Inf), got %g", cfg.Growth)
	}
	if cfg.Growth == 0 && cfg.Warmup != 0 {
		return fmt.Errorf("reinforce: warm-up %g with growth 0 (a constant rate, no schedule): set a growth (1: warm-up alone)", cfg.Warmup)
	}
	return nil
}

// HierarchicalProblem is a Problem whose points do not use every decision
// (a nas.Space's skipped blocks): Reinforce updates only the active ones.
type HierarchicalProblem interface {
	Problem
	// Active reports which decisions of p shape what is evaluated.
	Active(p Point) ([]bool, error)
}

// Reinforce samples from a controller and updates it with each reward (on the
// decisions active in the sample, for a HierarchicalProblem); the best
// feasible trial seen is reported, as for the other algorithms.
func Reinforce(prob Problem, r Reward, queries int, cfg ReinforceConfig, rng *rand.Rand) (*Result, *Controller, error) {
	if err := checkSearch(prob, r, queries, rng); err != nil {
		return nil, nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	ctl := NewController(prob.Sizes(), cfg.Controller)
	res := &Result{Algorithm: "reinforce"}
	for i := range queries {
		tr, err := evaluate(prob, r, ctl.Sample(rng))
		if skip, stop, err := outcome(err); err != nil {
			return nil, nil, err
		} else if stop {
			break
		} else if skip {
			continue // no reward to learn from
		}
		res.add(tr, r)
		scale := 1.0
		if cfg.Growth > 0 {
			scale = LRScale(i, queries, cfg.Warmup, cfg.Growth)
		}
		var active []bool
		if h, ok := prob.(HierarchicalProblem); ok {
			if active, err = h.Active(tr.Point); err != nil {
				return nil, nil, err
			}
		}
		if _, err := ctl.Update(tr.Point, active, tr.Reward, scale); err != nil {
			return nil, nil, err
		}
	}
	return res, ctl, nil
}
