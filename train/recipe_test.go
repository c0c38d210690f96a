package train

import (
	"math"
	"strings"
	"testing"

	"github.com/multihw/multihw/train/optim"
)

func TestPlanSchedule(t *testing.T) {
	r := DefaultRecipe()
	r.BatchSize, r.Epochs, r.WarmupEpochs, r.LearningRate, r.FinalLRFraction = 100, 2, 0.5, 0.4, 0.1
	p, err := r.Plan(1000) // 10 steps per epoch
	if err != nil {
		t.Fatal(err)
	}
	if p.TotalSteps != 20 || p.WarmupSteps != 5 {
		t.Fatalf("plan %+v, want 20 steps with 5 warm-up", p)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	// Warm-up: 0.08, 0.16, ..., 0.4 at step 4; then the cosine from 0.4 (step 5) to 0.04.
	for s, want := range map[int]float64{0: 0.08, 2: 0.24, 4: 0.4, 5: 0.4, 20: 0.04} {
		if got := p.LearningRate(s); !near(got, want) {
			t.Errorf("step %d: learning rate %v, want %v", s, got, want)
		}
	}
	mid := optim.Plan{TotalSteps: 110, WarmupSteps: 10, Peak: 1, Final: 0, Schedule: optim.Cosine}
	if got := mid.LearningRate(60); !near(got, 0.5) {
		t.Errorf("cosine midpoint %v, want 0.5", got)
	}
	prev := math.Inf(1)
	for s := 10; s <= 110; s++ {
		lr := mid.LearningRate(s)
		if lr > prev {
			t.Fatalf("cosine increases at step %d", s)
		}
		prev = lr
	}
	r.Steps, r.Schedule = 7, optim.Constant
	if p, _ = r.Plan(1000); p.TotalSteps != 7 || p.WarmupSteps != 3 || p.LearningRate(6) != 0.4 {
		t.Errorf("steps override / constant schedule: %+v, lr(6) %v", p, p.LearningRate(6))
	}
}

func TestRecipeValidation(t *testing.T) {
	if err := DefaultRecipe().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		mod  func(*Recipe)
		want string
	}{
		{func(r *Recipe) { r.Optimizer = "lion" }, "optimizer"},
		{func(r *Recipe) { r.LearningRate = 0 }, "learning rate"},
		{func(r *Recipe) { r.LearningRate = math.NaN() }, "learning rate"},
		{func(r *Recipe) { r.Momentum = 1 }, "momentum"},
		{func(r *Recipe) { r.Schedule = "step" }, "schedule"},
		{func(r *Recipe) { r.BatchSize = 0 }, "batch size"},
		{func(r *Recipe) { r.Epochs, r.Steps = 0, 0 }, "epochs or steps"},
		{func(r *Recipe) { r.LabelSmoothing = 1 }, "label smoothing"},
		{func(r *Recipe) { r.BNMomentum = -0.1 }, "BatchNorm momentum"},
		{func(r *Recipe) { r.Optimizer, r.Decay = optim.RMSProp, 1.5 }, "decay"},
		{func(r *Recipe) { r.WeightDecay = -1 }, "weight decay"},
	}
	for _, b := range bad {
		r := DefaultRecipe()
		b.mod(&r)
		if err := r.Validate(); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("got %v, want an error about %q", err, b.want)
		}
	}
}

func TestQuickRecipe(t *testing.T) {
	r := QuickRecipe(150)
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	d := DefaultRecipe()
	// Linear scaling: the same peak learning rate per image as the default.
	if r.Steps != 150 || r.BatchSize != 64 || r.LearningRate/float64(r.BatchSize) != d.LearningRate/float64(d.BatchSize) {
		t.Errorf("QuickRecipe(150): %d steps, batch %d, lr %g; want 150, 64 and the default's lr per image", r.Steps, r.BatchSize, r.LearningRate)
	}
}
