package nas

import (
	"fmt"
	"math"
	"strings"
)

// RewardKind names a way to combine quality Q and cost T into a reward.
type RewardKind string

// Reward kinds. T0 is the target cost and β the (negative) cost exponent or
// weight.
const (
	// RewardAbs is TuNAS's absolute reward Q + β·|T/T0 − 1|: it pulls the cost
	// towards T0 from both sides (β < 0).
	RewardAbs RewardKind = "abs"
	// RewardMnas is MnasNet's soft reward Q·(T/T0)^β.
	RewardMnas RewardKind = "mnas"
	// RewardMnasHard is MnasNet's hard variant: Q·(T/T0)^β only when T > T0,
	// Q otherwise.
	RewardMnasHard RewardKind = "mnas_hard"
	// RewardBudget maximises Q subject to T ≤ T0: feasible points score Q,
	// infeasible ones score below every feasible one, less the further they
	// are over budget, so that searches are guided back into the budget.
	RewardBudget RewardKind = "budget"
)

// RewardKinds lists the valid kinds.
var RewardKinds = []RewardKind{RewardAbs, RewardMnas, RewardMnasHard, RewardBudget}

// Reward turns (Q, T) into the scalar a search maximises.
type Reward struct {
	Kind RewardKind `json:"kind"`
	// T0 is the target cost, in the units of T (normalised latency for the
	// multi-hardware metrics).
	T0 float64 `json:"t0"`
	// Beta is the cost weight (abs) or exponent (mnas); negative.
	Beta float64 `json:"beta"`
}

// DefaultBeta returns TuNAS/MnasNet's default β for a reward kind.
func DefaultBeta(k RewardKind) float64 {
	switch k {
	case RewardAbs:
		return -0.10
	case RewardMnas, RewardMnasHard:
		return -0.07
	}
	return 0
}

// Validate checks the reward's parameters.
func (r Reward) Validate() error {
	ok := false
	for _, k := range RewardKinds {
		ok = ok || k == r.Kind
	}
	if !ok {
		names := make([]string, len(RewardKinds))
		for i, k := range RewardKinds {
			names[i] = string(k)
		}
		return fmt.Errorf("unknown reward %q (valid: %s)", r.Kind, strings.Join(names, ", "))
	}
	if !(r.T0 > 0) {
		return fmt.Errorf("reward %s: target cost T0 must be positive, got %g", r.Kind, r.T0)
	}
	// Costs are normalised latencies (about 0.1-10) or ms: a T0 outside
	// [MinT0, MaxT0] makes T/T0 overflow, and a β beyond MaxBeta the reward,
	// at the first step instead of here. A huge T0 is a search without a
	// cost constraint (budget, mnas_hard), so the upper bound is wide.
	if r.T0 < MinT0 || r.T0 > MaxT0 {
		return fmt.Errorf("reward %s: target cost T0 must be in [%g, %g], got %g", r.Kind, MinT0, MaxT0, r.T0)
	}
	if r.Beta > 0 {
		return fmt.Errorf("reward %s: beta must be <= 0 (a cost penalty), got %g", r.Kind, r.Beta)
	}
	if limit := r.maxBeta(); !(r.Beta >= -limit) {
		return fmt.Errorf("reward %s: beta must be in [%g, 0], got %g", r.Kind, -limit, r.Beta)
	}
	return nil
}

// Bounds of a reward's settings (see Validate).
// With costs in [1e-6, 1e6], T/T0 stays in [1e-18, 1e12] and the rewards
// finite: |β|·|T/T0 − 1| ≤ 1e18, (T/T0)^β within [1e-120, 1e180].
const (
	MinT0, MaxT0 = 1e-6, 1e12
	// MaxBetaAbs bounds −β of the absolute reward (TuNAS: 0.07 and similar).
	MaxBetaAbs = 1e6
	// MaxBetaExponent bounds −β of the MnasNet rewards, an exponent
	// (MnasNet: 0.07): (T/T0)^β at β = −10 already spans 10 orders of
	// magnitude over a tenfold cost.
	MaxBetaExponent = 10
)

func (r Reward) maxBeta() float64 {
	if r.Kind == RewardMnas || r.Kind == RewardMnasHard {
		return MaxBetaExponent
	}
	return MaxBetaAbs
}

// Value returns the reward of quality q (e.g. accuracy in [0, 1]) at cost t.
func (r Reward) Value(q, t float64) float64 {
	ratio := t / r.T0
	switch r.Kind {
	case RewardAbs:
		return q + r.Beta*math.Abs(ratio-1)
	case RewardMnas:
		return q * math.Pow(ratio, r.Beta)
	case RewardMnasHard:
		if ratio <= 1 {
			return q
		}
		return q * math.Pow(ratio, r.Beta)
	case RewardBudget:
		if ratio <= 1 {
			return q
		}
		return -ratio
	}
	return math.NaN()
}

// Feasible reports whether cost t meets the budget (only meaningful for
// RewardBudget; the soft rewards accept every cost).
func (r Reward) Feasible(t float64) bool {
	return r.Kind != RewardBudget || t <= r.T0
}
