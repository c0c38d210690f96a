//go:build goexperiment.simd && amd64

package convnet

import "simd/archsimd"

func init() {
	if archsimd.X86.AVX512() {
		dwVector = dwVector16
	}
}

// dwVector16 is dwScalar on blocks of 16 channels (AVX-512): the same
// products and sums in the same order, lane by lane. The rows' loops are
// inside it: entered once per row range, not per pixel (a call per pixel
// from scalar code cost a fifth of its time). Pixels whose taps all read
// inside the row go four at a time (dwQuad16).
func dwVector16(t *dwTask, r0, r1 int) int {
	c := t.c
	n := c &^ 15
	six := archsimd.BroadcastFloat32x16(6)
	// The output columns [q0, q1) whose column taps all read inside.
	q0, q1 := t.gw.out, 0
	for ow := range t.gw.out {
		if lo, hi := t.gw.tapRange(ow); lo == 0 && hi == t.k {
			q0, q1 = min(q0, ow), ow+1
		}
	}
	for r := r0; r < r1; r++ {
		b, oh := r/t.gh.out, r%t.gh.out
		for ow := 0; ow < t.gw.out; {
			if ow >= q0 && ow+4 <= q1 {
				dy0, dy1, _, _, xo, yo := t.pixel(b, oh, ow)
				for c0 := 0; c0 < n; c0 += 16 {
					dwQuad16(t, six, dy0, dy1, xo+c0, yo+c0, c0)
				}
				ow += 4
				continue
			}
			dy0, dy1, dx0, dx1, xo, yo := t.pixel(b, oh, ow)
			for c0 := 0; c0 < n; c0 += 16 {
				dwPixel16(t, six, dy0, dy1, dx0, dx1, xo+c0, yo+c0, c0)
			}
			ow++
		}
	}
	return n
}

func load16(s []float32, i int) archsimd.Float32x16 { return archsimd.LoadFloat32x16(s[i : i+16]) }

// dwFinish adds the bias and applies the activation (six: 6 in every lane,
// broadcast once per call of dwVector16: a broadcast from a scalar
// register per pixel cost as much as the pixel's products).
func dwFinish(t *dwTask, acc, six archsimd.Float32x16, c0 int) archsimd.Float32x16 {
	acc = acc.Add(load16(t.bias, c0))
	var zero archsimd.Float32x16
	switch t.act {
	case dwReLU:
		acc = acc.Max(zero)
	case dwReLU6:
		acc = acc.Max(zero).Min(six)
	}
	return acc
}

// dwPixel16 computes the channels [c0, c0+16) of one output pixel: x
// offset xo and y offset yo include c0.
func dwPixel16(t *dwTask, six archsimd.Float32x16, dy0, dy1, dx0, dx1, xo, yo, c0 int) {
	c, k := t.c, t.k
	var acc archsimd.Float32x16
	first := true
	for dy := dy0; dy < dy1; dy++ {
		xr, wr := xo+dy*t.wd*c, dy*k*c+c0
		if t.separable {
			if dx1 <= dx0 {
				continue
			}
			row := load16(t.x, xr+dx0*c).Mul(load16(t.w, wr+dx0*c))
			for dx := dx0 + 1; dx < dx1; dx++ {
				row = row.Add(load16(t.x, xr+dx*c).Mul(load16(t.w, wr+dx*c)))
			}
			if first {
				acc, first = row, false
			} else {
				acc = acc.Add(row)
			}
			continue
		}
		for dx := dx0; dx < dx1; dx++ {
			v := load16(t.x, xr+dx*c).Mul(load16(t.w, wr+dx*c))
			if first {
				acc, first = v, false
			} else {
				acc = acc.Add(v)
			}
		}
	}
	dwFinish(t, acc, six, c0).Store(t.y[yo : yo+16])
}

// dwQuad16 is dwPixel16 for four adjacent output pixels of a row whose
// column taps all read inside: each weight is loaded once for the four,
// and their four sums are independent chains the core runs side by side.
func dwQuad16(t *dwTask, six archsimd.Float32x16, dy0, dy1, xo, yo, c0 int) {
	c, k := t.c, t.k
	ps := t.gw.s * c // input offset from one output pixel to the next
	var a0, a1, a2, a3 archsimd.Float32x16
	first := true
	for dy := dy0; dy < dy1; dy++ {
		xr, wr := xo+dy*t.wd*c, dy*k*c+c0
		w := load16(t.w, wr)
		r0, r1 := load16(t.x, xr).Mul(w), load16(t.x, xr+ps).Mul(w)
		r2, r3 := load16(t.x, xr+2*ps).Mul(w), load16(t.x, xr+3*ps).Mul(w)
		if !t.separable && !first { // Taps in order: each product joins the sums.
			a0, a1, a2, a3 = a0.Add(r0), a1.Add(r1), a2.Add(r2), a3.Add(r3)
		}
		for dx := 1; dx < k; dx++ {
			i := xr + dx*c
			w := load16(t.w, wr+dx*c)
			p0, p1 := load16(t.x, i).Mul(w), load16(t.x, i+ps).Mul(w)
			p2, p3 := load16(t.x, i+2*ps).Mul(w), load16(t.x, i+3*ps).Mul(w)
			if t.separable {
				r0, r1, r2, r3 = r0.Add(p0), r1.Add(p1), r2.Add(p2), r3.Add(p3)
			} else if first && dx == 1 {
				a0, a1, a2, a3 = r0.Add(p0), r1.Add(p1), r2.Add(p2), r3.Add(p3)
			} else {
				a0, a1, a2, a3 = a0.Add(p0), a1.Add(p1), a2.Add(p2), a3.Add(p3)
			}
		}
		switch {
		case t.separable && first:
			a0, a1, a2, a3 = r0, r1, r2, r3
		case t.separable:
			a0, a1, a2, a3 = a0.Add(r0), a1.Add(r1), a2.Add(r2), a3.Add(r3)
		case k == 1 && first:
			a0, a1, a2, a3 = r0, r1, r2, r3
		}
		first = false
	}
	dwFinish(t, a0, six, c0).Store(t.y[yo : yo+16])
	dwFinish(t, a1, six, c0).Store(t.y[yo+c : yo+c+16])
	dwFinish(t, a2, six, c0).Store(t.y[yo+2*c : yo+2*c+16])
	dwFinish(t, a3, six, c0).Store(t.y[yo+3*c : yo+3*c+16])
}
