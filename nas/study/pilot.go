package study

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/multihw/multihw/internal/flaglist"
	"github.com/multihw/multihw/internal/guard"

	"github.com/gomlx/compute"
	"gonum.org/v1/gonum/stat"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/progress"
	"github.com/multihw/multihw/internal/stats"
	"github.com/multihw/multihw/nas/tunas"
	"github.com/multihw/multihw/train"
	"github.com/multihw/multihw/train/data"
)

// The seed-spread pilot: before sizing a study, train a few models with K
// seeds at a candidate proxy setting and measure how much their test
// accuracy moves from seed to seed; that SD says how many seeds resolve a
// given difference, and the runs' times say what the study will cost.

// PilotFile is the pilot's result in its directory.
const PilotFile = "pilot.json"

// PilotFormat names the pilot file's format.
const PilotFormat = "multihw-study-pilot/1"

// PilotConfig configures a pilot.
type PilotConfig struct {
	// Models are reference models trained with Seeds seeds each (1..Seeds).
	Models []string `json:"models"`
	Seeds  int      `json:"seeds"`
	// Recipe, Width, Adapt and HoldoutEval are the candidate proxy
	// setting (as in Config); the dataset is Search's.
	Recipe      train.Recipe `json:"recipe"`
	Width       float64      `json:"width"`
	Adapt       blocks.Adapt `json:"adapt"`
	HoldoutEval int          `json:"holdout_eval,omitempty"`
	// Differences (accuracy points) for which the pilot reports the seeds
	// that resolve them at Z standard errors.
	Differences []float64 `json:"differences"`
	Z           float64   `json:"z"`
	// Search is the study's search configuration: its dataset is the
	// pilot's, and SearchSteps > 0 also times a search of that many steps
	// with it, for the study's search cost.
	Search      tunas.Config `json:"search"`
	SearchSteps int          `json:"search_steps,omitempty"`
}

// PilotFor returns a pilot of the study configuration's proxy setting:
// models trained with its recipe, width and adaptation, seeds seeds each.
func PilotFor(c Config, models []string, seeds int) PilotConfig {
	return PilotConfig{Models: models, Seeds: seeds, Recipe: c.Recipe, Width: c.TrainWidth, Adapt: c.TrainAdapt,
		HoldoutEval: c.HoldoutEval, Differences: []float64{0.25, 0.5, 1}, Z: c.Rules.Z, Search: c.Search}
}

// Validate reports the first invalid field.
func (c PilotConfig) Validate() error {
	if len(c.Models) == 0 {
		return errors.New("pilot: no models")
	}
	for _, m := range c.Models {
		if _, err := blocks.Model(m); err != nil {
			return fmt.Errorf("pilot: %w", err)
		}
	}
	if m, dup := flaglist.Repeated(c.Models); dup {
		return fmt.Errorf("pilot: model %s given twice", m)
	}
	if d, dup := flaglist.Repeated(c.Differences); dup {
		return fmt.Errorf("pilot: difference %g given twice", d)
	}
	if err := checkZ("pilot", c.Z); err != nil {
		return err
	}
	switch {
	case c.Seeds < 2:
		return fmt.Errorf("pilot: a seed SD needs at least 2 seeds, got %d", c.Seeds)
	case c.Seeds > train.MaxSeeds:
		return fmt.Errorf("pilot: %d seeds per model, more than %d", c.Seeds, train.MaxSeeds)
	case !(c.Width > 0):
		return fmt.Errorf("pilot: width factor must be positive, got %g", c.Width)
	case c.Width > blocks.MaxWidthFactor:
		return fmt.Errorf("pilot: width factor must be at most %d, got %g", blocks.MaxWidthFactor, c.Width)
	case c.SearchSteps < 0:
		return fmt.Errorf("pilot: search steps must be >= 0, got %d", c.SearchSteps)
	}
	for _, d := range c.Differences {
		if !(d > 0 && d <= 100) { // accuracy points
			return fmt.Errorf("pilot: differences must be in (0, 100] points, got %g", d)
		}
	}
	return c.Recipe.Validate()
}

// PilotModel is one model's seeds.
type PilotModel struct {
	Name         string    `json:"name"`
	Seeds        []uint64  `json:"seeds"`
	Accuracy     []float64 `json:"accuracy"`
	Mean         float64   `json:"mean"`
	SD           float64   `json:"sd"`
	SE           float64   `json:"se"`
	TrainSeconds []float64 `json:"train_seconds"`
	StepMS       []float64 `json:"step_ms"`
	Steps        int       `json:"steps"`
}

// Needed is the number of seeds per model that resolves a difference.
type Needed struct {
	Points float64 `json:"points"`
	Seeds  int     `json:"seeds"`
}

// PilotResult is pilot.json.
type PilotResult struct {
	Format string       `json:"format"`
	Config PilotConfig  `json:"config"`
	Models []PilotModel `json:"models"`
	// TrainLen is the training split's size (to rescale run times to
	// other recipes).
	TrainLen int `json:"train_len"`
	// PooledSD is the seed SD pooled over the models (PooledDF degrees of
	// freedom); Needed the seeds per model for each of the configured
	// differences.
	PooledSD float64  `json:"pooled_sd"`
	PooledDF int      `json:"pooled_df"`
	Needed   []Needed `json:"needed"`
	// RunSeconds is the mean training time of a run; StepMS the mean
	// median step time.
	RunSeconds float64 `json:"run_seconds"`
	StepMS     float64 `json:"step_ms"`
	// SearchStepsPerMinute and SearchSeconds time the search (0: none).
	SearchStepsPerMinute float64   `json:"search_steps_per_minute"`
	SearchSeconds        float64   `json:"search_seconds"`
	Created              time.Time `json:"created"`
}

// Pilot runs a pilot: create it with NewPilot, chain the options, call Run.
type Pilot struct {
	out      string
	cfg      PilotConfig
	ds       *data.Dataset
	be       compute.Backend
	progress io.Writer
}

// NewPilot starts a pilot writing into out.
func NewPilot(out string, cfg PilotConfig) *Pilot { return &Pilot{out: out, cfg: cfg} }

// Dataset sets the (already loaded) dataset; by default it is loaded from
// the configuration.
func (p *Pilot) Dataset(ds *data.Dataset) *Pilot { p.ds = ds; return p }

// Backend sets the compute backend.
func (p *Pilot) Backend(be compute.Backend) *Pilot { p.be = be; return p }

// Progress reports progress on w.
func (p *Pilot) Progress(w io.Writer) *Pilot { p.progress = w; return p }

// Run trains every model with every seed under out/train/MODEL/seedS
// (ordinary resumable runs: run it again after a kill), times a short search
// in out/search if configured, and writes out/pilot.json. It never panics.
func (p *Pilot) Run(ctx context.Context) (res *PilotResult, err error) {
	defer guard.Recover(&err, "pilot")
	cfg, out, be, w := p.cfg, p.out, p.be, p.progress
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if out == "" {
		return nil, errors.New("pilot: no output directory")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("pilot: %w", err)
	}
	var old PilotResult
	if err := readJSON(filepath.Join(out, PilotFile), &old); err == nil && !sameJSON(old.Config, cfg) {
		return nil, fmt.Errorf("pilot: %s holds a pilot of another configuration; choose another directory", out)
	}
	ds := p.ds
	if ds == nil {
		// The study's dataset, as its runs see it.
		if ds, err = (Config{Search: cfg.Search, HoldoutEval: cfg.HoldoutEval}).LoadDataset(); err != nil {
			return nil, fmt.Errorf("pilot: %w", err)
		}
	}
	prog := progress.New(w)
	res = &PilotResult{Format: PilotFormat, Config: cfg, TrainLen: ds.Train.Len(), Created: time.Now().UTC()}
	for _, name := range cfg.Models {
		arch, err := blocks.Model(name)
		if err != nil {
			return nil, err
		}
		pm := PilotModel{Name: name}
		for s := 1; s <= cfg.Seeds; s++ {
			seed := uint64(s)
			dir := filepath.Join(out, TrainDir, name, fmt.Sprintf("seed%d", seed))
			prog.Line(fmt.Sprintf("pilot: %s seed %d of %d", name, seed, cfg.Seeds), false)
			tr := &train.Result{}
			if err := readJSON(filepath.Join(dir, train.ResultFile), tr); err != nil || tr.Test == nil || tr.Seed != seed {
				a := arch.WithWidth(cfg.Width)
				a.Name = name
				if tr, err = train.New(a, ds).Adapt(cfg.Adapt).Recipe(cfg.Recipe).Seed(seed).Out(dir).Resume(true).
					Backend(be).Progress(w).Run(ctx); err != nil {
					return nil, fmt.Errorf("pilot: %s seed %d: %w", name, seed, err)
				}
			}
			pm.Seeds = append(pm.Seeds, seed)
			pm.Accuracy = append(pm.Accuracy, tr.Test.Accuracy)
			pm.TrainSeconds = append(pm.TrainSeconds, tr.TrainSeconds)
			pm.StepMS = append(pm.StepMS, tr.StepMS)
			pm.Steps = tr.Steps
		}
		pm.Mean, pm.SD = stat.MeanStdDev(pm.Accuracy, nil)
		pm.SE = pm.SD / math.Sqrt(float64(len(pm.Accuracy)))
		res.Models = append(res.Models, pm)
	}
	res.analyse()
	if cfg.SearchSteps > 0 {
		sc := cfg.Search
		sc.Steps = cfg.SearchSteps
		sc.Controller.LR = tunas.ControllerLR(sc.Steps)
		prog.Line(fmt.Sprintf("pilot: timing a %d-step search", sc.Steps), false)
		sr, err := tunas.New(sc).Out(filepath.Join(out, "search")).Resume(true).Dataset(ds).Backend(be).Progress(w).Run(ctx)
		if err != nil {
			return nil, fmt.Errorf("pilot: timing search: %w", err)
		}
		res.SearchStepsPerMinute, res.SearchSeconds = sr.Stats.StepsPerMinute, sr.Stats.Seconds
	}
	if err := writeJSON(filepath.Join(out, PilotFile), res); err != nil {
		return nil, err
	}
	return res, nil
}

// analyse pools the SDs and sizes the seeds.
func (res *PilotResult) analyse() {
	var ss, runs, secs, steps float64
	df := 0
	for _, m := range res.Models {
		k := len(m.Accuracy)
		ss += float64(k-1) * m.SD * m.SD
		df += k - 1
		for i := range m.TrainSeconds {
			runs++
			secs += m.TrainSeconds[i]
			steps += m.StepMS[i]
		}
	}
	res.PooledDF, res.PooledSD = df, math.NaN()
	if df > 0 {
		res.PooledSD = math.Sqrt(ss / float64(df))
	}
	if runs > 0 {
		res.RunSeconds, res.StepMS = secs/runs, steps/runs
	}
	res.Needed = nil
	for _, d := range res.Config.Differences {
		res.Needed = append(res.Needed, Needed{Points: d, Seeds: SeedsNeeded(res.PooledSD, d/100, res.Config.Z)})
	}
}

// ReadPilot reads DIR/pilot.json.
func ReadPilot(dir string) (*PilotResult, error) {
	p := &PilotResult{}
	if err := readJSON(filepath.Join(dir, PilotFile), p); err != nil {
		return nil, fmt.Errorf("pilot: %w", err)
	}
	if p.Format != PilotFormat {
		return nil, fmt.Errorf("pilot: %s has format %q, want %q", filepath.Join(dir, PilotFile), p.Format, PilotFormat)
	}
	return p, nil
}

// Estimate is a study's expected size, from a pilot's measurements: the
// arithmetic the report's sizing section shows.
type Estimate struct {
	// Pilot is the pilot's directory; PilotSeeds, PilotSD its seeds per
	// model and pooled seed SD.
	Pilot      string  `json:"pilot"`
	PilotSeeds int     `json:"pilot_seeds"`
	PilotSD    float64 `json:"pilot_sd"`
	// Searches of SearchSteps steps at SearchStepsPerMinute.
	Searches             int     `json:"searches"`
	SearchSteps          int     `json:"search_steps"`
	SearchStepsPerMinute float64 `json:"search_steps_per_minute"`
	SearchHours          float64 `json:"search_hours"`
	// Architectures (at most the searches plus the references: identical
	// ones share runs) × Seeds runs of RunSeconds each: the pilot's mean
	// run time scaled by StepsRatio (the study's steps per run over the
	// pilot's) when the recipes' lengths differ.
	Architectures int     `json:"architectures"`
	Seeds         int     `json:"seeds"`
	RunSeconds    float64 `json:"run_seconds"`
	StepsRatio    float64 `json:"steps_ratio"`
	TrainHours    float64 `json:"train_hours"`
	TotalHours    float64 `json:"total_hours"`
	// Resolvable is the smallest difference (points) the study's seeds
	// resolve at Z standard errors with the pilot's SD: Z·SD·√(2/Seeds);
	// NaN (JSON null) when the pilot's seeds did not differ (SD 0) or the
	// study trains no seed, which leaves it unknown.
	Resolvable stats.Float `json:"resolvable_points"`
	// Notes say where the estimate is weak (a different proxy width, no
	// timed search).
	Notes []string `json:"notes,omitempty"`
}

// NewEstimate sizes study c from pilot p (in directory dir). searchRate,
// when > 0, is the searches' steps per minute (else the pilot's timed
// search's).
func NewEstimate(c Config, p *PilotResult, dir string, searchRate float64) (Estimate, error) {
	e := Estimate{Pilot: dir, PilotSeeds: p.Config.Seeds, PilotSD: p.PooledSD, SearchSteps: c.Search.Steps,
		Seeds: len(c.TrainSeeds), StepsRatio: 1}
	plan, err := NewPlan(c)
	if err != nil {
		return e, err
	}
	e.Searches = len(plan.Searches)
	e.Architectures = e.Searches + len(c.References)
	e.SearchStepsPerMinute = searchRate
	if searchRate <= 0 {
		e.SearchStepsPerMinute = p.SearchStepsPerMinute
		if p.SearchStepsPerMinute > 0 && p.Config.SearchSteps < c.Search.Steps/4 {
			e.Notes = append(e.Notes, fmt.Sprintf("the search rate comes from a %d-step timing search; a longer search compiles fewer new paths per step", p.Config.SearchSteps))
		}
	}
	if e.SearchStepsPerMinute > 0 {
		e.SearchHours = float64(e.Searches*c.Search.Steps) / e.SearchStepsPerMinute / 60
	} else if e.Searches > 0 {
		e.Notes = append(e.Notes, "no search rate: the searches' time is not estimated (give --search-rate or a pilot with --search-steps)")
	}
	if p.TrainLen > 0 {
		study, err1 := c.Recipe.Plan(p.TrainLen)
		pilot, err2 := p.Config.Recipe.Plan(p.TrainLen)
		if err := errors.Join(err1, err2); err != nil {
			return e, err
		}
		e.StepsRatio = float64(study.TotalSteps) / float64(pilot.TotalSteps)
	}
	e.RunSeconds = p.RunSeconds * e.StepsRatio
	if c.TrainWidth != p.Config.Width || c.TrainAdapt != p.Config.Adapt || c.Recipe.BatchSize != p.Config.Recipe.BatchSize {
		e.Notes = append(e.Notes, fmt.Sprintf("the pilot trained at width %g, adaptation %s, batch %d; the study at width %g, %s, batch %d: its run time is rescaled by steps only",
			p.Config.Width, p.Config.Adapt, p.Config.Recipe.BatchSize, c.TrainWidth, c.TrainAdapt, c.Recipe.BatchSize))
	}
	e.TrainHours = float64(e.Architectures*e.Seeds) * e.RunSeconds / 3600
	e.TotalHours = e.SearchHours + e.TrainHours
	e.Resolvable = stats.Float(math.NaN())
	if e.Seeds > 0 && p.PooledSD > 0 {
		e.Resolvable = stats.Float(100 * c.Rules.Z * p.PooledSD * math.Sqrt(2/float64(e.Seeds)))
	}
	return e, nil
}

// NewPlanWithPilot is NewPlan with, when pilotDir is not empty, the study's
// size estimated from that pilot's measurements (ReadPilot, NewEstimate).
func NewPlanWithPilot(c Config, pilotDir string, searchRate float64) (*Plan, error) {
	p, err := NewPlan(c)
	if err != nil || pilotDir == "" {
		return p, err
	}
	pr, err := ReadPilot(pilotDir)
	if err != nil {
		return nil, err
	}
	e, err := NewEstimate(c, pr, pilotDir, searchRate)
	if err != nil {
		return nil, err
	}
	p.Estimate = &e
	return p, nil
}
