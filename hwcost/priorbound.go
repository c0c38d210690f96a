package hwcost

import (
	"fmt"
	"math"

	"github.com/multihw/multihw/blocks"
)

// Status names what the data did to parameter k's prior: "constrained"
// (posterior below half the prior width), "prior-bound" (above 90% of it:
// the data leave the prior's spread) or "narrowed" (in between).
func (po *Posterior) Status(k int) string {
	switch {
	case po.Constrained(k):
		return "constrained"
	case po.PriorBound(k):
		return "prior-bound"
	}
	return "narrowed"
}

// PriorBoundNames returns the parameters the data left prior-bound, in
// po's order (empty, not nil, when there are none or po is nil).
func (po *Posterior) PriorBoundNames() []string {
	names := []string{}
	if po == nil {
		return names
	}
	for k, n := range po.Names {
		if po.PriorBound(k) {
			names = append(names, n)
		}
	}
	return names
}

// PriorBoundEffect is how far one prior-bound parameter of a target moves an
// architecture's normalised latency on it: a value the target's data did not
// decide, so a search on that target inherits it from the prior.
type PriorBoundEffect struct {
	Target string `json:"target"`
	Param  string `json:"param"`
	// Width is the parameter's posterior width as a factor (one standard
	// deviation in log space; for a prior-bound parameter about its prior's).
	Width float64 `json:"width"`
	// Normalised is the architecture's normalised latency on the target;
	// Low and High are its least and greatest value with the parameter
	// divided and multiplied by Width, the others at their fitted values.
	Normalised float64 `json:"normalised"`
	Low        float64 `json:"low"`
	High       float64 `json:"high"`
}

// PriorBound returns, for every target of m read from a target file (a
// device adapted from a few measurements: `multihw cost adapt`), the effect
// of each parameter its data left prior-bound on a's normalised latency.
// The built-in targets' prior-bound parameters are in hwcost/FIT_REPORT.md;
// `multihw cost sensitivity` draws all parameters jointly.
func (m *Metric) PriorBound(a *blocks.Arch) ([]PriorBoundEffect, error) {
	var out []PriorBoundEffect
	for i, t := range m.targets {
		at, ok := t.(*Analytic)
		if !ok || at.spec.Group != GroupFile || at.post == nil {
			continue
		}
		norm, err := normalisedOn(at, at.p, a, m.ref)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.names[i], err)
		}
		for k, name := range at.post.Names {
			if !at.post.PriorBound(k) {
				continue
			}
			e := PriorBoundEffect{Target: m.names[i], Param: name, Width: math.Exp(at.post.SD(k)), Normalised: norm,
				Low: math.Inf(1), High: math.Inf(-1)}
			for _, f := range []float64{1 / e.Width, e.Width} {
				p, err := scaleParam(at.p, name, f)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", m.names[i], err)
				}
				v, err := normalisedOn(at, p, a, m.ref)
				if err != nil {
					return nil, fmt.Errorf("%s with %s ×%.3g: %w", m.names[i], name, f, err)
				}
				e.Low, e.High = min(e.Low, v), max(e.High, v)
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// scaleParam returns p with the fitted parameter name multiplied by f.
func scaleParam(p Params, name string, f float64) (Params, error) {
	for _, fp := range targetParams {
		if fp.name == name {
			*fp.field(&p) *= f
			return p, nil
		}
	}
	return p, fmt.Errorf("unknown parameter %q", name)
}

// normalisedOn is a's latency over ref's on t's model with parameters p.
func normalisedOn(t *Analytic, p Params, a, ref *blocks.Arch) (float64, error) {
	tp, err := NewAnalytic(t.spec, p)
	if err != nil {
		return 0, err
	}
	m, err := NewMetric().Targets().WithTargets(tp).Reference(ref).Done()
	if err != nil {
		return 0, err
	}
	ms := make([]float64, 1)
	if err := m.Latencies(a, ms); err != nil {
		return 0, err
	}
	return ms[0] / m.refMs[0], nil
}

// PriorBoundParams returns, for each target of m read from a target file,
// the parameters its data left prior-bound (none: no entry).
func (m *Metric) PriorBoundParams() map[string][]string {
	out := map[string][]string{}
	for i, t := range m.targets {
		if at, ok := t.(*Analytic); ok && at.spec.Group == GroupFile {
			if names := at.post.PriorBoundNames(); len(names) > 0 {
				out[m.names[i]] = names
			}
		}
	}
	return out
}
