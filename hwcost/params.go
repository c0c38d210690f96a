package hwcost

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"

	"github.com/multihw/multihw/internal/memlimit"
	"github.com/multihw/multihw/internal/strictjson"
)

// ParamSet holds the parameters of the built-in targets, as written by the fit
// (params.json) or read from a file.
type ParamSet struct {
	// Note says how the set was made (e.g. "fitted by multihw cost fit").
	Note string `json:"note,omitempty"`
	// Anchors identifies the latency data the set was fitted to.
	Anchors string `json:"anchors,omitempty"`
	// Targets maps target names to their parameters.
	Targets map[string]Params `json:"targets"`
	// Posteriors holds the fitted targets' parameter uncertainty (see
	// Posterior); targets without one keep their priors' widths.
	Posteriors map[string]*Posterior `json:"posteriors,omitempty"`
	// Roofline holds, for the targets whose fit chose a smaller form than the
	// roofline (fitform.go), the roofline form's fit: their parameters when
	// they are the prior of another device's fit (Library, reference
	// devices), since a term the form switched off (a zero overhead) cannot
	// come back in a log-space fit.
	Roofline map[string]Params `json:"roofline,omitempty"`
	// Ranking holds, for the targets fitted on published rows, how their
	// model ranks those rows held out against plain MACs (Metric.Caveats).
	Ranking map[string]*RankCheck `json:"ranking,omitempty"`
}

// PriorCentre returns target name's parameters as the centre of another
// device's prior: its roofline fit (Roofline) if its own form is smaller,
// else its parameters; ok is false if the set does not hold the target.
func (ps *ParamSet) PriorCentre(name string) (p Params, ok bool) {
	if p, ok = ps.Roofline[name]; ok {
		return p, true
	}
	p, ok = ps.Targets[name]
	return p, ok
}

//go:embed params.json
var embeddedParams []byte

var (
	defaultOnce   sync.Once
	defaultParams *ParamSet
	defaultErr    error // checked by the tests
)

// DefaultParams returns the fitted parameters embedded in the package
// (params.json, written by `multihw cost fit`). Targets missing from it use
// their priors. The returned set is shared: do not modify it (Clone first).
func DefaultParams() *ParamSet {
	defaultOnce.Do(func() {
		defaultParams, defaultErr = ParseParams(embeddedParams)
		if defaultErr != nil {
			// params.json is generated and checked by the tests; should it ever
			// be broken, say so in the set rather than panic.
			defaultParams = PriorParams()
			defaultParams.Note = fmt.Sprintf("embedded params.json unreadable (%v): priors used", defaultErr)
		}
	})
	return defaultParams
}

// PriorParams returns the prior parameters of all built-in targets.
func PriorParams() *ParamSet {
	ps := &ParamSet{Note: "priors (specs.go), not fitted", Targets: map[string]Params{}}
	for _, s := range specs {
		ps.Targets[s.Name] = s.Prior
	}
	return ps
}

// Clone returns a deep copy.
func (ps *ParamSet) Clone() *ParamSet {
	c := *ps
	c.Targets = make(map[string]Params, len(ps.Targets))
	for k, v := range ps.Targets {
		c.Targets[k] = v
	}
	if ps.Posteriors != nil {
		c.Posteriors = make(map[string]*Posterior, len(ps.Posteriors))
		for k, v := range ps.Posteriors {
			c.Posteriors[k] = v // read-only
		}
	}
	if ps.Roofline != nil {
		c.Roofline = make(map[string]Params, len(ps.Roofline))
		for k, v := range ps.Roofline {
			c.Roofline[k] = v
		}
	}
	if ps.Ranking != nil {
		c.Ranking = make(map[string]*RankCheck, len(ps.Ranking))
		for k, v := range ps.Ranking {
			c.Ranking[k] = v // read-only
		}
	}
	return &c
}

// ParseParams decodes and validates a parameter set, strictly (see
// internal/strictjson). Unknown targets and fields are errors.
func ParseParams(data []byte) (*ParamSet, error) {
	ps := &ParamSet{}
	if err := strictjson.Unmarshal(data, ps); err != nil {
		return nil, fmt.Errorf("parsing hardware parameters: %w", err)
	}
	names := make([]string, 0, len(ps.Targets))
	for n := range ps.Targets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, err := LookupSpec(n); err != nil {
			return nil, fmt.Errorf("hardware parameters: %w", err)
		}
		if err := ps.Targets[n].Validate(); err != nil {
			return nil, fmt.Errorf("hardware parameters of %s: %w", n, err)
		}
	}
	for n, p := range ps.Roofline {
		if _, ok := ps.Targets[n]; !ok {
			return nil, fmt.Errorf("hardware parameters: roofline fit of %s, which has no parameters", n)
		}
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("hardware parameters: roofline fit of %s: %w", n, err)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(ps.Ranking)) {
		if _, ok := ps.Targets[n]; !ok {
			return nil, fmt.Errorf("hardware parameters: rank check of %s, which has no parameters", n)
		}
		if ps.Ranking[n] == nil {
			return nil, fmt.Errorf("hardware parameters: rank check of %s: null", n)
		}
		if err := ps.Ranking[n].Validate(); err != nil {
			return nil, fmt.Errorf("hardware parameters: %s: %w", n, err)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(ps.Posteriors)) {
		po := ps.Posteriors[n]
		if _, ok := ps.Targets[n]; !ok {
			return nil, fmt.Errorf("hardware parameters: posterior of %s, which has no parameters", n)
		}
		if po == nil {
			return nil, fmt.Errorf("hardware parameters: posterior of %s: null", n)
		}
		if err := po.Validate(); err != nil {
			return nil, fmt.Errorf("hardware parameters of %s: %w", n, err)
		}
		if err := po.Matches(ps.Targets[n]); err != nil {
			return nil, fmt.Errorf("hardware parameters of %s: %w", n, err)
		}
	}
	return ps, nil
}

// LoadParams reads a parameter set from a JSON file. The name "prior" returns
// PriorParams() and "default" or "" DefaultParams().
func LoadParams(path string) (*ParamSet, error) {
	switch path {
	case "", "default":
		return DefaultParams(), nil
	case "prior":
		return PriorParams(), nil
	}
	data, err := memlimit.ReadFile(path, "hardware parameters", 16<<20)
	if err != nil {
		return nil, fmt.Errorf("reading hardware parameters: %w", err)
	}
	ps, err := ParseParams(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ps, nil
}

// JSON returns the indented JSON form (targets in name order).
func (ps *ParamSet) JSON() []byte {
	b, err := json.MarshalIndent(ps, "", "  ")
	if err != nil { // plain values only
		panic(err)
	}
	return append(b, '\n')
}
