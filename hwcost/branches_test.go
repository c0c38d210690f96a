package hwcost

import (
	"math"
	"testing"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost/devicedata"
)

func TestPartGraphHidden(t *testing.T) {
	// Ops a (2 ms) and b (3 ms) both read the part's input, c (1 ms) reads
	// both: one at a time they take 2+3+1 = 6 ms, concurrently the longest
	// path b→c, 3+1 = 4 ms, so 2 ms are hidden.
	g := partGraph{{}, {}, {0, 1}}
	ms := []float64{2, 3, 1}
	if h := g.hidden(func(i int) float64 { return ms[i] }, nil); h != 2 {
		t.Errorf("hidden %g ms, want 2", h)
	}
	// A chain hides nothing.
	chain := partGraph{{}, {0}, {1}}
	if h := chain.hidden(func(i int) float64 { return ms[i] }, nil); h != 0 {
		t.Errorf("chain hides %g ms, want 0", h)
	}
}

func TestOverlapValidate(t *testing.T) {
	p := DefaultParams().Targets["pixel4-cpu"]
	for _, o := range []float64{-0.1, 1.5, math.NaN()} {
		q := p
		q.Overlap = o
		if q.Validate() == nil {
			t.Errorf("overlap %g accepted", o)
		}
	}
}

// Overlap changes the cost of NAS-Bench-201 cells with parallel branches
// only, and every cost path (per layer, per segment, Design, Breakdown)
// agrees on it.
func TestOverlapCostPaths(t *testing.T) {
	spec, err := LookupSpec("pixel6-cpu")
	if err != nil {
		t.Fatal(err)
	}
	base := DefaultParams().Targets["pixel6-cpu"]
	over := base
	over.Overlap = 0.6
	t0, err := NewAnalytic(spec, base)
	if err != nil {
		t.Fatal(err)
	}
	t1, err := NewAnalytic(spec, over)
	if err != nil {
		t.Fatal(err)
	}
	d, err := devicedata.Open(devicedata.NameBRPNAS)
	if err != nil {
		t.Fatal(err)
	}
	archs := []*blocks.Arch{mustModel(t, "mobilenet_v2")}
	for i := range 40 {
		archs = append(archs, BenchArch(d, i))
	}
	ans := make([]*blocks.Analysis, len(archs))
	for i, a := range archs {
		if ans[i], err = blocks.Analyze(a, 0); err != nil {
			t.Fatal(err)
		}
	}
	design, err := NewDesign(archs, ans)
	if err != nil {
		t.Fatal(err)
	}
	fromDesign := make([]float64, len(archs))
	design.Latencies(t1, fromDesign, nil)
	var faster int
	for i, a := range archs {
		l0, err := ArchLatency(t0, a, 0)
		if err != nil {
			t.Fatal(err)
		}
		l1, err := ArchLatency(t1, a, 0)
		if err != nil {
			t.Fatal(err)
		}
		seg, err := ArchLatency(segmentOnly{t1}, a, 0)
		if err != nil {
			t.Fatal(err)
		}
		bd, err := t1.Breakdown(a, ans[i])
		if err != nil {
			t.Fatal(err)
		}
		paths := map[string]float64{"design": fromDesign[i], "breakdown": bd.TotalMs}
		// Segments are costed each in isolation, so they cannot see that a
		// cell cut off from the output kills the layers before it (nb201_333000
		// and nb201_000034 differ even without overlap): compare them on
		// networks without dead layers only.
		if !anyDead(ans[i]) {
			paths["per segment"] = seg
		}
		for what, v := range paths {
			if math.Abs(v/l1-1) > 1e-12 {
				t.Errorf("%s: %s %g ms, per layer %g ms", a.Name, what, v, l1)
			}
		}
		switch {
		case l1 > l0:
			t.Errorf("%s: overlap raises the latency %g → %g ms", a.Name, l0, l1)
		case l1 < l0:
			faster++
			if i == 0 {
				t.Errorf("%s has no parallel branches, yet overlap changes its latency %g → %g ms", a.Name, l0, l1)
			}
		}
	}
	if faster == 0 {
		t.Errorf("overlap changes none of the %d NAS-Bench-201 cells", len(archs)-1)
	}
}

func anyDead(an *blocks.Analysis) bool {
	for _, l := range an.Layers {
		if l.Dead {
			return true
		}
	}
	return false
}
