//go:build goexperiment.simd && amd64

package hwcost

import "simd/archsimd"

// hasSum5Vec: the CPU runs sum5Vec and maxVec (AVX2 is enough).
var hasSum5Vec = archsimd.X86.AVX2()

// sum5Vec is sum5 in vectors (see vec5): the same sums. len(choices) >= 2.
func sum5Vec(pos [][]row8, choices []int) (s0, s1, s2, s3, s4 float64, bad int) {
	var s [4]float64
	w, bad := vec5(pos, choices, nil, &s)
	if bad >= 0 {
		return 0, 0, 0, 0, 0, bad
	}
	return s[0], s[1], s[2], s[3], w, -1
}

// maxVec is sum5 then maxOf in vectors (see vec5): the same maximum.
// len(choices) >= 2.
func maxVec(pos [][]row8, choices []int, k *maxLanes) (float64, int) {
	var v [4]float64
	if _, bad := vec5(pos, choices, k, &v); bad >= 0 {
		return 0, bad
	}
	m := v[0]
	for _, x := range v[1:] {
		if x > m {
			m = x
		}
	}
	return m, -1
}

// normVec writes the four targets' normalised latencies (maxVec's lanes,
// the operations of latencies then normalize) into out and returns the
// first position whose choice is out of range, or -1. len(choices) >= 2.
func normVec(pos [][]row8, choices []int, k *maxLanes, out *[4]float64) int {
	_, bad := vec5(pos, choices, k, out)
	return bad
}

// vec5 sums the chosen rows of the form five with each half of a row in
// one vector of four lanes: the latencies and the repeated weight bytes.
// Lane j of the latency accumulators adds exactly what a_j and b_j of sum5
// add, in the same order, and every lane of the weight accumulators what
// a4 and b4 add, so the sums are identical. With k nil it writes the
// latency sums into out; otherwise maxOf's finish by lane (lat = s + fixed
// + max(w − free, 0)·rate, where a target without a cache adds +0; then
// lat·invRef), the same operations as maxOf. It returns the weight sum.
//
// No legacy-SSE instruction may run between the first vector instruction
// and ClearAVXUpperBits: on the machine measured, each such switch cost
// more than a whole evaluation (2.7 µs instead of 0.06 per evaluation with
// one scalar column beside the vectors). So the accumulators start from
// the first rows (0+x is x) instead of from zero registers.
func vec5(pos [][]row8, choices []int, k *maxLanes, out *[4]float64) (w float64, bad int) {
	pos = pos[:len(choices)]
	r, q := pos[0], pos[1]
	c, d := choices[0], choices[1]
	if uint(c) >= uint(len(r)) {
		return 0, 0
	}
	if uint(d) >= uint(len(q)) {
		return 0, 1
	}
	x, y := &r[c], &q[d]
	la, wa := lo(x), hi(x)
	lb, wb := lo(y), hi(y)
	p := 2
	for ; p < len(choices)-1; p += 2 {
		r, q := pos[p], pos[p+1]
		c, d := choices[p], choices[p+1]
		if uint(c) >= uint(len(r)) {
			archsimd.ClearAVXUpperBits()
			return 0, p
		}
		if uint(d) >= uint(len(q)) {
			archsimd.ClearAVXUpperBits()
			return 0, p + 1
		}
		x, y := &r[c], &q[d]
		la, wa = la.Add(lo(x)), wa.Add(hi(x))
		lb, wb = lb.Add(lo(y)), wb.Add(hi(y))
	}
	if p < len(choices) {
		r, c := pos[p], choices[p]
		if uint(c) >= uint(len(r)) {
			archsimd.ClearAVXUpperBits()
			return 0, p
		}
		x := &r[c]
		la, wa = la.Add(lo(x)), wa.Add(hi(x))
	}
	lat, wt := la.Add(lb), wa.Add(wb)
	if k != nil {
		spill := wt.Sub(archsimd.LoadFloat64x4Array(&k.free)).Max(archsimd.Float64x4{}).Mul(archsimd.LoadFloat64x4Array(&k.rate))
		lat = lat.Add(archsimd.LoadFloat64x4Array(&k.fixed)).Add(spill).Mul(archsimd.LoadFloat64x4Array(&k.invRef))
	}
	var ws [4]float64
	lat.StoreArray(out)
	wt.StoreArray(&ws)
	archsimd.ClearAVXUpperBits()
	return ws[0], -1
}

func lo(x *row8) archsimd.Float64x4 { return archsimd.LoadFloat64x4Array((*[4]float64)(x[:4])) }
func hi(x *row8) archsimd.Float64x4 { return archsimd.LoadFloat64x4Array((*[4]float64)(x[4:])) }
