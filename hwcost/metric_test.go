package hwcost

import (
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/multihw/multihw/blocks"
)

func mustModel(t testing.TB, name string) *blocks.Arch {
	t.Helper()
	a, err := blocks.Model(name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustMetric(t testing.TB, c *MetricConfig) *Metric {
	t.Helper()
	m, err := c.Done()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestReferenceNormalisesToOne(t *testing.T) {
	for _, ref := range []string{"mobilenet_v2", "multi_avg"} {
		for _, ps := range []*ParamSet{DefaultParams(), PriorParams()} {
			m := mustMetric(t, NewMetric().Targets("all").Params(ps).ReferenceModel(ref))
			res, err := m.Evaluate(mustModel(t, ref))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Normalized) != len(TargetNames()) {
				t.Fatalf("%d normalised latencies for %d targets", len(res.Normalized), len(TargetNames()))
			}
			for n, r := range res.Normalized {
				if math.Abs(r-1) > 1e-12 {
					t.Errorf("reference %s (%s) on %s: normalised %g, want 1", ref, ps.Note, n, r)
				}
				if !(res.LatencyMs[n] > 0) {
					t.Errorf("reference %s on %s: latency %g", ref, n, res.LatencyMs[n])
				}
			}
			if math.Abs(res.Avg-1) > 1e-12 || math.Abs(res.Max-1) > 1e-12 || math.Abs(res.Weighted-1) > 1e-12 {
				t.Errorf("reference %s: scores %g %g %g, want 1", ref, res.Avg, res.Max, res.Weighted)
			}
		}
	}
}

// TestWeightsScaleFree: weights are relative, so any common factor gives
// the same metric, from subnormal weights to ones whose sum overflows
// float64 (1e308 four times summed to +Inf: every weight became 0).
func TestWeightsScaleFree(t *testing.T) {
	want := mustMetric(t, NewMetric().Weights(1, 0, 2, 3)).Weights()
	for _, k := range []float64{5e307, 5e-324, 3} {
		m := mustMetric(t, NewMetric().Weights(k, 0, 2*k, 3*k))
		got := m.Weights()
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-15 {
				t.Errorf("weights ×%g: %v, want %v", k, got, want)
				break
			}
		}
	}
	m := mustMetric(t, NewMetric().Weights(1e308, 1e308, 1e308, 1e308))
	for _, w := range m.Weights() {
		if w != 0.25 {
			t.Errorf("four weights of 1e308: %v, want 0.25 each", m.Weights())
			break
		}
	}
}

func TestAvgMaxWeighted(t *testing.T) {
	m := mustMetric(t, NewMetric().Targets("paper").Weights(1, 0, 0, 3))
	for _, r := range blocks.References {
		res, err := m.Evaluate(r.Arch())
		if err != nil {
			t.Fatal(err)
		}
		lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
		for _, n := range res.Targets {
			v := res.Normalized[n]
			lo, hi, sum = math.Min(lo, v), math.Max(hi, v), sum+v
		}
		if res.Avg > res.Max+1e-12 {
			t.Errorf("%s: AVG %g > MAX %g", r.Name, res.Avg, res.Max)
		}
		if math.Abs(res.Max-hi) > 1e-12 || math.Abs(res.Avg-sum/4) > 1e-12 {
			t.Errorf("%s: MAX %g AVG %g, want %g %g", r.Name, res.Max, res.Avg, hi, sum/4)
		}
		want := (res.Normalized["pixel4-cpu"] + 3*res.Normalized["pixel4-edgetpu"]) / 4
		if math.Abs(res.Weighted-want) > 1e-12 {
			t.Errorf("%s: weighted %g, want %g", r.Name, res.Weighted, want)
		}
		if res.Weighted < lo-1e-12 || res.Weighted > hi+1e-12 {
			t.Errorf("%s: weighted %g outside [%g, %g]", r.Name, res.Weighted, lo, hi)
		}
	}
}

// Widening a block adds MACs and bytes: latency must not drop on any target,
// and must grow on a compute-bound CPU by roughly the added compute.
func TestLatencyMonotoneInWidth(t *testing.T) {
	m := mustMetric(t, NewMetric().Targets("all"))
	base := mustModel(t, "multi_avg")
	wide := base.Clone()
	wide.Blocks[7].Expand = 6 // the first 128-wide block after the stride-2 one: e3 -> e6
	b0, b1 := make([]float64, m.NumTargets()), make([]float64, m.NumTargets())
	if err := m.Latencies(base, b0); err != nil {
		t.Fatal(err)
	}
	if err := m.Latencies(wide, b1); err != nil {
		t.Fatal(err)
	}
	for i, n := range m.TargetNames() {
		if !(b1[i] > b0[i]) {
			t.Errorf("%s: widening a block changed latency %g -> %g, want an increase", n, b0[i], b1[i])
		}
	}
	// On the CPU the expand and project convs of that block are compute-bound.
	cpu, err := Lookup("pixel4-cpu", nil)
	if err != nil {
		t.Fatal(err)
	}
	an, err := blocks.Analyze(wide, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range an.Layers {
		if l.Block == 7 && l.Op == blocks.OpPW {
			if _, bound := cpu.LayerMs(&l); bound != ComputeBound {
				t.Errorf("pixel4-cpu: %s is %s-bound, want compute-bound", l.Name, bound)
			}
		}
	}
	// Monotone along a sweep of widths too.
	prev := 0.0
	for _, w := range []float64{0.5, 0.75, 1, 1.25, 1.5, 2} {
		ms, err := ArchLatency(cpu, base.WithWidth(w), 0)
		if err != nil {
			t.Fatal(err)
		}
		if !(ms > prev) {
			t.Errorf("pixel4-cpu: width %g latency %g not above the previous %g", w, ms, prev)
		}
		prev = ms
	}
}

func TestErrors(t *testing.T) {
	if _, err := NewMetric().Targets("pixel4-cpu", "pixel5-npu").Done(); err == nil ||
		!strings.Contains(err.Error(), "pixel5-npu") || !strings.Contains(err.Error(), "pixel4-dsp") {
		t.Errorf("unknown target: got %v, want an error naming it and listing the valid targets", err)
	}
	if _, err := NewMetric().ReferenceModel("mobilenet_v9").Done(); err == nil || !strings.Contains(err.Error(), "mobilenet_v2") {
		t.Errorf("unknown reference: got %v, want an error listing the models", err)
	}
	if _, err := NewMetric().Weights(1, 2).Done(); err == nil {
		t.Error("2 weights for 4 targets: no error")
	}
	if _, err := NewMetric().Weights(1, -1, 1, 1).Done(); err == nil {
		t.Error("negative weight: no error")
	}
	if _, err := NewMetric().Targets().Done(); err == nil {
		t.Error("no targets: no error")
	}
	if _, err := Lookup("nope", nil); err == nil || !strings.Contains(err.Error(), "valid targets") {
		t.Errorf("Lookup: got %v", err)
	}
	m := mustMetric(t, NewMetric())
	bad := mustModel(t, "mobilenet_v2")
	bad.Blocks[3].Out = 0
	if _, err := m.Evaluate(bad); err == nil || !strings.Contains(err.Error(), "block 3") {
		t.Errorf("invalid architecture: got %v, want an error naming block 3", err)
	}
	if _, err := m.Scores(bad, make([]float64, 4)); err == nil {
		t.Error("Scores of an invalid architecture: no error")
	}
	if _, err := m.Scores(mustModel(t, "mobilenet_v2"), make([]float64, 2)); err == nil {
		t.Error("Scores with a short buffer: no error")
	}
	if _, err := m.BlockLatencies(blocks.Block{Kind: "xx", Kernel: 3, Stride: 1, Out: 8, Expand: 1}, 8, 8); err == nil ||
		!strings.Contains(err.Error(), "kind") {
		t.Errorf("malformed block: got %v", err)
	}
	if _, err := m.BlockLatencies(blocks.Block{Kind: blocks.KindIBN, Kernel: 3, Stride: 1, Out: 8, Expand: 1}, 0, 8); err == nil {
		t.Error("zero input channels: no error")
	}
	if _, err := blocks.Parse("stem cn_k3_s2_c32\nir_k3_s1_e6\nhead c1280"); err == nil {
		t.Error("malformed spec (block without width) parsed")
	}
	if _, err := ParseParams([]byte(`{"targets": {"pixel4-cpu": {"peak_gmacs": -1}}}`)); err == nil {
		t.Error("negative peak: no error")
	}
	if _, err := ParseParams([]byte(`{"targets": {"pixel9-cpu": {}}}`)); err == nil {
		t.Error("unknown target in params: no error")
	}
	// Target files are read strictly: a key in another case, a key given
	// twice, trailing data and rates so small that latencies overflow are
	// errors naming the problem.
	good := string(PriorParams().JSON())
	for _, c := range []struct{ js, want string }{
		{strings.Replace(good, `"peak_gmacs"`, `"Peak_GMACs"`, 1), `did you mean "peak_gmacs"`},
		{strings.Replace(good, `"bandwidth_gbs"`, `"bandwidth_gbs": 1, "bandwidth_gbs"`, 1), "given twice"},
		{good + "[]", "after top-level value"},
		{regexp.MustCompile(`"peak_gmacs": [0-9.e+-]+`).ReplaceAllString(good, `"peak_gmacs": 1e-300`), "must be in [1e-12, 1e+30]"},
	} {
		if _, err := ParseParams([]byte(c.js)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("params %q...: got %v, want %q", c.want, err, c.want)
		}
	}
	if _, err := LoadParams("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("params from a device: %v", err)
	}
	if _, err := ExpandTargets([]string{"paper", "gpu"}); err == nil || !strings.Contains(err.Error(), "mnv4") {
		t.Errorf("ExpandTargets: got %v", err)
	}
}

func TestExpandTargets(t *testing.T) {
	got, err := ExpandTargets([]string{"pixel4-dsp", "paper", "iphone13-ane"})
	if err != nil {
		t.Fatal(err)
	}
	want := "pixel4-dsp pixel4-cpu pixel4-gpu pixel4-edgetpu iphone13-ane"
	if strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
	// The paper's 4, MobileNetV4's 7 (the Pixel 4 DSP in both), the Coral Edge TPU.
	if all, _ := ExpandTargets([]string{"all"}); len(all) != 11 || all[len(all)-1] != "coral-edgetpu" {
		t.Errorf("all: %v, want 11 targets ending with coral-edgetpu", all)
	}
}

// segmentOnly hides the LayerTarget fast path so that costs go through segments.
type segmentOnly struct{ Target }

func TestSegmentsAgreeWithLayers(t *testing.T) {
	for _, name := range []string{"mobilenet_v2", "mnv4_conv_s", "mobilenet_edgetpu", "mobilenet_v1"} {
		a := mustModel(t, name)
		an, err := blocks.Analyze(a, 0)
		if err != nil {
			t.Fatal(err)
		}
		segs, err := Segments(a, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(segs) != len(a.Blocks)+2 {
			t.Fatalf("%s: %d segments, want %d", name, len(segs), len(a.Blocks)+2)
		}
		var macs int64
		var nl int
		for i, s := range segs {
			ls, err := s.Layers()
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range ls {
				macs += l.MACs
			}
			nl += len(ls)
			if i+1 < len(segs) && s.Kind != SegHead && (segs[i+1].InC != s.OutC() || segs[i+1].InSize != s.OutSize()) {
				t.Errorf("%s: segment %d outputs %dx%d, next takes %dx%d", name, i, s.OutC(), s.OutSize(), segs[i+1].InC, segs[i+1].InSize)
			}
		}
		if macs != an.MACs || nl != len(an.Layers) {
			t.Errorf("%s: segments give %d MACs in %d layers, analysis %d in %d", name, macs, nl, an.MACs, len(an.Layers))
		}
		for _, tn := range TargetNames() {
			tg, err := Lookup(tn, nil)
			if err != nil {
				t.Fatal(err)
			}
			l1, err := ArchLatency(tg, a, 0)
			if err != nil {
				t.Fatal(err)
			}
			l2, err := ArchLatency(segmentOnly{tg}, a, 0)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(l1/l2-1) > 1e-12 {
				t.Errorf("%s on %s: per-layer %g ms, per-segment %g ms", name, tn, l1, l2)
			}
			bd, err := tg.Breakdown(a, an)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(bd.TotalMs/l1-1) > 1e-12 || len(bd.Layers) != len(an.Layers) {
				t.Errorf("%s on %s: breakdown total %g, latency %g", name, tn, bd.TotalMs, l1)
			}
		}
	}
}

func TestOnChipCaching(t *testing.T) {
	spec, err := LookupSpec("pixel4-edgetpu")
	if err != nil {
		t.Fatal(err)
	}
	p := spec.Prior
	cached, err := NewAnalytic(spec, p)
	if err != nil {
		t.Fatal(err)
	}
	p.OnChipMB = 0
	streamed, err := NewAnalytic(spec, p)
	if err != nil {
		t.Fatal(err)
	}
	// MobileNetV2 (3.5 M int8 weights) fits in 8 MB: caching removes all weight
	// traffic. EfficientNet-Lite4 (13 M) spills 5 MB, streamed once.
	for _, name := range []string{"mobilenet_v2", "efficientnet_lite4"} {
		a := mustModel(t, name)
		an, _ := blocks.Analyze(a, 0)
		bc, err := cached.Breakdown(a, an)
		if err != nil {
			t.Fatal(err)
		}
		bs, err := streamed.Breakdown(a, an)
		if err != nil {
			t.Fatal(err)
		}
		if !(bc.TotalMs < bs.TotalMs) {
			t.Errorf("%s: cached %g ms not below streamed %g ms", name, bc.TotalMs, bs.TotalMs)
		}
		wantSpill := math.Max(0, float64(an.Weights)-8e6) / (spec.Prior.BandwidthGBs * 1e6)
		if math.Abs(bc.SpillMs-wantSpill) > 1e-12 {
			t.Errorf("%s: spill %g ms, want %g", name, bc.SpillMs, wantSpill)
		}
	}
}

func TestMeasuredTarget(t *testing.T) {
	a := mustModel(t, "multi_max")
	segs, err := Segments(a, 0)
	if err != nil {
		t.Fatal(err)
	}
	meas := NewMeasured("local", 0.5)
	byKey := map[string]float64{} // repeated identical blocks share one entry
	for i, s := range segs {
		v := 0.1 * float64(i+1)
		if err := meas.Set(s, v); err != nil {
			t.Fatal(err)
		}
		byKey[s.Key()] = v
	}
	want := 0.5
	for _, s := range segs {
		want += byKey[s.Key()]
	}
	got, err := ArchLatency(meas, a, 0)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("measured latency %g, want %g", got, want)
	}
	// As a custom target of a metric, normalised to the same architecture.
	refMeas := NewMeasured("local", 0.5)
	for _, s := range segs {
		_ = refMeas.Set(s, 1)
	}
	m := mustMetric(t, NewMetric().Targets("pixel4-dsp").WithTargets(refMeas).Reference(a))
	res, err := m.Evaluate(a)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.Normalized["local"]-1) > 1e-12 || len(res.Targets) != 2 {
		t.Errorf("measured target in a metric: %+v", res.Normalized)
	}
	if _, err := m.Evaluate(mustModel(t, "mobilenet_v2")); err == nil || !strings.Contains(err.Error(), "no measurement") {
		t.Errorf("unmeasured segment: got %v", err)
	}
	if err := meas.Set(segs[0], math.NaN()); err == nil {
		t.Error("NaN latency accepted")
	}
}

func TestEmbeddedParams(t *testing.T) {
	ps := DefaultParams()
	if defaultErr != nil {
		t.Fatalf("embedded params.json: %v", defaultErr)
	}
	for _, n := range TargetNames() {
		p, ok := ps.Targets[n]
		if !ok {
			t.Errorf("params.json has no parameters for %s", n)
			continue
		}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	round, err := ParseParams(ps.JSON())
	if err != nil {
		t.Fatal(err)
	}
	if len(round.Targets) != len(ps.Targets) || round.Targets["pixel4-dsp"] != ps.Targets["pixel4-dsp"] {
		t.Error("params do not round-trip through JSON")
	}
}
