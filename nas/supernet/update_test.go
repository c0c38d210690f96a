package supernet

import (
	"math/rand/v2"
	"slices"
	"testing"
)

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
