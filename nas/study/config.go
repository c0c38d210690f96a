// Package study is the reproduction study of Chu et al. (CVPRW 2021) as one
// resumable workflow: multi-hardware searches (AVG and MAX) swept over the
// target cost T0 with several search seeds, single-target searches for each
// hardware target, and every final architecture retrained next to the
// reference models with one recipe and several seeds; then the numbers the
// paper's claims rest on (accuracy with seed noise, normalised latency with
// the cost model's spread), and a verdict per claim by explicit decision
// rules (Rules).
//
// A study lives in one directory:
//
//	DIR/study.json                 the plan: configuration, resolved T0s, searches (fixed at the start)
//	DIR/searches/NAME/             one ordinary search run (tunas) per search
//	DIR/train/UNIT/seedK/          one ordinary training run (train) per architecture and seed
//	DIR/jobs/NAME.json             per job: attempts, wall and CPU time, steps/min (the study's ledger)
//	DIR/archs/NAME.txt             every model's deployed architecture (text form)
//
// Every job is an ordinary resumable run: Run skips finished jobs, resumes
// interrupted ones from their checkpoints, and only then starts new ones, so
// running it again after a kill (even SIGKILL) continues where it stopped.
// Package tunas runs the searches and package train the retraining; this
// package only orders, records and summarises them.
package study

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/internal/flaglist"
	"github.com/multihw/multihw/nas/tunas"
	"github.com/multihw/multihw/train"
	"github.com/multihw/multihw/train/data"
)

// T0 is a search's target cost: a normalised latency, or the cost of a
// reference model (Match, e.g. "multi_max") on the search's own objective, or
// on the metric named after '@' ("multi_max@max": MultiMAX's MAX latency).
type T0 struct {
	Value float64 `json:"value,omitempty"`
	Match string  `json:"match,omitempty"`
}

// ParseT0 reads "0.85", "multi_max" or "multi_max@max".
func ParseT0(s string) (T0, error) {
	s = strings.TrimSpace(s)
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		t := T0{Value: v}
		return t, t.Validate()
	}
	model, metric, _ := strings.Cut(s, "@")
	if _, err := blocks.Model(model); err != nil {
		return T0{}, fmt.Errorf("T0 %q: neither a number nor a reference model: %w", s, err)
	}
	if metric != "" && metric != tunas.ObjectiveAvg && metric != tunas.ObjectiveMax {
		if _, err := hwcost.LookupSpec(metric); err != nil {
			return T0{}, fmt.Errorf("T0 %q: %q after @ is not avg, max nor a target: %w", s, metric, err)
		}
	}
	return T0{Match: s}, nil
}

// ParseT0s reads a comma-separated list of T0s.
func ParseT0s(s string) ([]T0, error) {
	var out []T0
	for _, f := range strings.Split(s, ",") {
		if strings.TrimSpace(f) == "" {
			continue
		}
		t, err := ParseT0(f)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// String is the form ParseT0 reads.
func (t T0) String() string {
	if t.Match != "" {
		return t.Match
	}
	return strconv.FormatFloat(t.Value, 'g', -1, 64)
}

// Label is a short name for directories and tables: "t0.85", "tmulti_max".
func (t T0) Label() string { return "t" + strings.ReplaceAll(t.String(), "@", "-") }

// Validate reports a T0 that is neither a positive number nor a match.
func (t T0) Validate() error {
	if t.Match == "" && (!(t.Value > 0) || math.IsInf(t.Value, 0)) {
		return fmt.Errorf("T0 %g must be a positive normalised latency (or a reference model to match)", t.Value)
	}
	if t.Match != "" && t.Value != 0 {
		return fmt.Errorf("T0 gives both a value (%g) and a model to match (%q)", t.Value, t.Match)
	}
	return nil
}

// Resolve returns the target cost for a search of the given objective under
// metric m: the value, or the matched model's cost on the objective (or on
// the metric after '@').
func (t T0) Resolve(m *hwcost.Metric, objective string) (float64, error) {
	if t.Match == "" {
		return t.Value, nil
	}
	model, metric, _ := strings.Cut(t.Match, "@")
	if metric == "" {
		metric = objective
	}
	a, err := blocks.Model(model)
	if err != nil {
		return 0, err
	}
	r, err := m.Evaluate(a)
	if err != nil {
		return 0, fmt.Errorf("T0 %s: %w", t, err)
	}
	return MetricValue(r, metric)
}

// MetricValue returns a cost evaluation's value on metric: "avg", "max" or a
// target's normalised latency.
func MetricValue(r *hwcost.Result, metric string) (float64, error) {
	switch metric {
	case tunas.ObjectiveAvg:
		return r.Avg, nil
	case tunas.ObjectiveMax:
		return r.Max, nil
	}
	v, ok := r.Normalized[metric]
	if !ok {
		return 0, fmt.Errorf("metric %q is not avg, max nor one of the targets %v", metric, r.Targets)
	}
	return v, nil
}

// Rules are the decision rules of the claims (see Claims). They are part of
// the plan, so a study's verdicts are reproducible from its directory.
type Rules struct {
	// Z: a difference of mean accuracies is resolved when it exceeds Z
	// standard errors of the difference (from the pooled seed-to-seed SD).
	Z float64 `json:"z"`
	// CostProbability: with the cost model's parameter draws, an ordering
	// of two models' latencies is resolved when it holds in at least this
	// fraction of the draws.
	CostProbability float64 `json:"cost_probability"`
	// CostTolerance: without draws, an ordering is resolved when the
	// relative difference of the fitted latencies exceeds this.
	CostTolerance float64 `json:"cost_tolerance"`
	// CostDraws parameter sets are drawn from the cost models' fitted
	// uncertainty (hwcost.Sensitivity, seeded by CostSeed) to give every
	// latency its spread and every ordering its probability; 0: none (the
	// fitted values and CostTolerance decide).
	CostDraws int    `json:"cost_draws"`
	CostSeed  uint64 `json:"cost_seed"`
	// NearAccuracy (points): a model counts as dominated only when the other
	// model is more accurate by more than this as well as by Z standard
	// errors: the "near" of "on or near the Pareto front".
	NearAccuracy float64 `json:"near_accuracy_points"`
}

// DefaultRules: 2 standard errors, 95% of 2000 cost draws (2% without
// draws), no extra accuracy margin.
func DefaultRules() Rules {
	return Rules{Z: 2, CostProbability: 0.95, CostTolerance: 0.02, CostDraws: 2000, CostSeed: 1}
}

// MaxZ bounds the decision rule's Z: the normal distribution's two-sided
// tail beyond 40 standard errors is below 1e-300, so a larger Z decides
// nothing a smaller one does not, and products with it (Z·SD·√(2/seeds))
// overflow to +Inf.
const MaxZ = 40

// checkZ reports a Z outside (0, MaxZ].
func checkZ(what string, z float64) error {
	if !(z > 0 && z <= MaxZ) {
		return fmt.Errorf("%s: Z must be positive and at most %d, got %g", what, MaxZ, z)
	}
	return nil
}

// Validate reports the first invalid rule.
func (r Rules) Validate() error {
	if err := checkZ("rules", r.Z); err != nil {
		return err
	}
	switch {
	case !(r.CostProbability > 0.5 && r.CostProbability <= 1):
		return fmt.Errorf("rules: cost probability must be in (0.5, 1], got %g", r.CostProbability)
	case !(r.CostTolerance >= 0 && r.CostTolerance < 1):
		return fmt.Errorf("rules: cost tolerance must be in [0, 1), got %g", r.CostTolerance)
	case !(r.NearAccuracy >= 0 && r.NearAccuracy <= 100):
		// Accuracies are percentages: a wider margin puts every model near
		// the front, which no study means.
		return fmt.Errorf("rules: near-accuracy margin must be in [0, 100] points, got %g", r.NearAccuracy)
	case r.CostDraws < 0 || r.CostDraws == 1 || r.CostDraws > hwcost.MaxSensitivityDraws:
		return fmt.Errorf("rules: cost draws must be 0 (none) or in [2, %d], got %d", hwcost.MaxSensitivityDraws, r.CostDraws)
	}
	return nil
}

// Config is the whole description of a study: plain data, stored in the plan.
type Config struct {
	// Search is the base configuration of every search (space, dataset,
	// targets, reference, reward kind and β, steps, batch, proxy width...);
	// the study sets its objective, T0, seed (and controller learning rate
	// from the steps) per search.
	Search tunas.Config `json:"search"`
	// Objectives are the multi-target objectives (avg, max), each searched
	// at every T0 in T0s with every seed in SearchSeeds.
	Objectives  []string `json:"objectives"`
	T0s         []T0     `json:"t0s"`
	SearchSeeds []uint64 `json:"search_seeds"`
	// SingleTargets are searched alone (objective = the target), at
	// SingleT0 with every seed in SingleSeeds; empty: none.
	SingleTargets []string `json:"single_targets"`
	SingleT0      T0       `json:"single_t0"`
	SingleSeeds   []uint64 `json:"single_seeds"`
	// References are retrained next to the searched architectures.
	References []string `json:"references"`
	// Recipe, TrainWidth and TrainAdapt retrain every architecture (its
	// cost is always that of the deployed, full-width architecture);
	// TrainSeeds are the seeds of every architecture.
	Recipe     train.Recipe `json:"recipe"`
	TrainWidth float64      `json:"train_width"`
	TrainAdapt blocks.Adapt `json:"train_adapt"`
	TrainSeeds []uint64     `json:"train_seeds"`
	// HoldoutEval, when > 0, evaluates on that many validation and test
	// images only (smoke runs).
	HoldoutEval int   `json:"holdout_eval,omitempty"`
	Rules       Rules `json:"rules"`
	// Smoke marks a smoke-run configuration (tiny settings, Quick): its results
	// demonstrate the workflow and support no claim.
	Smoke bool `json:"smoke,omitempty"`
}

// Default study settings (see DefaultConfig). What they cost on a machine is
// the estimate `study plan --pilot` writes into the plan and the report.
const (
	DefaultSearchSteps = 2000
	DefaultTrainEpochs = 1
	DefaultTrainSeeds  = 3
)

// DefaultConfig returns the study of the issue: AVG and MAX searches at T0
// 0.85, matched to MobileNet-MultiHW-MAX's cost on their objective, and 1.0,
// with search seeds 1 and 2; single-target searches of the four Pixel 4
// targets at MultiMAX's MAX latency; the searched architectures and
// MobileNetV2, MobileNetV3-Large-min, MultiAVG and MultiMAX retrained at the
// search's proxy width with train.DefaultRecipe shortened to
// DefaultTrainEpochs epochs and DefaultTrainSeeds seeds.
func DefaultConfig() Config {
	s := tunas.DefaultConfig()
	s.Steps = DefaultSearchSteps
	s.Controller.LR = tunas.ControllerLR(s.Steps)
	r := train.DefaultRecipe()
	r.Epochs = DefaultTrainEpochs
	seeds := make([]uint64, DefaultTrainSeeds)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	return Config{
		Search:        s,
		Objectives:    []string{tunas.ObjectiveAvg, tunas.ObjectiveMax},
		T0s:           []T0{{Value: 0.85}, {Match: "multi_max"}, {Value: 1}},
		SearchSeeds:   []uint64{1, 2},
		SingleTargets: hwcost.PaperTargets(),
		SingleT0:      T0{Match: "multi_max@max"},
		SingleSeeds:   []uint64{1},
		References:    []string{"mobilenet_v2", "mobilenet_v3_large_min", "multi_avg", "multi_max"},
		Recipe:        r,
		TrainWidth:    s.WidthFactor,
		TrainAdapt:    s.Adapt,
		TrainSeeds:    seeds,
		Rules:         DefaultRules(),
	}
}

// Quick returns c shrunk to a smoke run of the whole workflow (minutes on 2
// cores): 30-step searches on a quarter-width supernet, 30-step trainings
// with 2 seeds, 1,000 evaluation images. It proves the plumbing; its numbers
// support nothing.
func (c Config) Quick() Config {
	c.Search = c.Search.Quick()
	c.Search.Steps = 30
	c.Search.BatchSize, c.Search.ValidationBatch = 16, 32
	c.Search.WeightLR = tunas.WeightLR(c.Search.BatchSize)
	c.Search.Controller.LR = tunas.ControllerLR(c.Search.Steps)
	c.Search.Snapshots = 10
	c.Recipe = train.QuickRecipe(30)
	c.Recipe.BatchSize = 32
	c.Recipe.BNRecalibrationBatches = 4
	c.TrainWidth = c.Search.WidthFactor
	c.TrainSeeds = []uint64{1, 2}
	c.HoldoutEval = 1000
	c.Rules.CostDraws = 200
	c.Smoke = true
	return c
}

// NotebookConfig is the quick study notebooks 03-05 run when they are not
// given a full one: Quick settings with AVG and MAX at T0 0.85 and matched to
// MultiMAX, one search seed, the four single-target searches (8 searches) and
// the four references, 2 training seeds.
func NotebookConfig() Config {
	c := DefaultConfig().Quick()
	c.T0s = []T0{{Value: 0.85}, {Match: "multi_max"}}
	c.SearchSeeds = []uint64{1}
	return c
}

// CheckDataset loads the study's dataset (LoadDataset), resolves the
// retraining recipe on its training split and checks the memory the searches
// and the retraining need (the supernet; the references and the space's
// largest network at the training width), so that a plan whose runs could
// not start (a missing dataset, epochs beyond train.MaxSteps, batches beyond
// the memory limit) fails when it is made rather than hours into `study run`.
func (c Config) CheckDataset() error {
	ds, err := c.LoadDataset()
	if err != nil {
		return err
	}
	if _, err := c.Recipe.Plan(ds.Train.Len()); err != nil {
		return fmt.Errorf("study: retraining on %s: %w", c.Search.Dataset, err)
	}
	if len(c.Objectives) > 0 || len(c.SingleTargets) > 0 {
		if err := c.Search.CheckMemory(ds); err != nil {
			return fmt.Errorf("study: searching: %w", err)
		}
	}
	archs := map[string]*blocks.Arch{}
	for _, r := range c.References {
		if archs[r], err = blocks.Model(r); err != nil {
			return fmt.Errorf("study: reference: %w", err)
		}
	}
	if len(c.Objectives) > 0 || len(c.SingleTargets) > 0 {
		if archs["the search space's largest network"], err = c.Search.Space.Arch(c.Search.Space.MaxPoint()); err != nil {
			return fmt.Errorf("study: %w", err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(archs)) {
		proxy, err := blocks.ProxyArch(archs[name].WithWidth(c.TrainWidth), c.TrainAdapt, ds.Height(), ds.Width(), ds.Channels(), ds.NumClasses())
		if err != nil {
			return fmt.Errorf("study: retraining %s: %w", name, err)
		}
		if err := train.CheckMemory("study: retraining "+name, proxy, c.Recipe.BatchSize, true); err != nil {
			return err
		}
	}
	return nil
}

// LoadDataset loads the study's dataset as its runs see it: the search's
// dataset with its validation fraction (loader seed 0), and with HoldoutEval
// the validation and test splits cut to that many images (seeded by the
// search seed). Every training run of the study records the training
// split's normalisation, so its checkpoints evaluate only on this dataset.
func (c Config) LoadDataset() (*data.Dataset, error) {
	ds, err := data.NewLoader(c.Search.Dataset).Validation(c.Search.Validation).Load()
	if err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	if n := c.HoldoutEval; n > 0 {
		if ds.Validation != nil && ds.Validation.Len() > n {
			if _, ds.Validation, err = ds.Validation.Holdout(n, c.Search.Seed); err != nil {
				return nil, fmt.Errorf("study: %w", err)
			}
		}
		if ds.Test.Len() > n {
			if _, ds.Test, err = ds.Test.Holdout(n, c.Search.Seed); err != nil {
				return nil, fmt.Errorf("study: %w", err)
			}
		}
	}
	return ds, nil
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if err := c.Search.Validate(); err != nil {
		return fmt.Errorf("study: %w", err)
	}
	m, err := c.Search.Metric()
	if err != nil {
		return fmt.Errorf("study: %w", err)
	}
	targets := m.TargetNames()
	if len(c.Objectives) > 0 && (len(c.T0s) == 0 || len(c.SearchSeeds) == 0) {
		return errors.New("study: multi-target searches need at least one T0 and one search seed")
	}
	for _, o := range c.Objectives {
		if o != tunas.ObjectiveAvg && o != tunas.ObjectiveMax {
			return fmt.Errorf("study: multi-target objective %q must be avg or max", o)
		}
	}
	for _, t := range c.T0s {
		if err := t.Validate(); err != nil {
			return fmt.Errorf("study: %w", err)
		}
	}
	for _, t := range c.SingleTargets {
		if !slices.Contains(targets, t) {
			return fmt.Errorf("study: single target %q is not one of the search's targets %v", t, targets)
		}
	}
	if len(c.SingleTargets) > 0 {
		if err := c.SingleT0.Validate(); err != nil {
			return fmt.Errorf("study: single-target %w", err)
		}
		if len(c.SingleSeeds) == 0 {
			return errors.New("study: single-target searches need at least one seed")
		}
	}
	if len(c.Objectives) == 0 && len(c.SingleTargets) == 0 && len(c.References) == 0 {
		return errors.New("study: nothing to do (no searches, no references)")
	}
	for _, r := range c.References {
		if _, err := blocks.Model(r); err != nil {
			return fmt.Errorf("study: reference: %w", err)
		}
	}
	if r, dup := flaglist.Repeated(c.References); dup {
		// Its jobs would share one run directory per seed.
		return fmt.Errorf("study: reference %s given twice", r)
	}
	for _, seeds := range [][]uint64{c.SearchSeeds, c.SingleSeeds, c.TrainSeeds} {
		seen := map[uint64]bool{}
		for _, s := range seeds {
			if seen[s] {
				return fmt.Errorf("study: seed %d given twice in %v", s, seeds)
			}
			seen[s] = true
		}
	}
	if len(c.TrainSeeds) == 0 {
		return errors.New("study: no training seeds")
	}
	if len(c.TrainSeeds) > train.MaxSeeds {
		return fmt.Errorf("study: %d training seeds, more than %d", len(c.TrainSeeds), train.MaxSeeds)
	}
	if err := c.Recipe.Validate(); err != nil {
		return fmt.Errorf("study: %w", err)
	}
	if !(c.TrainWidth > 0) {
		return fmt.Errorf("study: training width factor must be positive, got %g", c.TrainWidth)
	}
	if c.TrainWidth > blocks.MaxWidthFactor {
		return fmt.Errorf("study: training width factor must be at most %d, got %g", blocks.MaxWidthFactor, c.TrainWidth)
	}
	if !slices.Contains(blocks.Adapts, c.TrainAdapt) {
		return fmt.Errorf("study: unknown training adaptation %q (valid: %v)", c.TrainAdapt, blocks.Adapts)
	}
	if c.HoldoutEval < 0 {
		return fmt.Errorf("study: holdout evaluation size must be >= 0, got %d", c.HoldoutEval)
	}
	return c.Rules.Validate()
}
