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

// counting counts evaluations per point.
type counting struct {
	Problem
	n map[string]int
}

func (c *counting) Evaluate(p Point) (float64, float64, error) {
	c.n[pointKey(p)]++
	return c.Problem.Evaluate(p)
}

func (c *counting) repeats() int {
	r := 0
	for _, k := range c.n {
		r += k - 1
	}
	return r
}

func TestEvolutionRetriesAvoidRepeats(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	sizes := []int{3, 3, 3, 3}
	r := Reward{Kind: RewardMnas, T0: 5, Beta: -0.07}
	plain := &counting{newToy(rng, sizes), map[string]int{}}
	if _, err := Evolution(plain, r, 300, EvolutionConfig{Population: 20, Sample: 5}, rng); err != nil {
		t.Fatal(err)
	}
	retry := &counting{plain.Problem, map[string]int{}}
	if _, err := Evolution(retry, r, 300, EvolutionConfig{Population: 20, Sample: 5, Retries: 20}, rng); err != nil {
		t.Fatal(err)
	}
	// 81 points: repeats are unavoidable after 81 evaluations, but retries
	// visit (nearly) every point first.
	t.Logf("distinct points: plain %d, retries %d of 81; repeats %d vs %d", len(plain.n), len(retry.n), plain.repeats(), retry.repeats())
	if len(retry.n) < 78 || len(retry.n) <= len(plain.n) {
		t.Errorf("retries visited %d distinct points (plain %d), want >= 78 of 81 and more than plain", len(retry.n), len(plain.n))
	}
	if _, err := Evolution(plain, r, 10, EvolutionConfig{Population: 5, Sample: 2, Retries: -1}, rng); err == nil {
		t.Error("negative retries accepted")
	}
}

func TestEvolutionRemoveWorstKeepsTheBest(t *testing.T) {
	var aging, elitist float64
	for seed := range uint64(8) {
		rng := rand.New(rand.NewPCG(seed, 5))
		prob := newToy(rng, []int{6, 6, 6, 6, 6, 6})
		r := Reward{Kind: RewardMnas, T0: 6, Beta: -0.07}
		lastMean := func(res *Result) float64 {
			var s float64
			tail := res.Trials[len(res.Trials)-100:]
			for _, tr := range tail {
				s += tr.Reward
			}
			return s / float64(len(tail))
		}
		a, err := Evolution(prob, r, 600, EvolutionConfig{Population: 30, Sample: 5}, rand.New(rand.NewPCG(seed, 6)))
		if err != nil {
			t.Fatal(err)
		}
		e, err := Evolution(prob, r, 600, EvolutionConfig{Population: 30, Sample: 5, RemoveWorst: true}, rand.New(rand.NewPCG(seed, 6)))
		if err != nil {
			t.Fatal(err)
		}
		aging += lastMean(a)
		elitist += lastMean(e)
	}
	t.Logf("mean reward of the last 100 children: aging %.4f, remove-worst %.4f", aging/8, elitist/8)
	if elitist <= aging {
		t.Errorf("removing the worst did not concentrate the search: %.4f <= %.4f", elitist/8, aging/8)
	}
}
