package nas

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// sentinelProblem skips odd first decisions and stops after stopAfter
// evaluations.
type sentinelProblem struct {
	calls, stopAfter int
}

func (s *sentinelProblem) Sizes() []int { return []int{4, 3} }

func (s *sentinelProblem) Evaluate(p Point) (float64, float64, error) {
	s.calls++
	if s.calls > s.stopAfter {
		return 0, 0, ErrStopSearch
	}
	if p[0]%2 == 1 {
		return 0, 0, fmt.Errorf("cell %v: %w", p, ErrSkipPoint)
	}
	return float64(p[0] + p[1]), 1, nil
}

func TestAlgorithmsSkipAndStop(t *testing.T) {
	r := Reward{Kind: RewardBudget, T0: 1}
	run := map[string]func(Problem, *rand.Rand) (*Result, error){
		"random": func(p Problem, rng *rand.Rand) (*Result, error) { return RandomSearch(p, r, 100, rng) },
		"evolution": func(p Problem, rng *rand.Rand) (*Result, error) {
			return Evolution(p, r, 100, EvolutionConfig{Population: 5, Sample: 2}, rng)
		},
		"reinforce": func(p Problem, rng *rand.Rand) (*Result, error) {
			res, _, err := Reinforce(p, r, 100, ReinforceConfig{Controller: DefaultControllerConfig(0.1)}, rng)
			return res, err
		},
	}
	for name, f := range run {
		prob := &sentinelProblem{stopAfter: 40}
		res, err := f(prob, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if prob.calls != 41 {
			t.Errorf("%s: %d evaluations, want 41 (stopped at the 41st)", name, prob.calls)
		}
		if len(res.Trials) == 0 || len(res.Trials) >= 40 {
			t.Errorf("%s: %d trials of 40 evaluations, want some skipped", name, len(res.Trials))
		}
		for _, tr := range res.Trials {
			if tr.Point[0]%2 == 1 {
				t.Errorf("%s: skipped point %v recorded", name, tr.Point)
			}
		}
		// Every point skipped: the search still ends, with no best.
		prob = &sentinelProblem{stopAfter: 1 << 30}
		all := &skipAll{prob}
		res, err = f(all, rand.New(rand.NewPCG(1, 2)))
		if err != nil || res.Best != nil || len(res.Trials) != 0 {
			t.Errorf("%s with every point skipped: %v, %+v", name, err, res)
		}
	}
}

type skipAll struct{ *sentinelProblem }

func (s *skipAll) Evaluate(Point) (float64, float64, error) { return 0, 0, ErrSkipPoint }
