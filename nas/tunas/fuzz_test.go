package tunas

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/nas"
)

// FuzzSpaceCost: any byte string either fails to parse as a search space
// with an error, or gives a space whose cost table agrees with the generic
// cost path (hwcost on blocks.Analyze of Space.Arch) on AVG and MAX for
// covering and sampled points, and whose architectures encode back to
// themselves. A space too large to tabulate must be refused with an error.
func FuzzSpaceCost(f *testing.F) {
	f.Add(tinySpace().JSON())
	f.Add(nas.MultiHWSpace().JSON())
	f.Add(nas.MobileNetV3LikeSpace().JSON())
	omit := tinySpace()
	omit.ExpandOne = nas.ExpandOneOmit
	f.Add(omit.JSON())
	m, err := hwcost.NewMetric().Done()
	if err != nil {
		f.Fatal(err)
	}
	buf := make([]float64, m.NumTargets())
	f.Fuzz(func(t *testing.T, data []byte) {
		sp, err := nas.ParseSpace(data)
		if err != nil {
			return
		}
		avg, err := NewCost(sp, m, ObjectiveAvg)
		if err != nil {
			return // too large to tabulate, say: refused with an error
		}
		mx := avg.forObjective(t, ObjectiveMax)
		h := fnv.New64a()
		h.Write(data)
		rng := rand.New(rand.NewPCG(h.Sum64(), 1))
		points := sp.CoveringPoints()
		for range 8 {
			points = append(points, sp.Sample(rng, nil))
		}
		for _, p := range points {
			a, err := sp.Arch(p)
			if err != nil {
				t.Fatalf("point %v of a valid space: %v", p, err)
			}
			sc, err := m.Scores(a, buf)
			if err != nil {
				t.Fatalf("point %v: generic cost: %v", p, err)
			}
			for _, c := range []struct {
				cost *Cost
				want float64
			}{{avg, sc.Avg}, {mx, sc.Max}} {
				got, err := c.cost.T(p)
				if err != nil {
					t.Fatalf("point %v: table: %v", p, err)
				}
				if !(math.Abs(got-c.want) <= 1e-9*math.Max(1, math.Abs(c.want))) {
					t.Fatalf("point %v, %s: table %.15g, generic %.15g", p, c.cost.objective, got, c.want)
				}
			}
			q, err := sp.Encode(a)
			if err != nil {
				t.Fatalf("architecture of point %v does not encode: %v", p, err)
			}
			b, err := sp.Arch(q)
			if err != nil || b.String() != a.String() {
				t.Fatalf("point %v encodes to %v, whose architecture differs (%v)", p, q, err)
			}
		}
	})
}
