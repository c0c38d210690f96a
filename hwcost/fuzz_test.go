package hwcost

import (
	"math"
	"testing"

	"github.com/multihw/multihw/blocks"
)

// FuzzTargetFile: any byte string either fails to parse with an error, or
// gives a target that costs the reference models finitely, through the
// generic path and the compiled table alike, and whose posterior (if any)
// either draws finite sensitivity spreads or is refused with an error.
func FuzzTargetFile(f *testing.F) {
	ps := DefaultParams()
	for _, n := range []string{"pixel4-cpu", "pixel4-edgetpu", "coral-edgetpu"} {
		f.Add((&TargetFile{Target: "mine-" + n, Precision: Int8, Params: ps.Targets[n], Posterior: ps.Posteriors[n]}).JSON())
	}
	for _, s := range []string{
		`{"target": "x", "precision": "fp32", "params": {"peak_gmacs": 1e30, "eff_conv": 1e-12, "eff_fused": 1, "eff_dw": 1, "eff_fc": 1, "eff_pool": 1, "bandwidth_gbs": 1e-12, "on_chip_mb": 1e30, "fixed_overhead_ms": 1e30}}`,
		`{"target": "x", "precision": "int8", "params": {"peak_gmacs": 1, "eff_conv": 1, "eff_fused": 1, "eff_dw": 1, "eff_fc": 1, "eff_pool": 1, "bandwidth_gbs": 1, "on_chip_mb": 0.5, "overlap": 1},
		  "posterior": {"names": ["peak_gmacs", "bandwidth_gbs"], "mean": [700, -700], "cov": [[1e300, -1e300], [-1e300, 1e300]], "prior": [-1, 0]}}`,
		`{"target": "x", "precision": "int8", "params": {"peak_gmacs": 1, "eff_conv": 1, "eff_fused": 1, "eff_dw": 1, "eff_fc": 1, "eff_pool": 1, "bandwidth_gbs": 1},
		  "posterior": {"names": ["peak_gmacs", "peak_gmacs"], "mean": [0, 0], "cov": [[1, 2], [2, 1]], "prior": [1, 1]}}`,
	} {
		f.Add([]byte(s))
	}
	var archs []*blocks.Arch
	for _, n := range []string{"mobilenet_v2", "multi_avg", "mobilenet_v3_large_min"} {
		a, err := blocks.Model(n)
		if err != nil {
			f.Fatal(err)
		}
		archs = append(archs, a)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tf, err := ParseTargetFile(data)
		if err != nil {
			return
		}
		an, err := tf.Analytic()
		if err != nil {
			t.Fatalf("parsed target file has no model: %v", err)
		}
		m, err := NewMetric().WithTargets(an).Reference(archs[0]).Done()
		if err != nil {
			return // e.g. a reference whose latency is not positive: refused with an error
		}
		buf := make([]float64, m.NumTargets())
		for _, a := range archs {
			sc, err := m.Scores(a, buf)
			if err != nil {
				t.Fatalf("%s: %v", a.Name, err)
			}
			if !(sc.Avg >= 0) || math.IsInf(sc.Avg, 0) || !(sc.Max >= sc.Avg) {
				t.Fatalf("%s: scores %+v", a.Name, sc)
			}
		}
		// The compiled table agrees with the generic path (stem, one block, head).
		a := archs[1]
		tab, err := m.NewTable([]int{1, 1, 1})
		if err != nil {
			t.Fatal(err)
		}
		sub := &blocks.Arch{Name: "sub", Resolution: a.Resolution, Channels: a.Channels, Classes: a.Classes, Stem: a.Stem,
			Blocks: a.Blocks[:1], Head: a.Head}
		size := (a.Resolution + a.Stem.Stride - 1) / a.Stem.Stride
		out := (size + a.Blocks[0].Stride - 1) / a.Blocks[0].Stride
		for pos, seg := range []Segment{StemSegment(a.Stem, a.Channels, a.Resolution), BlockSegment(a.Blocks[0], a.Stem.Out, size),
			HeadSegment(a.Head, a.Classes, a.Blocks[0].Out, out)} {
			if err := tab.Set(pos, 0, seg); err != nil {
				t.Fatal(err)
			}
		}
		want, err := m.Scores(sub, buf)
		if err != nil {
			t.Fatal(err)
		}
		for _, obj := range []string{ObjectiveAvg, ObjectiveMax} {
			e, err := tab.Evaluator(obj)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.Eval([]int{0, 0, 0}, make([]float64, e.BufLen()))
			if err != nil {
				t.Fatal(err)
			}
			w := want.Avg
			if obj == ObjectiveMax {
				w = want.Max
			}
			if math.Abs(got-w) > 1e-9*math.Max(1, math.Abs(w)) {
				t.Fatalf("%s: table %.12g, generic %.12g", obj, got, w)
			}
		}
		res, err := Sensitivity(SensitivityConfig{Metric: m, Archs: archs, Draws: 8, Seed: 1})
		if err != nil {
			return // a posterior that cannot be drawn from is refused with an error
		}
		for _, s := range res.Archs {
			if math.IsNaN(s.Avg.Mean) || math.IsInf(s.Avg.Mean, 0) || math.IsNaN(s.Max.SD) {
				t.Fatalf("sensitivity spread not finite: %+v", s)
			}
		}
	})
}
