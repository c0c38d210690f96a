package hwcost

import (
	"fmt"

	"github.com/multihw/multihw/blocks"
)

// Params are the parameters of an analytic (roofline) target. Rates are per
// second, sizes in decimal units (1 GB = 10⁹ bytes, 1 MB = 10⁶ bytes).
type Params struct {
	// PeakGMACs is the sustained MAC rate of large 1×1 convolutions, in 10⁹ MAC/s.
	PeakGMACs float64 `json:"peak_gmacs"`
	// Efficiencies of the other op kinds relative to a 1×1 convolution
	// (dimensionless). A full k×k convolution is costed by the shape of its
	// GEMM: EffConv when it reads fewer than FeatureChannels channels per
	// group (the stem on the image: a short reduction), EffFused otherwise (a
	// dense conv on feature maps: fused-IBN expansions, MobileNetV4 "cn"
	// layers, NAS-Bench-201 and ResNet convs). Then depthwise, fully
	// connected, and average pooling, whose work is k² additions per output.
	EffConv  float64 `json:"eff_conv"`
	EffFused float64 `json:"eff_fused"`
	EffDW    float64 `json:"eff_dw"`
	EffFC    float64 `json:"eff_fc"`
	EffPool  float64 `json:"eff_pool"`
	// BandwidthGBs is the memory bandwidth for activations and streamed
	// weights, in GB/s. PeakGMACs / BandwidthGBs is the ridge point (MACs/byte).
	BandwidthGBs float64 `json:"bandwidth_gbs"`
	// LayerOverheadUs is the fixed cost of each primitive op with weights
	// (convolutions, fully connected), in µs: dispatch, synchronisation.
	LayerOverheadUs float64 `json:"layer_overhead_us"`
	// EltwiseOverheadUs is the same for the ops without weights (additions,
	// pooling, standalone activations, channel shuffles), in µs.
	EltwiseOverheadUs float64 `json:"eltwise_overhead_us"`
	// FixedOverheadMs is the cost of one inference independent of the model
	// (invocation, driver round trip, input/output copies), in ms.
	FixedOverheadMs float64 `json:"fixed_overhead_ms"`
	// OnChipMB is the on-chip memory that caches parameters (EdgeTPU-class),
	// in MB; 0 means weights are streamed with every layer. With caching, only
	// the weights beyond OnChipMB are streamed, once per inference.
	OnChipMB float64 `json:"on_chip_mb"`
	// RunsDeadOps says whether the runtime executes ops that cannot affect
	// the output (blocks.Layer.Dead): eager frameworks (PyTorch) do, graph
	// compilers (TFLite, SNPE, EdgeTPU) remove them.
	RunsDeadOps bool `json:"runs_dead_ops,omitempty"`
	// RunsConstantOps says whether a runtime that removes dead ops still
	// runs those whose result is used (blocks.Layer.Unused false): ops that
	// read a value the input never reaches, a constant a graph compiler
	// would fold. A pruning pass without constant folding does: HW-NAS-Bench's
	// Raspberry Pi 4 and Pixel 3 columns of NAS-Bench-201 follow the used ops
	// (Spearman 0.962 and 0.961 for a linear model of the counts of used ops,
	// 0.907 and 0.909 of live ops), BRP-NAS's compiled ones the live ops.
	// Implied by RunsDeadOps.
	RunsConstantOps bool `json:"runs_constant_ops,omitempty"`
	// Unfused says that the BatchNorm and activation after a convolution
	// run as kernels of their own (eager GPU frameworks), each costing
	// EltwiseOverheadUs and a read and a write of the output.
	Unfused bool `json:"unfused,omitempty"`
	// Overlap is the share of a block's parallel-branch time that the
	// runtime hides by running independent ops concurrently (inter-op
	// parallelism, several streams): a block costs the sum of its ops minus
	// Overlap × (that sum − the longest path through the block), in [0, 1].
	// It only matters for blocks whose ops are not one chain (NAS-Bench-201
	// cells, ResNet blocks with a projection shortcut); 0 runs ops one at a
	// time, as the built-in targets do.
	Overlap float64 `json:"overlap,omitempty"`
}

// FeatureChannels is the input depth (per group) from which a full k×k
// convolution counts as a dense conv on feature maps (Params.EffFused) rather
// than a conv on the image (Params.EffConv).
const FeatureChannels = 8

// RidgePoint returns PeakGMACs / BandwidthGBs in MACs per byte.
func (p Params) RidgePoint() float64 { return p.PeakGMACs / p.BandwidthGBs }

// Parameter bounds: rates and efficiencies in [MinRate, MaxParam], overheads
// and on-chip memory in [0, MaxParam]. They only keep the arithmetic finite
// (a fit that the data do not constrain may still return a rate far above
// any hardware): for any architecture within blocks' size bounds a latency
// is at most about MaxMACs / MinRate = 1e28 ms plus overheads of at most
// MaxParam per layer.
const (
	MinRate  = 1e-12
	MaxParam = 1e30
)

// Validate checks that rates and efficiencies are positive and overheads and
// on-chip memory non-negative, all finite and within the bounds above.
func (p Params) Validate() error {
	pos := []struct {
		name string
		v    float64
	}{{"peak_gmacs", p.PeakGMACs}, {"eff_conv", p.EffConv}, {"eff_fused", p.EffFused}, {"eff_dw", p.EffDW},
		{"eff_fc", p.EffFC}, {"eff_pool", p.EffPool}, {"bandwidth_gbs", p.BandwidthGBs}}
	for _, f := range pos {
		if !(f.v >= MinRate && f.v <= MaxParam) {
			return fmt.Errorf("parameter %s must be in [%g, %g], got %g", f.name, MinRate, MaxParam, f.v)
		}
	}
	nonneg := []struct {
		name string
		v    float64
	}{{"layer_overhead_us", p.LayerOverheadUs}, {"eltwise_overhead_us", p.EltwiseOverheadUs},
		{"fixed_overhead_ms", p.FixedOverheadMs}, {"on_chip_mb", p.OnChipMB}}
	for _, f := range nonneg {
		if !(f.v >= 0 && f.v <= MaxParam) {
			return fmt.Errorf("parameter %s must be in [0, %g], got %g", f.name, MaxParam, f.v)
		}
	}
	if !(p.Overlap >= 0 && p.Overlap <= 1) {
		return fmt.Errorf("parameter overlap must be in [0, 1], got %g", p.Overlap)
	}
	return nil
}

// op indices of the per-op rate table.
const (
	opConv = iota
	opFused
	opPW
	opDW
	opFC
	opPool  // windowed average pooling: k² additions per output
	opOther // global pooling, additions, activations, shuffles: memory only
	numOps
)

// opClass returns the rate class of a layer (see Params).
func opClass(l *blocks.Layer) int {
	switch l.Op {
	case blocks.OpConv:
		if l.InC/max(l.Groups, 1) < FeatureChannels {
			return opConv
		}
		return opFused
	case blocks.OpFused:
		return opFused
	case blocks.OpPW:
		return opPW
	case blocks.OpDW:
		return opDW
	case blocks.OpFC:
		return opFC
	case blocks.OpPool:
		if l.OutSize > 1 || l.Kernel < l.InSize {
			return opPool // windowed
		}
	}
	return opOther // global pooling and the element-wise ops
}

// Analytic is the roofline latency model of one target. Per primitive layer:
//
//	ms = max(work / (PeakGMACs · eff[op]), bytes / BandwidthGBs) + overhead
//
// where work is the MACs (k² additions per output for average pooling), bytes
// are the input and output activations plus, without on-chip caching, the
// weights, all at the target's precision, and the overhead is
// LayerOverheadUs for layers with weights, EltwiseOverheadUs for the others.
// Dead layers cost nothing unless RunsDeadOps (or, the used ones,
// RunsConstantOps); Unfused adds the separate
// BatchNorm and activation kernels of convolutions. Per inference it adds
// FixedOverheadMs and, with caching, the streaming of the weights beyond
// OnChipMB. Its cost vectors are [layer ms, weight bytes].
type Analytic struct {
	spec  Spec
	p     Params
	bytes float64 // per element
	// msPerMAC[op] = 1 / (rate of op) in ms; msPerByte likewise; ovhMs per layer.
	msPerMAC  [numOps]float64
	msPerByte float64
	ovhMs     float64
	eltOvhMs  float64
	cache     bool
	onChipB   float64
	// post is the parameters' uncertainty when known (the fit's Posterior),
	// for Sensitivity.
	post *Posterior
	// rank is how the fitted model ranks its published rows held out
	// (ParamSet.Ranking), for Metric.Caveats.
	rank *RankCheck
	// unfitted marks a built-in target whose parameter set had no entry for
	// it (a fit of other targets only): Lookup gave it its prior, which
	// Metric.Caveats says.
	unfitted bool
}

// NewAnalytic returns the analytic model of spec with parameters p.
func NewAnalytic(spec Spec, p Params) (*Analytic, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("target %s: %w", spec.Name, err)
	}
	b, err := spec.Precision.Bytes()
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", spec.Name, err)
	}
	t := &Analytic{spec: spec, p: p, bytes: b}
	t.setRates()
	return t, nil
}

func (t *Analytic) setRates() {
	p := &t.p
	perMAC := 1 / (p.PeakGMACs * 1e6) // ms per MAC at efficiency 1
	t.msPerMAC = [numOps]float64{
		opConv:  perMAC / p.EffConv,
		opFused: perMAC / p.EffFused,
		opPW:    perMAC,
		opDW:    perMAC / p.EffDW,
		opFC:    perMAC / p.EffFC,
		opPool:  perMAC / p.EffPool,
		opOther: 0,
	}
	t.msPerByte = 1 / (p.BandwidthGBs * 1e6)
	t.ovhMs = p.LayerOverheadUs / 1e3
	t.eltOvhMs = p.EltwiseOverheadUs / 1e3
	t.cache = p.OnChipMB > 0
	t.onChipB = p.OnChipMB * 1e6
}

// Name implements Target.
func (t *Analytic) Name() string { return t.spec.Name }

// Spec returns the target's description.
func (t *Analytic) Spec() Spec { return t.spec }

// Params returns the target's parameters.
func (t *Analytic) Params() Params { return t.p }

// Posterior returns the uncertainty of the target's parameters (nil when
// unknown, e.g. priors).
func (t *Analytic) Posterior() *Posterior { return t.post }

// Dims implements Target: [layer ms, weight bytes].
func (t *Analytic) Dims() int { return 2 }

// Bound says what limits a layer on a target.
type Bound string

// Bounds.
const (
	ComputeBound Bound = "compute"
	MemoryBound  Bound = "memory"
	// Removed is a dead layer on a runtime that drops it (all dead ops, or
	// the unused ones).
	Removed Bound = "removed"
)

// LayerMs returns the latency of one layer in ms (including the per-layer
// overhead, excluding per-inference costs) and what bounds it.
func (t *Analytic) LayerMs(l *blocks.Layer) (float64, Bound) {
	if l.Dead && !t.p.RunsDeadOps && (l.Unused || !t.p.RunsConstantOps) {
		return 0, Removed
	}
	cls := opClass(l)
	work, ovh := float64(l.MACs), t.ovhMs
	switch cls {
	case opPool:
		work, ovh = float64(l.Kernel*l.Kernel)*float64(l.OutElems), t.eltOvhMs
	case opOther:
		ovh = t.eltOvhMs
	}
	c := work * t.msPerMAC[cls]
	bytes := float64(l.InElems + l.OutElems)
	if !t.cache {
		bytes += float64(l.Weights)
	}
	m := bytes * t.bytes * t.msPerByte
	if t.p.Unfused && cls != opFC && cls != opPool && cls != opOther && l.Params > l.Weights {
		// BatchNorm (a conv with BatchNorm has more parameters than deployed
		// weights) and the activation, unfused.
		k := 1.0
		if l.Activated {
			k = 2
		}
		ovh += k * (t.eltOvhMs + 2*float64(l.OutElems)*t.bytes*t.msPerByte)
	}
	if c >= m {
		return c + ovh, ComputeBound
	}
	return m + ovh, MemoryBound
}

// AddLayerCost implements LayerTarget. len(acc) must be Dims() (2).
func (t *Analytic) AddLayerCost(l *blocks.Layer, acc []float64) {
	ms, b := t.LayerMs(l)
	if b == Removed {
		return
	}
	acc[0] += ms
	acc[1] += float64(l.Weights) * t.bytes
}

// AddCost implements Target.
func (t *Analytic) AddCost(s Segment, acc []float64) error {
	if len(acc) != 2 {
		return fmt.Errorf("target %s: cost vector has %d entries, want 2", t.Name(), len(acc))
	}
	ls, err := s.Layers()
	if err != nil {
		return err
	}
	for i := range ls {
		t.AddLayerCost(&ls[i], acc)
	}
	if t.p.Overlap > 0 {
		acc[0] -= t.overlapMs(s.plan(), ls)
	}
	return nil
}

// overlapMs is the time concurrent execution hides in one part (stem, block
// or head) of plan p whose layers are ls (Analyze's, in plan order):
// Overlap × (sum − longest path) of the layers' times.
func (t *Analytic) overlapMs(p blocks.Plan, ls []blocks.Layer) float64 {
	g, parallel := newPartGraph(p)
	if !parallel || t.p.Overlap == 0 {
		return 0
	}
	return t.p.Overlap * g.hidden(func(i int) float64 {
		ms, _ := t.LayerMs(&ls[i])
		return ms
	}, nil)
}

// addArchCost adds the cost vector of architecture a (analysis an) to acc,
// parallel branches included.
func (t *Analytic) addArchCost(a *blocks.Arch, an *blocks.Analysis, acc []float64) error {
	for i := range an.Layers {
		t.AddLayerCost(&an.Layers[i], acc)
	}
	if t.p.Overlap == 0 {
		return nil
	}
	parts, err := planParts(a, an)
	if err != nil {
		return err
	}
	off := 0
	for _, p := range parts {
		acc[0] -= t.overlapMs(p, an.Layers[off:off+len(p.Ops)])
		off += len(p.Ops)
	}
	return nil
}

// Latency implements Target.
func (t *Analytic) Latency(acc []float64) float64 {
	return acc[0] + t.p.FixedOverheadMs + t.spillMs(acc[1])
}

// spillMs is the time to stream the weights that do not fit on chip.
func (t *Analytic) spillMs(weightBytes float64) float64 {
	if !t.cache || weightBytes <= t.onChipB {
		return 0
	}
	return (weightBytes - t.onChipB) * t.msPerByte
}

// LayerTime is the latency of one layer on one target.
type LayerTime struct {
	Name  string    `json:"name"`
	Block int       `json:"block"`
	Op    blocks.Op `json:"op"`
	Ms    float64   `json:"ms"`
	Bound Bound     `json:"bound"`
}

// Breakdown is the latency of an architecture on one target, layer by layer.
type Breakdown struct {
	Target string      `json:"target"`
	Layers []LayerTime `json:"layers"`
	// FixedMs is the per-inference overhead, SpillMs the streaming of the
	// weights beyond on-chip memory, OverlapMs the time hidden by running
	// parallel branches concurrently (Params.Overlap); TotalMs = sum of
	// layers + FixedMs + SpillMs − OverlapMs.
	FixedMs   float64 `json:"fixed_ms"`
	SpillMs   float64 `json:"spill_ms"`
	OverlapMs float64 `json:"overlap_ms,omitempty"`
	TotalMs   float64 `json:"total_ms"`
}

// Breakdown returns the per-layer latencies of architecture a (analysis an).
func (t *Analytic) Breakdown(a *blocks.Arch, an *blocks.Analysis) (Breakdown, error) {
	bd := Breakdown{Target: t.Name(), Layers: make([]LayerTime, len(an.Layers)), FixedMs: t.p.FixedOverheadMs}
	var w, sum float64
	for i := range an.Layers {
		l := &an.Layers[i]
		ms, b := t.LayerMs(l)
		bd.Layers[i] = LayerTime{Name: l.Name, Block: l.Block, Op: l.Op, Ms: ms, Bound: b}
		sum += ms
		if b != Removed {
			w += float64(l.Weights) * t.bytes
		}
	}
	if t.p.Overlap > 0 {
		var acc [2]float64
		if err := t.addArchCost(a, an, acc[:]); err != nil {
			return bd, err
		}
		bd.OverlapMs = max(0, sum-acc[0])
	}
	bd.SpillMs = t.spillMs(w)
	bd.TotalMs = sum + bd.FixedMs + bd.SpillMs - bd.OverlapMs
	return bd, nil
}

// affineLatency implements the table's fast path (see Table): Latency is
// acc[0] + FixedOverheadMs + spillMs(acc[1]).
func (t *Analytic) affineLatency() (fixed, rate, free float64) {
	if !t.cache {
		return t.p.FixedOverheadMs, 0, 0
	}
	return t.p.FixedOverheadMs, t.msPerByte, t.onChipB
}
