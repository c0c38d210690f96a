package optim

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestUpdateRuns checks the update loops (vector and scalar tail) against
// the formulas, value for value: the same float32 operations in the same
// order give the same bits. The formulas round each product as graph ops do
// (float32(x·y), which no build fuses).
func TestUpdateRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vals := func(n int, lo float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = lo + float32(rng.Float64())
		}
		return v
	}
	c := Coeffs{LR: 0.05, WD: 4e-5, Mu: 0.9, Rho: 0.9, Rho1: float32(1 - 0.9), Eps: 1e-3, Mu1: float32(1 - 0.9), C1: 0.19, C2: 0.002}
	for _, n := range []int{1, 15, 16, 37, 100} {
		w, ms, mom, g := vals(n, -0.5), vals(n, 0), vals(n, -0.5), vals(n, -0.5)
		ew, ems, emom := slices.Clone(w), slices.Clone(ms), slices.Clone(mom)
		for i := range ew {
			gi := g[i] + float32(c.WD*ew[i])
			ems[i] = float32(c.Rho*ems[i]) + float32(c.Rho1*gi*gi)
			emom[i] = float32(c.Mu*emom[i]) + c.LR*gi/float32(math.Sqrt(float64(ems[i]+c.Eps)))
			ew[i] -= emom[i]
		}
		RMSPropRun(w, ms, mom, g, c)
		if !slices.Equal(w, ew) || !slices.Equal(ms, ems) || !slices.Equal(mom, emom) {
			t.Errorf("RMSProp, %d values: differs from the formula", n)
		}
		for _, nesterov := range []bool{true, false} {
			w, mom = vals(n, -0.5), vals(n, -0.5)
			ew, emom = slices.Clone(w), slices.Clone(mom)
			for i := range ew {
				gi := g[i] + float32(c.WD*ew[i])
				emom[i] = float32(c.Mu*emom[i]) + gi
				if nesterov {
					ew[i] -= float32(c.LR * (gi + float32(c.Mu*emom[i])))
				} else {
					ew[i] -= float32(c.LR * emom[i])
				}
			}
			SGDRun(w, mom, g, nesterov, c)
			if !slices.Equal(w, ew) || !slices.Equal(mom, emom) {
				t.Errorf("SGD (Nesterov %v), %d values: differs from the formula", nesterov, n)
			}
		}
		for _, wd := range []float32{0, c.WD} {
			c := c
			c.WD = wd
			w, m1, m2 := vals(n, -0.5), vals(n, -0.5), vals(n, 0)
			ew, em1, em2 := slices.Clone(w), slices.Clone(m1), slices.Clone(m2)
			for i := range ew {
				em1[i] = float32(c.Mu*em1[i]) + float32(c.Mu1*g[i])
				em2[i] = float32(c.Rho*em2[i]) + float32(c.Rho1*(g[i]*g[i]))
				u := (em1[i] / c.C1) / (float32(math.Sqrt(float64(em2[i]/c.C2))) + c.Eps)
				u += float32(wd * ew[i])
				ew[i] -= float32(c.LR * u)
			}
			AdamRun(w, m1, m2, g, c)
			if !slices.Equal(w, ew) || !slices.Equal(m1, em1) || !slices.Equal(m2, em2) {
				t.Errorf("Adam (weight decay %g), %d values: differs from the formula", wd, n)
			}
		}
	}
}
