//go:build goexperiment.simd && amd64

package convnet

import (
	"simd/archsimd"
	"unsafe"
)

func init() {
	if archsimd.X86.AVX512() {
		dwVector = dwVector16
	}
}

// dwVector16 is dwScalar on blocks of 16 channels (AVX-512): the same
// products and sums in the same order, lane by lane. The rows' loops are
// inside it: entered once per row range, not per pixel (a call per pixel
// from scalar code cost a fifth of its time). Pixels whose taps all read
// inside the row go four at a time (dwQuad16). Channels past the last
// multiple of 16 (8 of MobileNet-V3's widths 72, 120, 184, 200) are the
// last 16 channels computed again as one more block: the overlap is
// written twice with the same values, by the same worker (its rows), and
// no load leaves the pixel's channels.
func dwVector16(t *dwTask, r0, r1 int) int {
	c := t.c
	n := c &^ 15
	tail := -1 // the first channel of the overlapping last block
	if n < c && c >= 16 {
		tail = c - 16
	}
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
				if tail >= 0 {
					dwQuad16(t, six, dy0, dy1, xo+tail, yo+tail, tail)
				}
				ow += 4
				continue
			}
			dy0, dy1, dx0, dx1, xo, yo := t.pixel(b, oh, ow)
			for c0 := 0; c0 < n; c0 += 16 {
				dwPixel16(t, six, dy0, dy1, dx0, dx1, xo+c0, yo+c0, c0)
			}
			if tail >= 0 {
				dwPixel16(t, six, dy0, dy1, dx0, dx1, xo+tail, yo+tail, tail)
			}
			ow++
		}
	}
	if tail >= 0 {
		return c
	}
	return n
}

// at returns a pointer to s[i]. The kernels below address x, w and y
// through such pointers, without a bounds check per load: every offset they
// form is a tap that tapRange keeps inside the image (or a weight, bias or
// output of the task), and depthwiseDirect checks the slices' lengths against
// the geometry first. (Checked loads cost a fifth of the time.)
func at(s []float32, i int) unsafe.Pointer {
	return unsafe.Add(unsafe.Pointer(unsafe.SliceData(s)), uintptr(i)*4)
}

// ld loads 16 floats at p; step advances p by n floats.
func ld(p unsafe.Pointer) archsimd.Float32x16         { return archsimd.LoadFloat32x16Array((*[16]float32)(p)) }
func step(p unsafe.Pointer, n uintptr) unsafe.Pointer { return unsafe.Add(p, n*4) }

// dwFinish adds the bias and applies the activation (six: 6 in every lane,
// broadcast once per call of dwVector16: a broadcast from a scalar
// register per pixel cost as much as the pixel's products), and stores the
// 16 outputs at y.
func dwFinish(t *dwTask, acc, six archsimd.Float32x16, c0 int, y unsafe.Pointer) {
	acc = acc.Add(ld(at(t.bias, c0)))
	var zero archsimd.Float32x16
	switch t.act {
	case dwReLU:
		acc = acc.Max(zero)
	case dwReLU6:
		acc = acc.Max(zero).Min(six)
	}
	acc.StoreArray((*[16]float32)(y))
}

// dwPixel16 computes the channels [c0, c0+16) of one output pixel: x
// offset xo and y offset yo include c0.
func dwPixel16(t *dwTask, six archsimd.Float32x16, dy0, dy1, dx0, dx1, xo, yo, c0 int) {
	c, k := uintptr(t.c), t.k
	var acc archsimd.Float32x16
	first := true
	for dy := dy0; dy < dy1; dy++ {
		if dx1 <= dx0 {
			continue
		}
		xp := at(t.x, xo+(dy*t.wd+dx0)*t.c)
		wp := at(t.w, (dy*k+dx0)*t.c+c0)
		if t.separable { // One term per row: the row's sum.
			row := ld(xp).Mul(ld(wp))
			for dx := dx0 + 1; dx < dx1; dx++ {
				xp, wp = step(xp, c), step(wp, c)
				row = row.Add(ld(xp).Mul(ld(wp)))
			}
			if first {
				acc, first = row, false
			} else {
				acc = acc.Add(row)
			}
			continue
		}
		for dx := dx0; dx < dx1; dx++ {
			v := ld(xp).Mul(ld(wp))
			if first {
				acc, first = v, false
			} else {
				acc = acc.Add(v)
			}
			xp, wp = step(xp, c), step(wp, c)
		}
	}
	dwFinish(t, acc, six, c0, at(t.y, yo))
}

// dwQuad16 is dwPixel16 for four adjacent output pixels of a row whose
// column taps all read inside: each weight is loaded once for the four,
// and their four sums are independent chains the core runs side by side.
func dwQuad16(t *dwTask, six archsimd.Float32x16, dy0, dy1, xo, yo, c0 int) {
	c, k := uintptr(t.c), t.k
	ps := uintptr(t.gw.s) * c // input offset from one output pixel to the next
	var a0, a1, a2, a3 archsimd.Float32x16
	for dy := dy0; dy < dy1; dy++ {
		xp := at(t.x, xo+dy*t.wd*t.c)
		wp := at(t.w, dy*k*t.c+c0)
		w := ld(wp)
		r0, r1 := ld(xp).Mul(w), ld(step(xp, ps)).Mul(w)
		r2, r3 := ld(step(xp, 2*ps)).Mul(w), ld(step(xp, 3*ps)).Mul(w)
		if t.separable {
			// Each row's sum in tap order, then the rows' sums in order.
			for dx := 1; dx < k; dx++ {
				xp, wp = step(xp, c), step(wp, c)
				w := ld(wp)
				r0, r1 = r0.Add(ld(xp).Mul(w)), r1.Add(ld(step(xp, ps)).Mul(w))
				r2, r3 = r2.Add(ld(step(xp, 2*ps)).Mul(w)), r3.Add(ld(step(xp, 3*ps)).Mul(w))
			}
			if dy == dy0 {
				a0, a1, a2, a3 = r0, r1, r2, r3
			} else {
				a0, a1, a2, a3 = a0.Add(r0), a1.Add(r1), a2.Add(r2), a3.Add(r3)
			}
			continue
		}
		// Taps in order: each product joins the sums.
		if dy == dy0 {
			a0, a1, a2, a3 = r0, r1, r2, r3
		} else {
			a0, a1, a2, a3 = a0.Add(r0), a1.Add(r1), a2.Add(r2), a3.Add(r3)
		}
		for dx := 1; dx < k; dx++ {
			xp, wp = step(xp, c), step(wp, c)
			w := ld(wp)
			a0, a1 = a0.Add(ld(xp).Mul(w)), a1.Add(ld(step(xp, ps)).Mul(w))
			a2, a3 = a2.Add(ld(step(xp, 2*ps)).Mul(w)), a3.Add(ld(step(xp, 3*ps)).Mul(w))
		}
	}
	y := at(t.y, yo)
	dwFinish(t, a0, six, c0, y)
	dwFinish(t, a1, six, c0, step(y, c))
	dwFinish(t, a2, six, c0, step(y, 2*c))
	dwFinish(t, a3, six, c0, step(y, 3*c))
}
