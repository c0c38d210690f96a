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
	var an, anRef *blocks.Analysis // analysed once, costed under every variant
	for _, i := range m.fileTargets() {
		at := m.targets[i].(*Analytic)
		if at.post == nil {
			continue
		}
		if an == nil {
			var err error
			if an, err = blocks.Analyze(a, 0); err != nil {
				return nil, err
			}
			if anRef, err = blocks.Analyze(m.ref, 0); err != nil {
				return nil, err
			}
		}
		normalised := func(p Params) (float64, error) {
			tp, err := NewAnalytic(at.spec, p)
			if err != nil {
				return 0, err
			}
			ms, err := latencyOf(tp, a, an)
			if err != nil {
				return 0, err
			}
			ref, err := latencyOf(tp, m.ref, anRef)
			return ms / ref, err
		}
		norm, err := normalised(at.p)
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
				v, err := normalised(p)
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

// fileTargets returns the indices in m of its targets read from target
// files, in m's order.
func (m *Metric) fileTargets() []int {
	var out []int
	for i, t := range m.targets {
		if at, ok := t.(*Analytic); ok && at.spec.Group == GroupFile {
			out = append(out, i)
		}
	}
	return out
}

// latencyOf is the latency (ms) of a, analysed as an, on t.
func latencyOf(t Target, a *blocks.Arch, an *blocks.Analysis) (float64, error) {
	acc := make([]float64, t.Dims())
	if err := addArchCost(t, a, an, acc); err != nil {
		return 0, err
	}
	return t.Latency(acc), nil
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

// PriorBoundParams returns, for each target of m read from a target file,
// the parameters its data left prior-bound (none: no entry).
func (m *Metric) PriorBoundParams() map[string][]string {
	out := map[string][]string{}
	for _, i := range m.fileTargets() {
		if names := m.targets[i].(*Analytic).post.PriorBoundNames(); len(names) > 0 {
			out[m.names[i]] = names
		}
	}
	return out
}
