package study

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
)

func TestParseT0(t *testing.T) {
	for _, tc := range []struct {
		in    string
		want  T0
		label string
	}{
		{"0.85", T0{Value: 0.85}, "t0.85"},
		{" 1 ", T0{Value: 1}, "t1"},
		{"multi_max", T0{Match: "multi_max"}, "tmulti_max"},
		{"multi_max@max", T0{Match: "multi_max@max"}, "tmulti_max-max"},
		{"mobilenet_v2@pixel4-dsp", T0{Match: "mobilenet_v2@pixel4-dsp"}, "tmobilenet_v2-pixel4-dsp"},
	} {
		got, err := ParseT0(tc.in)
		if err != nil || got != tc.want || got.Label() != tc.label {
			t.Errorf("ParseT0(%q) = %+v (label %q), %v; want %+v, %q", tc.in, got, got.Label(), err, tc.want, tc.label)
		}
		if back, err := ParseT0(got.String()); err != nil || back != got {
			t.Errorf("%q does not round-trip: %+v, %v", got.String(), back, err)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"0", "must be a positive"},
		{"-1", "must be a positive"},
		{"toaster", "neither a number nor a reference model"},
		{"multi_max@median", "not avg, max nor a target"},
	} {
		if _, err := ParseT0(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseT0(%q): got %v, want an error containing %q", tc.in, err, tc.want)
		}
	}
}

// TestT0Resolve: a matched T0 is the reference model's cost on the search's
// objective (or the metric after @), as hwcost computes it.
func TestT0Resolve(t *testing.T) {
	m, err := hwcost.NewMetric().Targets("paper").ReferenceModel("mobilenet_v2").Done()
	if err != nil {
		t.Fatal(err)
	}
	mm, err := blocks.Model("multi_max")
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Evaluate(mm)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		t0        T0
		objective string
		want      float64
	}{
		{T0{Match: "multi_max"}, "avg", r.Avg},
		{T0{Match: "multi_max"}, "max", r.Max},
		{T0{Match: "multi_max"}, "pixel4-dsp", r.Normalized["pixel4-dsp"]},
		{T0{Match: "multi_max@max"}, "pixel4-cpu", r.Max},
		{T0{Value: 0.9}, "avg", 0.9},
	} {
		got, err := tc.t0.Resolve(m, tc.objective)
		if err != nil || got != tc.want {
			t.Errorf("%s on %s: %g, %v; want %g", tc.t0, tc.objective, got, err, tc.want)
		}
	}
	if r.Max <= r.Avg || math.Abs(r.Avg-0.916) > 0.05 {
		t.Fatalf("MultiMAX's AVG %g and MAX %g are not what the cost model gives it elsewhere", r.Avg, r.Max)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := DefaultConfig().Quick().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Objectives = []string{"median"} }, `objective "median" must be avg or max`},
		{func(c *Config) { c.T0s = nil }, "at least one T0"},
		{func(c *Config) { c.SingleTargets = []string{"abacus"} }, `single target "abacus"`},
		{func(c *Config) { c.References = []string{"resnet9000"} }, "reference"},
		{func(c *Config) { c.TrainSeeds = []uint64{1, 1} }, "seed 1 given twice"},
		{func(c *Config) { c.TrainSeeds = nil }, "no training seeds"},
		{func(c *Config) { c.TrainWidth = 0 }, "width factor must be positive"},
		{func(c *Config) { c.Rules.Z = 0 }, "Z must be positive"},
		{func(c *Config) { c.Rules.Z = 1e308 }, "Z must be positive and at most 40, got 1e+308"}, // resolved +Inf points
		{func(c *Config) { c.References = []string{"mobilenet_v2", "multi_avg", "mobilenet_v2"} }, "reference mobilenet_v2 given twice"},
		{func(c *Config) { c.Rules.CostProbability = 0.5 }, "cost probability"},
		{func(c *Config) { c.Rules.NearAccuracy = 101 }, "near-accuracy margin must be in [0, 100] points"},
		{func(c *Config) { c.Rules.NearAccuracy = math.NaN() }, "near-accuracy margin"},
		{func(c *Config) { c.Recipe.Epochs = 0 }, "epochs"},
		{func(c *Config) { c.Objectives, c.SingleTargets, c.References = nil, nil, nil }, "nothing to do"},
	} {
		c := DefaultConfig()
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want an error containing %q", err, tc.want)
		}
	}
}

// TestNewPlan: the default study has 2 objectives × 3 T0s × 2 seeds + 4
// single targets = 16 searches, ordered so that the first round covers every
// setting once.
func TestNewPlan(t *testing.T) {
	p, err := NewPlan(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Searches) != 16 {
		t.Fatalf("%d searches, want 16", len(p.Searches))
	}
	want := []string{"avg_t0.85_s1", "avg_tmulti_max_s1", "avg_t1_s1", "max_t0.85_s1", "max_tmulti_max_s1", "max_t1_s1",
		"pixel4-cpu_tmulti_max-max_s1", "pixel4-gpu_tmulti_max-max_s1", "pixel4-dsp_tmulti_max-max_s1", "pixel4-edgetpu_tmulti_max-max_s1",
		"avg_t0.85_s2"}
	for i, w := range want {
		if p.Searches[i].Name != w {
			t.Errorf("search %d is %s, want %s", i, p.Searches[i].Name, w)
		}
	}
	single, _ := p.Search("pixel4-dsp_tmulti_max-max_s1")
	maxm, _ := p.Search("max_tmulti_max_s1")
	avgm, _ := p.Search("avg_tmulti_max_s1")
	if single.Group != GroupSingle || single.T0Value != maxm.T0Value || avgm.T0Value >= maxm.T0Value {
		t.Errorf("matched T0s: single %g (%s), MAX search %g, AVG search %g", single.T0Value, single.Group, maxm.T0Value, avgm.T0Value)
	}
	c := p.SearchConfig(single)
	if c.Objective != "pixel4-dsp" || c.Reward.T0 != single.T0Value || c.Seed != 1 || c.Steps != DefaultSearchSteps {
		t.Errorf("search configuration %s T0 %g seed %d steps %d", c.Objective, c.Reward.T0, c.Seed, c.Steps)
	}
	models := p.Models()
	if len(models) != 20 || models[0].Name != "mobilenet_v2" || models[4].Name != "avg_t0.85_s1" || models[4].Search == nil {
		t.Errorf("models: %d, first %+v, fifth %+v", len(models), models[0], models[4])
	}
	dup := DefaultConfig()
	dup.T0s = append(dup.T0s, T0{Value: 0.85})
	if _, err := NewPlan(dup); err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Errorf("a T0 given twice: %v", err)
	}
	// A T0 every search refuses was planned, and failed when its turn came.
	huge := DefaultConfig()
	huge.T0s = []T0{{Value: 1e308}}
	if _, err := NewPlan(huge); err == nil || !strings.Contains(err.Error(), "study: search avg_t1e+308_s1: ") || !strings.Contains(err.Error(), "T0") {
		t.Errorf("T0 1e308: %v", err)
	}
}

func TestWritePlan(t *testing.T) {
	dir := t.TempDir()
	p, err := NewPlan(DefaultConfig().Quick())
	if err != nil {
		t.Fatal(err)
	}
	first, err := WritePlan(dir, p)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := NewPlan(DefaultConfig().Quick())
	again.Estimate = &Estimate{TotalHours: 7}
	second, err := WritePlan(dir, again)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Created.Equal(first.Created) || second.Estimate == nil || second.Estimate.TotalHours != 7 {
		t.Errorf("replanning the same study: created %v then %v, estimate %+v", first.Created, second.Created, second.Estimate)
	}
	back, err := ReadPlan(dir)
	if err != nil || back.Estimate == nil || len(back.Searches) != 16 {
		t.Fatalf("read back: %+v, %v", back, err)
	}
	if err := back.CheckCosts(); err != nil {
		t.Error(err)
	}
	other := DefaultConfig().Quick()
	other.TrainSeeds = []uint64{1, 2, 3}
	op, _ := NewPlan(other)
	if _, err := WritePlan(dir, op); err == nil || !strings.Contains(err.Error(), "another configuration") {
		t.Errorf("another configuration: %v", err)
	}
	// A plan whose matched T0 no longer matches the cost model.
	back.Searches[1].T0Value += 0.01
	if err := back.CheckCosts(); err == nil || !strings.Contains(err.Error(), "cost model changed") {
		t.Errorf("moved T0: %v", err)
	}
	if _, err := ReadPlan(t.TempDir()); err == nil || !strings.Contains(err.Error(), "holds no study") {
		t.Errorf("empty directory: %v", err)
	}
}

// TestReadPlanRefusesDamagedPlan: a study.json whose searches are not those
// its configuration implies (a search renamed, say to a directory outside
// the study, a seed changed, one dropped) or whose configuration is invalid
// is refused with an error naming the file; the T0 values alone may differ
// (CheckCosts's business).
func TestReadPlanRefusesDamagedPlan(t *testing.T) {
	p, err := NewPlan(DefaultConfig().Quick())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(p *Plan)
		want string
	}{
		{"renamed", func(p *Plan) { p.Searches[2].Name = "../../elsewhere" }, "search 3 is"},
		{"seed", func(p *Plan) { p.Searches[0].Seed = 9 }, "search 1 is"},
		{"objective", func(p *Plan) { p.Searches[0].Objective = "max" }, "search 1 is"},
		{"dropped", func(p *Plan) { p.Searches = p.Searches[1:] }, "lists 15 searches, its configuration implies 16"},
		{"config", func(p *Plan) { p.Config.TrainWidth = -1 }, "training width factor must be positive"},
		{"config", func(p *Plan) { p.Config.TrainWidth = 1e308 }, "training width factor must be at most 64"},
		{"t0 value only", func(p *Plan) { p.Searches[1].T0Value += 0.5 }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			q := *p
			q.Searches = append([]SearchJob(nil), p.Searches...)
			tc.edit(&q)
			if err := writeJSON(filepath.Join(dir, PlanFile), &q); err != nil {
				t.Fatal(err)
			}
			_, err := ReadPlan(dir)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("a moved T0 value is CheckCosts's to report, ReadPlan said: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), PlanFile) {
				t.Fatalf("got %v, want an error naming %s and containing %q", err, PlanFile, tc.want)
			}
		})
	}
}

// TestPlanCaveats: a study over a target whose cost model ranks its
// published rows worse than MACs (pixel7-gpu, hwcost/FIT_REPORT.md) says so
// when planned, also when replanning a study planned without the caveat;
// the paper's targets have none.
func TestPlanCaveats(t *testing.T) {
	p, err := NewPlan(DefaultConfig().Quick())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Caveats) != 0 || strings.Contains(p.Summary("d"), "caveat") {
		t.Errorf("paper targets: caveats %q", p.Caveats)
	}
	c := DefaultConfig().Quick()
	c.Search.Targets = []string{"pixel4-cpu", "pixel7-gpu"}
	c.SingleTargets = []string{"pixel7-gpu"}
	p, err = NewPlan(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Caveats) != 1 || !strings.Contains(p.Summary("d"), "\ncaveat: pixel7-gpu: its model ranks") {
		t.Fatalf("pixel7-gpu: caveats %q, summary:\n%s", p.Caveats, p.Summary("d"))
	}
	dir := t.TempDir()
	old := *p
	old.Caveats = nil
	if _, err := WritePlan(dir, &old); err != nil {
		t.Fatal(err)
	}
	again, err := WritePlan(dir, p)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadPlan(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Created.Equal(old.Created) || len(again.Caveats) != 1 || len(back.Caveats) != 1 {
		t.Errorf("replanned: created %v (was %v), caveats %q, stored %q", again.Created, old.Created, again.Caveats, back.Caveats)
	}
}
