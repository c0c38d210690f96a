package study

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/atomicfile"
	"github.com/multihw/multihw/nas/tunas"
)

// Files and directories of a study directory (see the package comment).
const (
	PlanFile    = "study.json"
	SearchesDir = "searches"
	TrainDir    = "train"
	JobsDir     = "jobs"
	ArchsDir    = "archs"
	lockFile    = ".lock"
)

// Format names the plan's format.
const Format = "multihw-study/1"

// Groups of searches and models.
const (
	// GroupMulti: searched under a multi-hardware objective (AVG or MAX).
	GroupMulti = "multi"
	// GroupSingle: searched for one target alone.
	GroupSingle = "single"
	// GroupReference: a published reference model.
	GroupReference = "reference"
)

// SearchJob is one search of the plan.
type SearchJob struct {
	// Name names the search's directory (SearchesDir/Name) and its model:
	// OBJECTIVE_T0LABEL_sSEED ("avg_t0.85_s1", "pixel4-cpu_tmulti_max-max_s1").
	Name      string `json:"name"`
	Group     string `json:"group"`
	Objective string `json:"objective"`
	T0        T0     `json:"t0"`
	// T0Value is T0 resolved with the cost model at planning time; Run
	// refuses to continue if the cost model now resolves it differently.
	T0Value float64 `json:"t0_value"`
	Seed    uint64  `json:"seed"`
}

// Plan is study.json: the configuration and the searches it implies, fixed
// when the study starts.
type Plan struct {
	Format   string      `json:"format"`
	Config   Config      `json:"config"`
	Searches []SearchJob `json:"searches"`
	Created  time.Time   `json:"created"`
	// Estimate is the study's expected size, from a pilot (informational:
	// not part of what must match when the study is resumed).
	Estimate *Estimate `json:"estimate,omitempty"`
	// Caveats are the cost model's (hwcost.Metric.Caveats) for the study's
	// targets, as of the last plan command (informational too).
	Caveats []string `json:"caveats,omitempty"`
}

// NewPlan resolves the configuration into its searches: for each search seed
// in order, every multi-target objective at every T0, then every single
// target (its seeds interleaved likewise), so that a partial study already
// covers every setting once.
func NewPlan(cfg Config) (*Plan, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := cfg.Search.Metric()
	if err != nil {
		return nil, err
	}
	searches, err := planSearches(cfg, func(t T0, objective string) (float64, error) { return t.Resolve(m, objective) })
	if err != nil {
		return nil, err
	}
	p := &Plan{Format: Format, Config: cfg, Searches: searches, Created: time.Now().UTC(), Caveats: m.Caveats()}
	for _, s := range searches { // a T0 the search refuses (1e308) fails now, not when its turn comes
		sc := p.SearchConfig(s)
		if err := sc.Validate(); err != nil {
			return nil, fmt.Errorf("study: search %s: %w", s.Name, err)
		}
	}
	return p, nil
}

// planSearches lists the searches cfg implies (see NewPlan), each T0 valued
// by resolve.
func planSearches(cfg Config, resolve func(t T0, objective string) (float64, error)) ([]SearchJob, error) {
	var out []SearchJob
	seen := map[string]bool{}
	add := func(group, objective string, t T0, seed uint64) error {
		v, err := resolve(t, objective)
		if err != nil {
			return fmt.Errorf("study: %s search: %w", objective, err)
		}
		j := SearchJob{Name: fmt.Sprintf("%s_%s_s%d", objective, t.Label(), seed), Group: group, Objective: objective, T0: t, T0Value: v, Seed: seed}
		if seen[j.Name] {
			return fmt.Errorf("study: search %s is listed twice (a T0 given twice?)", j.Name)
		}
		seen[j.Name] = true
		out = append(out, j)
		return nil
	}
	rounds := max(len(cfg.SearchSeeds), len(cfg.SingleSeeds))
	for i := range rounds {
		if i < len(cfg.SearchSeeds) {
			for _, o := range cfg.Objectives {
				for _, t := range cfg.T0s {
					if err := add(GroupMulti, o, t, cfg.SearchSeeds[i]); err != nil {
						return nil, err
					}
				}
			}
		}
		if i < len(cfg.SingleSeeds) {
			for _, target := range cfg.SingleTargets {
				if err := add(GroupSingle, target, cfg.SingleT0, cfg.SingleSeeds[i]); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// checkSearches reports whether p's searches are those its configuration
// implies (their T0 values aside: CheckCosts compares those with today's
// cost model). A study.json edited by hand or damaged could otherwise name
// a search directory outside the study, or runs no configuration made.
func (p *Plan) checkSearches() error {
	want, err := planSearches(p.Config, func(T0, string) (float64, error) { return 0, nil })
	if err != nil {
		return err
	}
	if len(want) != len(p.Searches) {
		return fmt.Errorf("it lists %d searches, its configuration implies %d", len(p.Searches), len(want))
	}
	for i, w := range want {
		got := p.Searches[i]
		got.T0Value = 0
		if !sameJSON(got, w) {
			return fmt.Errorf("search %d is %s, its configuration implies %s", i+1, jsonString(p.Searches[i]), jsonString(w))
		}
	}
	return nil
}

// SearchConfig is the configuration of search j: the study's base search
// with j's objective, T0 and seed.
func (p *Plan) SearchConfig(j SearchJob) tunas.Config {
	c := p.Config.Search
	c.Objective, c.Seed = j.Objective, j.Seed
	c.Reward.T0 = j.T0Value
	return c
}

// Search returns the plan's search of the given name.
func (p *Plan) Search(name string) (SearchJob, bool) {
	for _, s := range p.Searches {
		if s.Name == name {
			return s, true
		}
	}
	return SearchJob{}, false
}

// Primary returns the study's primary search of a multi-target objective:
// its first search seed at the T0 matched to a reference model (or at the
// first T0 if none is matched). Reports and notebooks show its curves.
func (p *Plan) Primary(objective string) (SearchJob, error) {
	c := p.Config
	if len(c.SearchSeeds) == 0 || len(c.T0s) == 0 {
		return SearchJob{}, fmt.Errorf("study: no multi-target searches")
	}
	t0 := c.T0s[0]
	for _, t := range c.T0s {
		if t.Match != "" {
			t0 = t
			break
		}
	}
	for _, s := range p.Searches {
		if s.Group == GroupMulti && s.Objective == objective && s.T0 == t0 && s.Seed == c.SearchSeeds[0] {
			return s, nil
		}
	}
	return SearchJob{}, fmt.Errorf("study: no %s search in the plan", objective)
}

// Model is an architecture the study retrains: a reference model or a
// search's final architecture.
type Model struct {
	// Name is the reference model's name or the search's.
	Name  string `json:"name"`
	Group string `json:"group"`
	// Search is the search it comes from (searched models).
	Search *SearchJob `json:"search,omitempty"`
}

// Models lists the references, then the searched models in plan order.
func (p *Plan) Models() []Model {
	var out []Model
	for _, r := range p.Config.References {
		out = append(out, Model{Name: r, Group: GroupReference})
	}
	for _, s := range p.Searches {
		out = append(out, Model{Name: s.Name, Group: s.Group, Search: &s})
	}
	return out
}

// ReadPlan reads DIR/study.json.
func ReadPlan(dir string) (*Plan, error) {
	path := filepath.Join(dir, PlanFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("study: %s holds no study (no %s; create one with `multihw study plan --dir %s`): %w", dir, PlanFile, dir, err)
		}
		return nil, fmt.Errorf("study: %w", err)
	}
	p := &Plan{}
	if err := json.Unmarshal(raw, p); err != nil {
		return nil, fmt.Errorf("study: %s: %w", path, err)
	}
	if p.Format != Format {
		return nil, fmt.Errorf("study: %s has format %q, want %q", path, p.Format, Format)
	}
	if p.Config.Search.Space == nil {
		return nil, fmt.Errorf("study: %s: no search space in the configuration", path)
	}
	if err := p.Config.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := p.checkSearches(); err != nil {
		return nil, fmt.Errorf("study: %s: %w", path, err)
	}
	return p, nil
}

// WritePlan writes the plan into dir, or checks it against the one there:
// the same configuration keeps the existing plan (its creation time and
// searches; the estimate is replaced when p has one); another is an error,
// since the runs in dir belong to the existing plan.
func WritePlan(dir string, p *Plan) (*Plan, error) {
	old, err := ReadPlan(dir)
	switch {
	case err == nil:
		if !sameJSON(old.Config, p.Config) {
			return nil, fmt.Errorf("study: %s holds a study of another configuration; resume it with its own settings or choose another directory:\n  study: %s\n  given: %s",
				dir, jsonString(old.Config), jsonString(p.Config))
		}
		if !sameJSON(old.Searches, p.Searches) {
			return nil, fmt.Errorf("study: the cost model now resolves the T0s of %s differently than when it was planned (%s); the searches ran against the old costs: start a new study directory",
				dir, t0Diff(old.Searches, p.Searches))
		}
		if p.Estimate == nil && sameJSON(old.Caveats, p.Caveats) {
			return old, nil
		}
		if p.Estimate != nil {
			old.Estimate = p.Estimate
		}
		old.Caveats = p.Caveats
		if err := writeJSON(filepath.Join(dir, PlanFile), old); err != nil {
			return nil, err
		}
		return old, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	return newPlan(dir, p)
}

// ReplacePlan writes the plan into dir whatever plan was there (a smoke
// run's fresh start, with Runner.Overwrite): dir must be new, empty or a
// study directory, never another folder.
func ReplacePlan(dir string, p *Plan) (*Plan, error) {
	if _, err := ReadPlan(dir); err != nil {
		return newPlan(dir, p)
	}
	if err := writeJSON(filepath.Join(dir, PlanFile), p); err != nil {
		return nil, err
	}
	return p, nil
}

// newPlan writes p into dir, which holds no study: dir must be new or
// empty, so that a study's files never mix with another folder's (a typo
// in --dir must not turn a home directory into a study).
func newPlan(dir string, p *Plan) (*Plan, error) {
	entries, err := os.ReadDir(dir)
	if err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("study: %s is not empty and holds no study: refusing to write a plan into it (choose a new or empty directory)", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	if err := writeJSON(filepath.Join(dir, PlanFile), p); err != nil {
		return nil, err
	}
	return p, nil
}

// CheckCosts re-resolves the plan's T0s with today's cost model: an error
// if any moved (the searches would optimise against stale targets).
func (p *Plan) CheckCosts() error {
	m, err := p.Config.Search.Metric()
	if err != nil {
		return err
	}
	var moved []string
	for _, s := range p.Searches {
		v, err := s.T0.Resolve(m, s.Objective)
		if err != nil {
			return err
		}
		if math.Abs(v-s.T0Value) > 1e-9*math.Max(1, math.Abs(v)) {
			moved = append(moved, fmt.Sprintf("%s: planned %.4f, now %.4f", s.Name, s.T0Value, v))
		}
	}
	if len(moved) > 0 {
		return fmt.Errorf("study: the cost model changed since the study was planned, so its matched T0s moved (%s); start a new study directory", strings.Join(moved, "; "))
	}
	return nil
}

func t0Diff(a, b []SearchJob) string {
	var out []string
	for i := range min(len(a), len(b)) {
		if a[i].T0Value != b[i].T0Value {
			out = append(out, fmt.Sprintf("%s: %.4f then, %.4f now", a[i].Name, a[i].T0Value, b[i].T0Value))
		}
	}
	if len(out) == 0 {
		return "the list of searches differs"
	}
	return strings.Join(out, "; ")
}

// archKey identifies an architecture independently of its name: two models
// with equal keys are the same network and share their training runs.
func archKey(a *blocks.Arch) string {
	c := a.Clone()
	c.Name = ""
	return c.String()
}

func writeJSON(path string, v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("study: %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, append(raw, '\n'), 0o644); err != nil {
		return fmt.Errorf("study: %w", err)
	}
	return nil
}

func readJSON(path string, v any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func jsonString(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(raw)
}

func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
