package optim

import (
	"fmt"
	"math"
)

// Schedule names a learning-rate schedule. Both start with a linear warm-up.
type Schedule string

// Schedules.
const (
	// Cosine decays from the peak to the final rate along half a cosine.
	Cosine Schedule = "cosine"
	// Constant keeps the peak after the warm-up.
	Constant Schedule = "constant"
)

// Validate reports an unknown schedule.
func (s Schedule) Validate() error {
	switch s {
	case Cosine, Constant:
		return nil
	}
	return fmt.Errorf("unknown schedule %q (valid: %s, %s)", s, Cosine, Constant)
}

// Plan is a schedule resolved to steps: the number of steps and the learning
// rate of each (LearningRate).
type Plan struct {
	TotalSteps  int      `json:"total_steps"`
	WarmupSteps int      `json:"warmup_steps"`
	Peak        float64  `json:"peak_learning_rate"`
	Final       float64  `json:"final_learning_rate"`
	Schedule    Schedule `json:"schedule"`
}

// LearningRate returns the learning rate of step (0-based): linear warm-up
// (peak·(step+1)/warmup for step < warmup), then constant or a half-cosine
// from the peak at step = warmup to Final at step = TotalSteps.
func (p Plan) LearningRate(step int) float64 {
	if step < p.WarmupSteps {
		return p.Peak * float64(step+1) / float64(p.WarmupSteps)
	}
	if p.Schedule == Constant {
		return p.Peak
	}
	span := p.TotalSteps - p.WarmupSteps
	if span <= 0 {
		return p.Peak
	}
	t := min(1, float64(step-p.WarmupSteps)/float64(span))
	return p.Final + (p.Peak-p.Final)*0.5*(1+math.Cos(math.Pi*t))
}
