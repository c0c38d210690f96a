package blocks_test

import (
	"math"
	"testing"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/internal/jsonmut"
)

// The invariants of the fuzz targets below: for any spec a parser accepts,
// the analysis succeeds and every MAC, parameter, weight and activation
// count is non-negative and sums exactly to the totals, and every latency
// the cost models derive (per target, per layer, normalised, AVG, MAX) is
// finite and non-negative. A spec that breaks them (a size that overflows)
// must be rejected by the parser instead; before the size bounds, large
// kernels, widths, resolutions and expansions wrapped around to negative
// MACs and latencies, and a search ranked such a network the cheapest.

var fuzzMetric *hwcost.Metric

func metric(t *testing.T) *hwcost.Metric {
	if fuzzMetric == nil {
		m, err := hwcost.NewMetric().Targets("all").Done()
		if err != nil {
			t.Fatal(err)
		}
		fuzzMetric = m
	}
	return fuzzMetric
}

func finiteNonNegative(x float64) bool { return x >= 0 && !math.IsInf(x, 0) }

func checkInvariants(t *testing.T, a *blocks.Arch, src string) {
	t.Helper()
	an, err := blocks.Analyze(a, 0)
	if err != nil {
		t.Fatalf("accepted spec fails the analysis: %v\n%s", err, src)
	}
	var macs, params, weights int64
	for _, l := range an.Layers {
		if l.MACs < 0 || l.Params < 0 || l.Weights < 0 || l.InElems < 0 || l.OutElems < 0 || l.InSize <= 0 || l.OutSize <= 0 || l.OutC <= 0 {
			t.Fatalf("layer %s has a negative or zero size: %+v\n%s", l.Name, l, src)
		}
		if macs+l.MACs < macs || params+l.Params < params || weights+l.Weights < weights {
			t.Fatalf("totals overflow at layer %s\n%s", l.Name, src)
		}
		macs, params, weights = macs+l.MACs, params+l.Params, weights+l.Weights
		if !finiteNonNegative(l.InBytes(4)) || !finiteNonNegative(l.OutBytes(4)) || !finiteNonNegative(l.WeightBytes(4)) {
			t.Fatalf("layer %s bytes not finite", l.Name)
		}
	}
	if macs != an.MACs || params != an.Params || weights != an.Weights || an.MACs < 0 || an.Params <= 0 {
		t.Fatalf("totals %d MACs %d params %d weights, layers sum to %d %d %d\n%s", an.MACs, an.Params, an.Weights, macs, params, weights, src)
	}
	m := metric(t)
	res, err := m.Evaluate(a)
	if err != nil {
		t.Fatalf("accepted spec fails the cost models: %v\n%s", err, src)
	}
	for _, name := range res.Targets {
		if !finiteNonNegative(res.LatencyMs[name]) || !finiteNonNegative(res.Normalized[name]) {
			t.Fatalf("%s: latency %g ms, normalised %g\n%s", name, res.LatencyMs[name], res.Normalized[name], src)
		}
	}
	if !finiteNonNegative(res.Avg) || !finiteNonNegative(res.Max) || !finiteNonNegative(res.Weighted) {
		t.Fatalf("AVG %g MAX %g weighted %g\n%s", res.Avg, res.Max, res.Weighted, src)
	}
	bds, err := m.Breakdowns(a)
	if err != nil {
		t.Fatalf("breakdowns: %v", err)
	}
	for _, bd := range bds {
		if !finiteNonNegative(bd.TotalMs) || !finiteNonNegative(bd.FixedMs) || !finiteNonNegative(bd.SpillMs) {
			t.Fatalf("%s breakdown: total %g fixed %g spill %g", bd.Target, bd.TotalMs, bd.FixedMs, bd.SpillMs)
		}
		for _, l := range bd.Layers {
			if !finiteNonNegative(l.Ms) {
				t.Fatalf("%s layer %s: %g ms\n%s", bd.Target, l.Name, l.Ms, src)
			}
		}
	}
}

// fuzzSeeds are specs at and beyond the size bounds, besides the reference
// models: the committed corpus (testdata/fuzz) holds what fuzzing found.
var fuzzSeeds = []string{
	"stem cn_k3_s2_c16\nhead none",
	"input 8192x8192x3\nstem cn_k31_s1_c65536\ner_k31_s1_m65536_c65536\nhead c65536",
	"input 8192x8192x3\nstem cn_k3_s2_c64\ner_k5_s2_e4_c128\nir_k7_s2_e6_c256\nuir_a5_k5_s2_e4_c512\nhead c4096_h65536\nclasses 1048576",
	"input 4096x4096x65536\nstem cn_k31_s2_c8\nhead none",
	"input 224x224x3\nstem cn_k3_s2_c16\nir_r64_k31_s1_e64_c1024\nhead c65536_h65536_d0.99",
	"stem cn_k3_s2_c16\nir_k3_e1e300_c8\nhead dNaN",
	"classes 0\ninput 0x0x3\nstem cn_k3_s2_c16\nhead c0",
	"stem cn_k3_s2_c9223372036854775807\nhead c64",
	"\ufeffname bom\nstem cn_k3_c8\nhead none",
	"input 32x32x3\nstem cn_k3_s1_c16_nlin\ncell_o123412_c16\nres_k3_s2_c32\ncell_o333333_c32\nhead bn",
	"input 8192x8192x3\nstem cn_k3_s1_c65536\ncell_o333333_c65536\nhead none",
	"stem cn_k3_s2_c24\nir_k3_e6_c24_g3\nuir_a3_k5_e4_c48_g4\nhead c64",
	"stem cn_k3_s2_c16\nres_k31_s2_c65536\nhead h65536",
}

func FuzzSpecText(f *testing.F) {
	for _, r := range blocks.References {
		f.Add(r.Spec)
	}
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if a, err := blocks.Parse(s); err == nil {
			checkInvariants(t, a, s)
		}
	})
}

func FuzzSpecJSON(f *testing.F) {
	for _, r := range blocks.References {
		f.Add(r.Arch().JSON())
	}
	for _, s := range fuzzSeeds {
		if a, err := blocks.Parse(s); err == nil {
			f.Add(a.JSON())
		}
	}
	for _, s := range []string{
		`{"resolution": 8192, "channels": 65536, "classes": 1048576, "stem": {"kind": "conv", "kernel": 31, "stride": 1, "out": 65536}, "blocks": [{"kind": "fused", "kernel": 31, "stride": 1, "out": 65536, "expanded": 65536}], "head": {"conv": 65536, "hidden": 65536}}`,
		`{"stem": {"kind": "conv", "kernel": 3, "stride": 2, "out": 16}, "blocks": [{"kind": "ibn", "kernel": 3, "stride": 1, "out": 16, "expand": 1e308}]}`,
		`{"stem": {"kind": "conv", "kernel": 3, "stride": 2, "out": 16}} {}`,
		`{"stem": {"kind": "conv", "kernel": 3, "stride": 2, "out": 16}, "Stem": {}}`,
		"\ufeff{\"stem\": {\"kind\": \"conv\", \"kernel\": 3, \"stride\": 2, \"out\": 16}}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if a, err := blocks.ParseJSON(b); err == nil {
			checkInvariants(t, a, string(b))
		}
	})
}

// TestSpecJSONRefusesMalformed: every reference architecture's JSON, changed
// in one node at a time (null, another type, numbers past their ranges, a
// member deleted), is refused or read, never a panic; what is read keeps the
// invariants the fuzz targets check.
func TestSpecJSONRefusesMalformed(t *testing.T) {
	for _, r := range blocks.References {
		jsonmut.Check(t, r.Name, r.Arch().JSON(), func(b []byte) error {
			a, err := blocks.ParseJSON(b)
			if err == nil {
				checkInvariants(t, a, string(b))
			}
			return err
		})
	}
}
