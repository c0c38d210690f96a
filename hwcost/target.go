package hwcost

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/multihw/multihw/blocks"
)

// Target is the latency model of one hardware target.
//
// A target costs an architecture in two steps so that a search can precompute
// the first: each Segment contributes an additive cost vector of Dims() numbers
// (AddCost), and Latency turns the sum over all segments of an architecture into
// milliseconds. For a plain per-segment lookup table Dims is 1 and Latency adds
// a constant; the analytic models carry the weight bytes as a second component
// because on-chip parameter caching depends on the whole model's weights.
type Target interface {
	// Name is the target's identifier, e.g. "pixel4-dsp".
	Name() string
	// Dims is the length of the target's cost vectors (at least 1).
	Dims() int
	// AddCost adds the cost vector of segment s to acc; a len(acc) other than
	// Dims() is an error.
	AddCost(s Segment, acc []float64) error
	// Latency returns the latency in milliseconds of an architecture whose
	// segments' cost vectors sum to acc (len Dims(): the callers, Metric and
	// Table, guarantee it). It must not modify acc or allocate: it runs in the
	// search's inner loop.
	Latency(acc []float64) float64
}

// LayerTarget is a Target that costs primitive layers one by one. Metric uses
// it to cost a whole architecture from a single blocks.Analyze. (An Analytic
// target with Params.Overlap also needs the wiring of each block: Metric
// costs it through its plan.)
type LayerTarget interface {
	Target
	// AddLayerCost adds the cost vector of one layer to acc.
	AddLayerCost(l *blocks.Layer, acc []float64)
}

// Measured is a Target backed by a table of measured segment latencies (e.g.
// per-block timings on this machine): the latency of an architecture is the sum
// of its segments' entries plus a fixed per-inference overhead. Segments
// without an entry are errors.
type Measured struct {
	name    string
	fixedMs float64
	ms      map[string]float64
}

// NewMeasured returns an empty measured target with the given fixed overhead (ms).
func NewMeasured(name string, fixedMs float64) *Measured {
	return &Measured{name: name, fixedMs: fixedMs, ms: map[string]float64{}}
}

// Set records the measured latency (ms) of segment s.
func (t *Measured) Set(s Segment, ms float64) error {
	if !(ms >= 0) || math.IsInf(ms, 0) {
		return fmt.Errorf("target %s: latency of %s must be a finite non-negative number, got %g", t.name, s.Key(), ms)
	}
	t.ms[s.Key()] = ms
	return nil
}

// Name implements Target.
func (t *Measured) Name() string { return t.name }

// Dims implements Target.
func (t *Measured) Dims() int { return 1 }

// AddCost implements Target.
func (t *Measured) AddCost(s Segment, acc []float64) error {
	if len(acc) != 1 {
		return fmt.Errorf("target %s: cost vector has %d entries, want 1", t.name, len(acc))
	}
	v, ok := t.ms[s.Key()]
	if !ok {
		return fmt.Errorf("target %s: no measurement for segment %q", t.name, s.Key())
	}
	acc[0] += v
	return nil
}

// Latency implements Target.
func (t *Measured) Latency(acc []float64) float64 { return acc[0] + t.fixedMs }

// affineLatency implements the table's fast path (see Table).
func (t *Measured) affineLatency() (fixed, rate, free float64) { return t.fixedMs, 0, 0 }

// ArchLatency returns the latency (ms) of architecture a at the given
// resolution (0 = its own) on target t.
func ArchLatency(t Target, a *blocks.Arch, resolution int) (float64, error) {
	an, err := blocks.Analyze(a, resolution)
	if err != nil {
		return 0, err
	}
	acc := make([]float64, t.Dims())
	if err := addArchCost(t, a, an, acc); err != nil {
		return 0, err
	}
	return t.Latency(acc), nil
}

// addArchCost adds the cost vector of a whole architecture to acc.
func addArchCost(t Target, a *blocks.Arch, an *blocks.Analysis, acc []float64) error {
	if at, ok := t.(*Analytic); ok {
		return at.addArchCost(a, an, acc)
	}
	if lt, ok := t.(LayerTarget); ok {
		for i := range an.Layers {
			lt.AddLayerCost(&an.Layers[i], acc)
		}
		return nil
	}
	for _, s := range segmentsOf(a, an) {
		if err := t.AddCost(s, acc); err != nil {
			return err
		}
	}
	return nil
}

// Precision is the numeric format a target runs models in.
type Precision string

// Precisions.
const (
	Int8 Precision = "int8"
	FP16 Precision = "fp16"
	FP32 Precision = "fp32"
)

// Bytes returns the bytes per element.
func (p Precision) Bytes() (float64, error) {
	switch p {
	case Int8:
		return 1, nil
	case FP16:
		return 2, nil
	case FP32:
		return 4, nil
	}
	return 0, fmt.Errorf("unknown precision %q (valid: int8, fp16, fp32)", string(p))
}

// Spec describes a built-in hardware target: the device, how it runs models,
// which published latencies describe it, and the prior of its parameters.
type Spec struct {
	Name string
	// Device is the chip and compute unit, Runtime how models were run on it.
	Device, Runtime string
	Precision       Precision
	// Group is "paper" for the four targets of Chu et al., "mnv4" for the
	// MobileNetV4 paper's targets, "bench" for devices known from benchmark
	// measurements only.
	Group string
	// Prior is the physically motivated starting point the fit is regularised
	// towards; PriorNotes says where its values come from.
	Prior      Params
	PriorNotes string
	// AnchorHardware and AnchorPrecision select the rows of latency_anchors.csv
	// measured on this target (hardware column equal, precision column prefix).
	AnchorHardware, AnchorPrecision string
	// AnchorSkip leaves out the rows of the named models, with the reason
	// (e.g. a measurement protocol that differs from the target's other rows).
	AnchorSkip map[string]string
	// Bench lists benchmark measurements the target is fitted to as well.
	Bench []BenchColumn
	// PriorFrom names a target whose fitted op efficiencies, widened by
	// TransferSigma, are this target's priors for them (see Transfer).
	PriorFrom string
}

// TargetNames returns the names of the built-in targets, paper targets first.
func TargetNames() []string {
	n := make([]string, len(specs))
	for i, s := range specs {
		n[i] = s.Name
	}
	return n
}

// PaperTargets returns the four targets of Chu et al.: Pixel 4 CPU, GPU, DSP and EdgeTPU.
func PaperTargets() []string { return groupNames("paper") }

// MNv4Targets returns the seven targets of the MobileNetV4 paper (Pixel 4 DSP included).
func MNv4Targets() []string {
	return []string{"pixel6-cpu", "pixel8-edgetpu", "pixel4-dsp", "pixel7-gpu", "s23-cpu", "s23-gpu", "iphone13-ane"}
}

func groupNames(g string) []string {
	var n []string
	for _, s := range specs {
		if s.Group == g {
			n = append(n, s.Name)
		}
	}
	return n
}

// LookupSpec returns the spec of a built-in target, or an error listing the valid names.
func LookupSpec(name string) (Spec, error) {
	for _, s := range specs {
		if s.Name == name {
			return s, nil
		}
	}
	return Spec{}, unknownTarget(name)
}

func unknownTarget(name string) error {
	n := TargetNames()
	sort.Strings(n)
	return fmt.Errorf("unknown hardware target %q (valid targets: %s)", name, strings.Join(n, ", "))
}

// Lookup returns the analytic model of a built-in target with the parameters
// of ps (nil = DefaultParams()).
func Lookup(name string, ps *ParamSet) (*Analytic, error) {
	spec, err := LookupSpec(name)
	if err != nil {
		return nil, err
	}
	if ps == nil {
		ps = DefaultParams()
	}
	p, ok := ps.Targets[name]
	if !ok {
		p = spec.Prior
	}
	t, err := NewAnalytic(spec, p)
	if err == nil {
		t.unfitted = !ok
		if ok { // a fit's uncertainty and rank check describe its parameters, not the prior
			t.post, t.rank = ps.Posteriors[name], ps.Ranking[name]
		}
	}
	return t, err
}

// ExpandTargets resolves a list of target names in which "paper", "mnv4" and
// "all" stand for the groups, dropping duplicates.
func ExpandTargets(names []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, n := range names {
		n = strings.TrimSpace(n)
		switch n {
		case "":
			continue
		case "paper":
			for _, m := range PaperTargets() {
				add(m)
			}
		case "mnv4":
			for _, m := range MNv4Targets() {
				add(m)
			}
		case "all":
			for _, m := range TargetNames() {
				add(m)
			}
		default:
			if _, err := LookupSpec(n); err != nil {
				return nil, fmt.Errorf("%w; or one of the groups paper, mnv4, all", err)
			}
			add(n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no hardware targets given (valid targets: %s)", strings.Join(TargetNames(), ", "))
	}
	return out, nil
}
