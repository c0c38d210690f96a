package nas

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// ControllerConfig configures the REINFORCE controller. Defaults follow TuNAS
// (google-research/tunas mobile_architecture_search.py: Adam with β1 = 0,
// baseline momentum 0.95, no entropy bonus) except the learning rate, which
// TuNAS sets for ~10⁴-10⁵ steps; searches here are much shorter, so it is an
// explicit option.
type ControllerConfig struct {
	// LR is Adam's learning rate on the logits.
	LR float64 `json:"lr"`
	// Beta1 and Beta2 are Adam's moment decays; TuNAS uses β1 = 0 (no momentum).
	Beta1 float64 `json:"beta1"`
	Beta2 float64 `json:"beta2"`
	Eps   float64 `json:"eps"`
	// BaselineMomentum is the EMA momentum of the reward baseline.
	BaselineMomentum float64 `json:"baseline_momentum"`
}

// Validate checks the settings. Adam's decays must lie in [0, 1): at 1 its
// bias correction divides by zero; above 1 the corrected averages weight the
// oldest gradients most, so the first steps steer the policy for good; below
// 0 their weights alternate in sign and a step can point uphill, with no NaN
// to show it. A non-positive epsilon lets a step divide by zero or flip sign.
func (c ControllerConfig) Validate() error {
	switch {
	case !(c.LR >= 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("controller learning rate must be >= 0, got %g", c.LR)
	case !(c.BaselineMomentum >= 0 && c.BaselineMomentum < 1):
		return fmt.Errorf("baseline momentum must be in [0, 1), got %g", c.BaselineMomentum)
	case !(c.Beta1 >= 0 && c.Beta1 < 1):
		return fmt.Errorf("controller Adam beta1 must be in [0, 1), got %g", c.Beta1)
	case !(c.Beta2 >= 0 && c.Beta2 < 1):
		return fmt.Errorf("controller Adam beta2 must be in [0, 1), got %g", c.Beta2)
	case !(c.Eps > 0) || math.IsInf(c.Eps, 0):
		return fmt.Errorf("controller Adam epsilon must be positive and finite, got %g", c.Eps)
	}
	return nil
}

// DefaultControllerConfig returns TuNAS's controller settings with lr.
func DefaultControllerConfig(lr float64) ControllerConfig {
	return ControllerConfig{LR: lr, Beta1: 0, Beta2: 0.999, Eps: 1e-8, BaselineMomentum: 0.95}
}

// Controller is TuNAS's policy: one independent categorical distribution per
// decision, logits starting at 0 (uniform), trained with REINFORCE:
// loss = −(R − b)·log π(a), b an exponential moving average of the reward.
// Sampling is hierarchical as in TuNAS (controller.py): a point draws every
// decision, but only those active in its architecture (Space.Active: not the
// kind, kernel and expansion of blocks beyond a stage's depth) enter log π(a),
// so only they get a gradient and an Adam update; the others keep their
// logits and moments.
// Its exported fields are its whole state (JSON-serialisable, for checkpoints).
type Controller struct {
	Config ControllerConfig `json:"config"`
	Logits [][]float64      `json:"logits"`
	// Adam moments and step count.
	M     [][]float64 `json:"m"`
	V     [][]float64 `json:"v"`
	Steps int         `json:"steps"`
	// Baseline is the EMA of rewards; Updates counts rewards seen.
	Baseline float64 `json:"baseline"`
	Updates  int     `json:"updates"`
}

// NewController returns a uniform controller over decisions of the given
// sizes (each at least 1: the searches check their problem's sizes first).
func NewController(sizes []int, cfg ControllerConfig) *Controller {
	zeros := func() [][]float64 {
		z := make([][]float64, len(sizes))
		for i, n := range sizes {
			z[i] = make([]float64, max(n, 0))
		}
		return z
	}
	return &Controller{Config: cfg, Logits: zeros(), M: zeros(), V: zeros()}
}

// Probs returns the softmax of every decision's logits.
func (c *Controller) Probs() [][]float64 {
	p := make([][]float64, len(c.Logits))
	for d, l := range c.Logits {
		p[d] = softmax(l)
	}
	return p
}

func softmax(l []float64) []float64 {
	m := math.Inf(-1)
	for _, x := range l {
		m = math.Max(m, x)
	}
	p := make([]float64, len(l))
	var s float64
	for i, x := range l {
		p[i] = math.Exp(x - m)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
	return p
}

// Sample draws a point from the policy.
func (c *Controller) Sample(rng *rand.Rand) Point {
	p := make(Point, len(c.Logits))
	for d, probs := range c.Probs() {
		u, acc := rng.Float64(), 0.0
		p[d] = len(probs) - 1
		for i, q := range probs {
			acc += q
			if u < acc {
				p[d] = i
				break
			}
		}
	}
	return p
}

// Argmax returns the most likely option of every decision (ties: the first).
func (c *Controller) Argmax() Point {
	p := make(Point, len(c.Logits))
	for d, l := range c.Logits {
		for i := range l {
			if l[i] > l[p[d]] {
				p[d] = i
			}
		}
	}
	return p
}

// Entropy returns the policy's entropy in nats, summed over decisions.
func (c *Controller) Entropy() float64 {
	var h float64
	for _, probs := range c.Probs() {
		for _, q := range probs {
			if q > 0 {
				h -= q * math.Log(q)
			}
		}
	}
	return h
}

// LogProb returns log π(p) over the decisions active in p (nil active: all);
// NaN for a point (or mask) of another length or with an option out of range.
func (c *Controller) LogProb(p Point, active []bool) float64 {
	if len(p) != len(c.Logits) || (active != nil && len(active) != len(p)) || c.outOfRange(p) >= 0 {
		return math.NaN()
	}
	var s float64
	for d, probs := range c.Probs() {
		if active == nil || active[d] {
			s += math.Log(probs[p[d]])
		}
	}
	return s
}

// outOfRange returns the first decision whose option in p (len(p) ==
// len(c.Logits)) is not one of its options, or -1.
func (c *Controller) outOfRange(p Point) int {
	for d, o := range p {
		if o < 0 || o >= len(c.Logits[d]) {
			return d
		}
	}
	return -1
}

// Update applies one REINFORCE step for the sampled point p with reward r at
// learning-rate scale lrScale (the schedule: 0 during warm-up): the gradient
// of −(r − b)·log π(p) over the decisions active in p (nil active: all;
// see Space.Active), and an Adam step on those decisions only. The baseline
// is updated after computing the advantage, also during warm-up. It returns
// the advantage r − b.
func (c *Controller) Update(p Point, active []bool, r float64, lrScale float64) (float64, error) {
	if len(p) != len(c.Logits) {
		return 0, fmt.Errorf("controller: point has %d decisions, want %d", len(p), len(c.Logits))
	}
	if active != nil && len(active) != len(p) {
		return 0, fmt.Errorf("controller: active mask has %d decisions, want %d", len(active), len(p))
	}
	if d := c.outOfRange(p); d >= 0 {
		return 0, fmt.Errorf("controller: decision %d has option %d, want 0..%d", d, p[d], len(c.Logits[d])-1)
	}
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return 0, fmt.Errorf("controller: reward is %v", r)
	}
	if err := c.Config.Validate(); err != nil {
		return 0, fmt.Errorf("controller: %w", err)
	}
	lr := c.Config.LR * lrScale
	if math.IsNaN(lr) || math.IsInf(lr, 0) {
		// TuNAS's schedule multiplies the rate by up to 10: a finite
		// --controller-lr can overflow.
		return 0, fmt.Errorf("controller: learning rate %g × schedule %g is %v", c.Config.LR, lrScale, lr)
	}
	adv := r - c.Baseline
	if c.Updates == 0 {
		adv = 0 // no baseline yet: the first reward only initialises it
		c.Baseline = r
	} else {
		m := c.Config.BaselineMomentum
		c.Baseline = m*c.Baseline + (1-m)*r
	}
	c.Updates++
	if lr == 0 || adv == 0 {
		return adv, nil
	}
	c.Steps++
	b1, b2 := c.Config.Beta1, c.Config.Beta2
	corr1 := 1 - math.Pow(b1, float64(c.Steps))
	corr2 := 1 - math.Pow(b2, float64(c.Steps))
	for d, probs := range c.Probs() {
		if active != nil && !active[d] {
			continue // not in log π(p): no gradient, no Adam step
		}
		for i, q := range probs {
			// d(−adv·log π(a))/d logit_i = −adv·(1[i=a] − q).
			g := adv * q
			if i == p[d] {
				g -= adv
			}
			c.M[d][i] = b1*c.M[d][i] + (1-b1)*g
			c.V[d][i] = b2*c.V[d][i] + (1-b2)*g*g
			c.Logits[d][i] -= lr * (c.M[d][i] / corr1) / (math.Sqrt(c.V[d][i]/corr2) + c.Config.Eps)
		}
	}
	// Adam moves a logit by about lr a step, so a huge learning rate
	// overflows them; their softmax is then NaN and every later sample and
	// the final architecture would be arbitrary.
	for d, l := range c.Logits {
		for i, v := range l {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return adv, fmt.Errorf("controller: diverged: logit %d of decision %d is %v after step %d with learning rate %g (lower it)",
					i, d, v, c.Steps, lr)
			}
		}
	}
	return adv, nil
}

// LRScale is TuNAS's controller learning-rate schedule at step of total: 0
// during the first warmup fraction of the steps, then rising exponentially
// from 1 to growth (TuNAS: warmup 0.25, growth 10).
func LRScale(step, total int, warmup, growth float64) float64 {
	start := warmup * float64(total)
	if float64(step) < start || total <= 0 {
		return 0
	}
	frac := (float64(step) - start) / math.Max(1, float64(total)-start)
	return math.Pow(growth, math.Min(1, frac))
}
