package optim

import (
	"math"
	"strings"
	"testing"
)

func TestHyper(t *testing.T) {
	h := Hyper{Momentum: 0.9}.WithDefaults(RMSProp)
	if h.Decay != 0.9 || h.Epsilon != 0.002 {
		t.Errorf("RMSProp defaults %+v", h)
	}
	if h := (Hyper{}).WithDefaults(SGD); h != (Hyper{}) {
		t.Errorf("SGD has no defaults to fill, got %+v", h)
	}
	if err := h.Validate(RMSProp); err != nil {
		t.Error(err)
	}
	// SGD needs no decay nor epsilon; RMSProp and Adam do.
	if err := (Hyper{Momentum: 0.9}).Validate(SGD); err != nil {
		t.Error(err)
	}
	for _, c := range []struct {
		h    Hyper
		k    Kind
		want string
	}{
		{Hyper{}, "adagrad", "unknown optimizer"},
		{Hyper{Momentum: 1}, SGD, "momentum"},
		{Hyper{Decay: 1, Epsilon: 1}, RMSProp, "decay"},
		{Hyper{Decay: 0.9, Epsilon: math.Inf(1)}, Adam, "epsilon"},
		{Hyper{WeightDecay: -1}, SGD, "weight decay"},
		{Hyper{LabelSmoothing: 1}, SGD, "label smoothing"},
	} {
		if err := c.h.Validate(c.k); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v (%s): %v, want an error about %s", c.h, c.k, err, c.want)
		}
	}
}

// TestPlan: 20 steps, 5 of warm-up, peak 0.4, final 0.04. Warm-up: step 0 is
// 0.4·1/5 = 0.08, step 4 the peak; the cosine is at the peak at step 5,
// halfway (step 5 + 15/2 = 12.5) at (0.4 + 0.04)/2 = 0.22, and at Final from
// step 20 on.
func TestPlan(t *testing.T) {
	p := Plan{TotalSteps: 20, WarmupSteps: 5, Peak: 0.4, Final: 0.04, Schedule: Cosine}
	for step, want := range map[int]float64{0: 0.08, 4: 0.4, 5: 0.4, 20: 0.04, 25: 0.04} {
		if got := p.LearningRate(step); math.Abs(got-want) > 1e-12 {
			t.Errorf("step %d: %v, want %v", step, got, want)
		}
	}
	mid := (p.LearningRate(12) + p.LearningRate(13)) / 2
	if math.Abs(mid-0.22) > 0.01 {
		t.Errorf("halfway %v, want about 0.22", mid)
	}
	p.Schedule = Constant
	if p.LearningRate(15) != 0.4 {
		t.Errorf("constant schedule: %v", p.LearningRate(15))
	}
	if Schedule("step").Validate() == nil || Cosine.Validate() != nil {
		t.Error("schedule validation")
	}
}
