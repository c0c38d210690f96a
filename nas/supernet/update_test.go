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

// TestApplyReadTaps checks the update of a use fed only its read taps: the
// same values, bit for bit, as the update of the whole slice with a gradient
// that is zero outside the read taps (what the graph of the whole slice
// computes), for both optimizers; boxMinus covers the rest exactly once.
func TestApplyReadTaps(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	shape := []int{5, 5, 6, 300} // 9000 values a tap row: runs beyond zeroGrad
	upd := box{starts: []int{0, 0, 0, 0}, dims: []int{5, 5, 6, 300}}
	fed := box{starts: []int{1, 2, 0, 0}, dims: []int{3, 2, 6, 300}}
	covered := make([]int, prod(shape))
	for _, b := range append(boxMinus(upd, fed), fed) {
		forRuns(shape, b.starts, b.dims, func(full, _, n int) {
			for i := range n {
				covered[full+i]++
			}
		})
	}
	if slices.Min(covered) != 1 || slices.Max(covered) != 1 {
		t.Fatal("boxMinus and the fed box do not cover the slice exactly once")
	}
	for _, kind := range []Optimizer{DefaultOptimizer(), {Kind: "sgd", Hyper: DefaultOptimizer().Hyper}} {
		newParam := func() *param {
			p := &param{spec: varSpec{shape: shape, decay: true}, w: make([]float32, prod(shape))}
			r := rand.New(rand.NewPCG(5, 6))
			for i := range p.w {
				p.w[i] = float32(r.NormFloat64())
			}
			for _, v := range kind.slotInit() {
				s := make([]float32, len(p.w))
				fill(s, v)
				p.slots = append(p.slots, s)
			}
			return p
		}
		grad := make([]float32, prod(fed.dims))
		for i := range grad {
			grad[i] = float32(rng.NormFloat64())
		}
		full := make([]float32, prod(upd.dims))
		forRuns(shape, fed.starts, fed.dims, func(f, part, n int) { copy(full[f:f+n], grad[part:part+n]) })
		sn := &Supernet{cfg: Config{Optimizer: kind}}
		a, b := newParam(), newParam()
		sn.apply(use{p: a, starts: fed.starts, dims: fed.dims, upd: &upd}, grad, 0.05)
		sn.apply(use{p: b, starts: upd.starts, dims: upd.dims}, full, 0.05)
		if !slices.Equal(a.w, b.w) {
			t.Errorf("%s: weights differ from the whole slice's update", kind.Kind)
		}
		for i := range a.slots {
			if !slices.Equal(a.slots[i], b.slots[i]) {
				t.Errorf("%s: slot %d differs from the whole slice's update", kind.Kind, i)
			}
		}
	}
}
