//go:build goexperiment.simd && amd64

package hwcost

import "simd/archsimd"

// hasSum8SIMD: the vector sum needs AVX.
var hasSum8SIMD = archsimd.X86.AVX()

// sum8SIMD is sum8 with 256-bit vectors: two rows per iteration, each into
// its own pair of accumulators, so consecutive adds do not wait on each other.
func (t *Table) sum8SIMD(choices []int, acc []float64) (bad int) {
	var a, b, c, d archsimd.Float64x4
	n := len(choices)
	p := 0
	for ; p+1 < n; p += 2 {
		ci, cj := choices[p], choices[p+1]
		if uint(ci) >= uint(t.nopts[p]) {
			return p
		}
		if uint(cj) >= uint(t.nopts[p+1]) {
			return p + 1
		}
		i, j := t.offs[p]+ci*8, t.offs[p+1]+cj*8
		r, s := (*[8]float64)(t.data[i:i+8]), (*[8]float64)(t.data[j:j+8])
		a = a.Add(archsimd.LoadFloat64x4Array((*[4]float64)(r[0:4])))
		b = b.Add(archsimd.LoadFloat64x4Array((*[4]float64)(r[4:8])))
		c = c.Add(archsimd.LoadFloat64x4Array((*[4]float64)(s[0:4])))
		d = d.Add(archsimd.LoadFloat64x4Array((*[4]float64)(s[4:8])))
	}
	if p < n {
		ci := choices[p]
		if uint(ci) >= uint(t.nopts[p]) {
			return p
		}
		i := t.offs[p] + ci*8
		r := (*[8]float64)(t.data[i : i+8])
		a = a.Add(archsimd.LoadFloat64x4Array((*[4]float64)(r[0:4])))
		b = b.Add(archsimd.LoadFloat64x4Array((*[4]float64)(r[4:8])))
	}
	a.Add(c).StoreArray((*[4]float64)(acc[0:4]))
	b.Add(d).StoreArray((*[4]float64)(acc[4:8]))
	return -1
}
