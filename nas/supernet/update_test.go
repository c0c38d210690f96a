package supernet

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestUpdateRuns checks the optimizer loops (vector and scalar tail) against
// the formulas, value for value: the same float32 operations in the same
// order give the same bits.
func TestUpdateRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vals := func(n int, lo float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = lo + float32(rng.Float64())
		}
		return v
	}
	var wd, rho, eps, mu, lr float32 = 4e-5, 0.9, 1e-3, 0.9, 0.05 // float32, as apply passes them
	for _, n := range []int{1, 15, 16, 37, 100} {
		w, ms, mom, g := vals(n, -0.5), vals(n, 0), vals(n, -0.5), vals(n, -0.5)
		ew, ems, emom := slices.Clone(w), slices.Clone(ms), slices.Clone(mom)
		for i := range ew {
			gi := g[i] + wd*ew[i]
			ems[i] = rho*ems[i] + (1-rho)*gi*gi
			emom[i] = mu*emom[i] + lr*gi/float32(math.Sqrt(float64(ems[i]+eps)))
			ew[i] -= emom[i]
		}
		rmspropRun(w, ms, mom, g, wd, rho, eps, mu, lr)
		if !slices.Equal(w, ew) || !slices.Equal(ms, ems) || !slices.Equal(mom, emom) {
			t.Errorf("RMSProp, %d values: differs from the formula", n)
		}
		w, mom = vals(n, -0.5), vals(n, -0.5)
		ew, emom = slices.Clone(w), slices.Clone(mom)
		for i := range ew {
			gi := g[i] + wd*ew[i]
			emom[i] = mu*emom[i] + gi
			ew[i] -= lr * (gi + mu*emom[i])
		}
		sgdRun(w, mom, g, wd, mu, lr)
		if !slices.Equal(w, ew) || !slices.Equal(mom, emom) {
			t.Errorf("SGD, %d values: differs from the formula", n)
		}
	}
}

// TestSplitRuns checks that the parallel split visits every value of a slice
// once, at the offsets forRuns gives.
func TestSplitRuns(t *testing.T) {
	shape, starts, dims := []int{5, 5, 64, 256}, []int{1, 1, 0, 0}, []int{3, 3, 64, 200}
	want := make([]int, 5*5*64*256)
	forRuns(shape, starts, dims, func(full, part, n int) {
		for i := range n {
			want[full+i] = part + i + 1
		}
	})
	got := make([]int, len(want))
	splitRuns(shape, starts, dims, func(full, part, n int) {
		for i := range n {
			got[full+i] += part + i + 1
		}
	})
	if !slices.Equal(got, want) {
		t.Error("splitRuns visits values other than forRuns's, or some twice")
	}
}
