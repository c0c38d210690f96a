package hwcost

import (
	"fmt"
	"math"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/stats"
)

// DefaultReference is the model latencies are normalised to.
const DefaultReference = "mobilenet_v2"

// MetricConfig configures a Metric; create it with NewMetric, chain the
// options and call Done.
type MetricConfig struct {
	names   []string
	custom  []Target
	params  *ParamSet
	ref     *blocks.Arch
	refName string
	weights []float64
}

// NewMetric starts the configuration of a multi-hardware metric. Defaults: the
// paper's four targets, the embedded fitted parameters, MobileNetV2 1.0 at its
// resolution (224) as reference, equal weights.
func NewMetric() *MetricConfig {
	return &MetricConfig{names: PaperTargets(), refName: DefaultReference}
}

// Targets selects targets by name: built-in ones, the groups "paper", "mnv4"
// and "all", and registered ones (see RegisterTarget, e.g. "local").
func (c *MetricConfig) Targets(names ...string) *MetricConfig {
	c.names = names
	return c
}

// WithTargets adds custom targets (e.g. a Measured lookup table) after the named ones.
func (c *MetricConfig) WithTargets(ts ...Target) *MetricConfig {
	c.custom = append(c.custom, ts...)
	return c
}

// Params sets the parameters of the built-in targets (default: DefaultParams()).
func (c *MetricConfig) Params(ps *ParamSet) *MetricConfig {
	c.params = ps
	return c
}

// Reference sets the reference architecture (evaluated at its own resolution).
func (c *MetricConfig) Reference(a *blocks.Arch) *MetricConfig {
	c.ref, c.refName = a, ""
	return c
}

// ReferenceModel sets the reference to a named reference model of package blocks.
func (c *MetricConfig) ReferenceModel(name string) *MetricConfig {
	c.ref, c.refName = nil, name
	return c
}

// Weights sets the weights of the weighted average, one per target in order
// (built-in then custom); they are normalised to sum to 1.
func (c *MetricConfig) Weights(w ...float64) *MetricConfig {
	c.weights = w
	return c
}

// Done builds the metric: it resolves the targets and evaluates the reference.
func (c *MetricConfig) Done() (*Metric, error) {
	var ts []Target
	if len(c.names) > 0 {
		// Built-in targets, groups and registered ones (see RegisterTarget).
		var err error
		if ts, err = resolveTargets(c.names, c.params); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	for _, t := range ts {
		seen[t.Name()] = true
	}
	for _, t := range c.custom {
		if t == nil {
			return nil, fmt.Errorf("metric: custom target is nil")
		}
		if seen[t.Name()] {
			return nil, fmt.Errorf("metric: target %q given twice", t.Name())
		}
		seen[t.Name()] = true
		ts = append(ts, t)
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("metric: no targets")
	}
	m := &Metric{targets: ts, names: make([]string, len(ts)), offs: make([]int, len(ts)+1)}
	for i, t := range ts {
		if t.Dims() < 1 {
			return nil, fmt.Errorf("metric: target %s has %d cost dimensions", t.Name(), t.Dims())
		}
		m.names[i] = t.Name()
		m.offs[i+1] = m.offs[i] + t.Dims()
	}
	m.dims = m.offs[len(ts)]
	m.weights = make([]float64, len(ts))
	switch {
	case c.weights == nil:
		for i := range m.weights {
			m.weights[i] = 1 / float64(len(ts))
		}
	case len(c.weights) != len(ts):
		return nil, fmt.Errorf("metric: %d weights for %d targets %v", len(c.weights), len(ts), m.names)
	default:
		for i, w := range c.weights {
			if !(w >= 0) || math.IsInf(w, 0) {
				return nil, fmt.Errorf("metric: weight of %s must be finite and non-negative, got %g", m.names[i], w)
			}
		}
		if m.weights = stats.Proportions(c.weights); m.weights == nil {
			return nil, fmt.Errorf("metric: weights sum to 0")
		}
	}
	ref := c.ref
	m.refName = c.refName
	if ref == nil {
		var err error
		if ref, err = blocks.Model(c.refName); err != nil {
			return nil, fmt.Errorf("metric reference: %w", err)
		}
	} else if m.refName = ref.Name; m.refName == "" {
		m.refName = "reference"
	}
	m.ref = ref
	m.refMs = make([]float64, len(ts))
	if err := m.Latencies(ref, m.refMs); err != nil {
		return nil, fmt.Errorf("metric reference %s: %w", m.refName, err)
	}
	m.invRef = make([]float64, len(ts))
	for i, v := range m.refMs {
		if !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("metric reference %s: latency on %s is %g ms, need a positive finite value", m.refName, m.names[i], v)
		}
		m.invRef[i] = 1 / v
	}
	return m, nil
}

// Metric is the multi-hardware cost of Chu et al.: per-target latencies
// normalised to a reference, combined by mean, maximum or weighted mean.
// It is immutable and safe for concurrent use.
type Metric struct {
	targets []Target
	names   []string
	weights []float64
	offs    []int // offs[i] is the offset of target i's cost vector in a combined vector
	dims    int
	refName string
	ref     *blocks.Arch
	refMs   []float64
	invRef  []float64
}

// Scores are the combined normalised latencies of one architecture.
type Scores struct {
	// Avg is the mean of the normalised latencies, Max their maximum, Weighted
	// their weighted mean (equal to Avg with default weights).
	Avg, Max, Weighted float64
}

// TargetNames returns the metric's targets in order.
func (m *Metric) TargetNames() []string { return append([]string(nil), m.names...) }

// Target returns the i-th target (0 <= i < NumTargets(); like an index, it
// panics outside that range).
func (m *Metric) Target(i int) Target { return m.targets[i] }

// NumTargets returns the number of targets.
func (m *Metric) NumTargets() int { return len(m.targets) }

// Dims is the length of a combined cost vector (the sum of the targets' Dims).
func (m *Metric) Dims() int { return m.dims }

// Reference returns the reference model's name.
func (m *Metric) Reference() string { return m.refName }

// ReferenceLatencies returns the reference's latency (ms) on each target.
func (m *Metric) ReferenceLatencies() []float64 { return append([]float64(nil), m.refMs...) }

// Weights returns the normalised weights of the weighted average.
func (m *Metric) Weights() []float64 { return append([]float64(nil), m.weights...) }

// Latencies writes the latency (ms) of architecture a (at its resolution) on
// each target into ms (len NumTargets()).
func (m *Metric) Latencies(a *blocks.Arch, ms []float64) error {
	if len(ms) != len(m.targets) {
		return fmt.Errorf("metric: latency buffer has %d entries for %d targets", len(ms), len(m.targets))
	}
	an, err := blocks.Analyze(a, 0)
	if err != nil {
		return err
	}
	acc := make([]float64, m.dims)
	for i, t := range m.targets {
		v := acc[m.offs[i]:m.offs[i+1]]
		if err := addArchCost(t, a, an, v); err != nil {
			return err
		}
		ms[i] = t.Latency(v)
	}
	return nil
}

// Scores returns the scores of architecture a; buf (len ≥ NumTargets()) receives
// the normalised latencies. This is the generic path: one blocks.Analyze per
// call. A search should use a Table.
func (m *Metric) Scores(a *blocks.Arch, buf []float64) (Scores, error) {
	if len(buf) < len(m.targets) {
		return Scores{}, fmt.Errorf("metric: buffer has %d entries, need %d", len(buf), len(m.targets))
	}
	ms := buf[:len(m.targets)]
	if err := m.Latencies(a, ms); err != nil {
		return Scores{}, err
	}
	return m.normalize(ms), nil
}

// ScoresOf normalises per-target latencies ms (len NumTargets(), overwritten
// with the normalised values) and combines them.
func (m *Metric) ScoresOf(ms []float64) (Scores, error) {
	if len(ms) != len(m.targets) {
		return Scores{}, fmt.Errorf("metric: %d latencies for %d targets", len(ms), len(m.targets))
	}
	return m.normalize(ms), nil
}

// normalize turns latencies into normalised latencies in place and combines them.
func (m *Metric) normalize(ms []float64) Scores {
	for i := range ms {
		ms[i] *= m.invRef[i]
	}
	return m.scores(ms)
}

// scores returns the Scores of the normalised latencies r.
func (m *Metric) scores(r []float64) Scores {
	var s Scores
	s.Max = math.Inf(-1)
	for i, v := range r {
		s.Avg += v
		s.Weighted += m.weights[i] * v
		s.Max = max(s.Max, v) // no branch: which target is the slowest varies from call to call
	}
	s.Avg /= float64(len(r))
	return s
}

// finish computes normalised latencies from a combined cost vector into r.
func (m *Metric) finish(acc, r []float64) Scores {
	for i, t := range m.targets {
		r[i] = t.Latency(acc[m.offs[i]:m.offs[i+1]])
	}
	return m.normalize(r)
}

// Result is the full evaluation of one architecture.
type Result struct {
	Name       string             `json:"name,omitempty"`
	Resolution int                `json:"resolution"`
	MACs       int64              `json:"macs"`
	Params     int64              `json:"params"`
	Targets    []string           `json:"targets"`
	LatencyMs  map[string]float64 `json:"latency_ms"`
	Normalized map[string]float64 `json:"normalized"`
	Avg        float64            `json:"avg"`
	Max        float64            `json:"max"`
	Weighted   float64            `json:"weighted"`
	Weights    map[string]float64 `json:"weights"`
	Reference  string             `json:"reference"`
	// ReferenceMs is the reference's latency per target.
	ReferenceMs map[string]float64 `json:"reference_latency_ms"`
}

// Evaluate returns latencies, normalised latencies and scores of a.
func (m *Metric) Evaluate(a *blocks.Arch) (*Result, error) {
	an, err := blocks.Analyze(a, 0)
	if err != nil {
		return nil, err
	}
	ms := make([]float64, len(m.targets))
	if err := m.Latencies(a, ms); err != nil {
		return nil, err
	}
	res := &Result{Name: a.Name, Resolution: an.Resolution, MACs: an.MACs, Params: an.Params, Targets: m.TargetNames(),
		LatencyMs: map[string]float64{}, Normalized: map[string]float64{}, Weights: map[string]float64{},
		Reference: m.refName, ReferenceMs: map[string]float64{}}
	for i, n := range m.names {
		res.LatencyMs[n] = ms[i]
		res.ReferenceMs[n] = m.refMs[i]
		res.Weights[n] = m.weights[i]
	}
	s := m.normalize(ms)
	for i, n := range m.names {
		res.Normalized[n] = ms[i]
	}
	res.Avg, res.Max, res.Weighted = s.Avg, s.Max, s.Weighted
	return res, nil
}

// SegmentLatencies writes into ms, per target, the latency of segment s on its
// own: Latency(cost of s) − Latency(0), i.e. without per-inference overheads.
// For the analytic targets it is the sum of the segment's layer latencies.
func (m *Metric) SegmentLatencies(s Segment, ms []float64) error {
	if len(ms) != len(m.targets) {
		return fmt.Errorf("metric: latency buffer has %d entries for %d targets", len(ms), len(m.targets))
	}
	acc := make([]float64, m.dims)
	zero := make([]float64, m.dims)
	for i, t := range m.targets {
		v := acc[m.offs[i]:m.offs[i+1]]
		if err := t.AddCost(s, v); err != nil {
			return err
		}
		ms[i] = t.Latency(v) - t.Latency(zero[m.offs[i]:m.offs[i+1]])
	}
	return nil
}

// BlockLatencies returns, per target, the latency (ms) of block b applied to an
// input of inC channels and inSize×inSize positions (see SegmentLatencies).
func (m *Metric) BlockLatencies(b blocks.Block, inC, inSize int) ([]float64, error) {
	ms := make([]float64, len(m.targets))
	return ms, m.SegmentLatencies(BlockSegment(b, inC, inSize), ms)
}

// Breakdowns returns the per-layer latencies of a on each analytic target
// (other targets are skipped).
func (m *Metric) Breakdowns(a *blocks.Arch) ([]Breakdown, error) {
	an, err := blocks.Analyze(a, 0)
	if err != nil {
		return nil, err
	}
	var out []Breakdown
	for _, t := range m.targets {
		if at, ok := t.(*Analytic); ok {
			bd, err := at.Breakdown(a, an)
			if err != nil {
				return nil, err
			}
			out = append(out, bd)
		}
	}
	return out, nil
}
