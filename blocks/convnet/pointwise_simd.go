//go:build goexperiment.simd && amd64

package convnet

import (
	"fmt"
	"simd/archsimd"
	"sync"

	"github.com/multihw/multihw/internal/fma"
	"github.com/multihw/multihw/internal/parallel"
)

// pwTile8x32 is the kernel of pointwise_amd64.s (see there): 8 pixels of x
// times one packed strip, with the epilogue flags below.
//
//go:noescape
func pwTile8x32(x *float32, xs uintptr, w *float32, kn int, out *float32, os uintptr, bias *float32, res *float32, rs uintptr, flags uintptr)

// pwTile8x16 is pwTile8x32 on the first 16 columns of the strip: a layer's
// last strip when it holds 16 outputs (48, 80, 144 ... channels), which
// the 32-column kernel computed in full into scratch and copied out.
//
//go:noescape
func pwTile8x16(x *float32, xs uintptr, w *float32, kn int, out *float32, os uintptr, bias *float32, res *float32, rs uintptr, flags uintptr)

// Flags of pwTile8x32.
const (
	pwAdd   = 1  // add the chain to out (a later panel)
	pwFinal = 2  // the last panel: add the bias
	pwReLU  = 4  // then ReLU
	pwRes   = 8  // then add the residual
	pwReLU6 = 16 // (instead of pwReLU) then ReLU6
)

func init() {
	if archsimd.X86.AVX512() {
		pointwiseDirect = pointwiseAVX512
		fcDirect = fcAVX512
	}
}

// pwScratch holds a tile's rows of x and its outputs where the tile is cut
// short by the last rows, or by columns other than 32 or 16 (the kernels
// compute 8 × 32 and 8 × 16).
type pwScratch struct {
	x   []float32 // 8 rows of in values
	out [8 * pwStrip]float32
}

var pwScratchPool sync.Pool // *pwScratch

// pointwiseAVX512 is pointwiseDirect. It repeats the order of whichever
// path the backend's MatMul takes for the product (pwLargeMin): on the
// packed path, per contraction panel of pwPanel channels one fused
// multiply-add chain from zero, the panels added in order; on the
// small-matrix path (products under pwLargeMin, at least 16 outputs), one
// fused chain over every channel for the pixels in whole groups of 4 and
// the outputs in whole groups of 16, and for the rest a chain of rounded
// products added one by one (pwChains).
func pointwiseAVX512(p *directPW, x []float32, m int, res, y []float32) {
	k, n := p.in, p.out
	if len(x) != m*k || len(y) != m*n || (res != nil && len(res) != len(y)) {
		panic(fmt.Sprintf("convnet.pointwiseDirect: %d inputs, %d outputs, %d residuals for %d pixels, %d→%d channels", len(x), len(y), len(res), m, k, n))
	}
	if m*k*n >= pwLargeMin {
		pwTiles(p, x, res, y, m, n, pwPanel)
		return
	}
	if n < 16 {
		panic(fmt.Sprintf("convnet.pointwiseDirect: %d outputs: the backend's small-matrix path transposes products of fewer than 16", n))
	}
	mA, nA := m&^3, n&^15
	pwTiles(p, x, res, y, mA, nA, k)
	pwChains(p, x, m, res, y, mA, nA)
}

// pwTiles computes the outputs of the first pixels mA and channels nA (y
// and res have p.out per pixel) with the kernel: tiles of 8 pixels × one
// strip, in order of pixels then strips (a tile's rows of x stay in cache
// across the strips), split over the cores; the sums rounded per panel of
// the contraction.
func pwTiles(p *directPW, x, res, y []float32, mA, nA, panel int) {
	k, n := p.in, p.out
	strips := (nA + pwStrip - 1) / pwStrip
	items := (mA + 7) / 8 * strips
	var flags uintptr
	switch p.act {
	case dwReLU:
		flags = pwReLU
	case dwReLU6:
		flags = pwReLU6
	}
	run := func(lo, hi int) {
		var sc *pwScratch
		for it := lo; it < hi; it++ {
			r0, c0 := it/strips*8, it%strips*pwStrip
			rows, cols := min(8, mA-r0), min(pwStrip, nA-c0)
			w := p.wp[c0*k:]
			xp, xs := x[r0*k:], uintptr(4*k)
			yp, ys := y[r0*n+c0:], uintptr(4*n)
			half := rows == 8 && cols == pwStrip/2
			full := rows == 8 && cols == pwStrip || half
			kernel := pwTile8x32
			if half {
				kernel = pwTile8x16
			}
			var rp *float32
			f := flags
			if res != nil && full {
				rp, f = &res[r0*n+c0], f|pwRes
			}
			if !full {
				// The kernel computes 8 × 32: rows of x past the tile's are
				// zeros, the outputs go to scratch, and the residual is added
				// when they are copied out. (A half strip of 8 whole rows
				// takes the 16-column kernel instead, in place.)
				if sc == nil {
					sc, _ = pwScratchPool.Get().(*pwScratch)
					if sc == nil {
						sc = new(pwScratch)
					}
					if cap(sc.x) < 8*k {
						sc.x = make([]float32, 8*k)
					}
					defer pwScratchPool.Put(sc)
				}
				if rows < 8 {
					xp = sc.x[:8*k]
					copy(xp, x[r0*k:(r0+rows)*k])
					clear(xp[rows*k:])
				}
				yp, ys = sc.out[:], 4*pwStrip
			}
			for p0 := 0; p0 < k; p0 += panel {
				g := uintptr(0)
				if p0 > 0 {
					g = pwAdd
				}
				if p0+panel >= k {
					g |= f | pwFinal
				}
				kernel(&xp[p0], xs, &w[p0*pwStrip], min(panel, k-p0), &yp[0], ys, &p.biasPad[c0], rp, uintptr(4*n), g)
			}
			if !full {
				for r := range rows {
					dst := y[(r0+r)*n+c0:][:cols]
					copy(dst, sc.out[r*pwStrip:][:cols])
					if res != nil {
						for j, v := range res[(r0+r)*n+c0:][:cols] {
							dst[j] += v
						}
					}
				}
			}
		}
	}
	if items > 0 {
		// At most one goroutine per 128k multiply-adds.
		parallel.Ranges(items, max(1, mA*nA*k>>17), run)
	}
}

// pwChains computes, as the backend's small-matrix path does outside its
// tiles, the outputs of the first mA pixels at channels nA.. (its four-row
// loop) and of the pixels mA.. at every channel (its one-row loop): per
// output s = 0, then s += x·w for each input channel in order, 16 outputs
// of a pixel per vector (the packed strips are zero past p.out), then the
// bias, the activation and the residual. A step is tileChainStep in the
// four-row loop and rowChainStep in the one-row loop (they differ where the
// build fuses multiply-adds). The pixels are split over the cores.
func pwChains(p *directPW, x []float32, m int, res, y []float32, mA, nA int) {
	k, n := p.in, p.out
	row := func(r, j0 int) {
		var sums [16]float32
		tile := fma.Fused && r < mA // (the steps differ only where fused)
		for j := j0; j < n; j += 16 {
			var a archsimd.Float32x16
			for c, l := range x[r*k : (r+1)*k] {
				o := (j/pwStrip*k+c)*pwStrip + j%pwStrip
				w, v := archsimd.LoadFloat32x16(p.wp[o:o+16]), archsimd.BroadcastFloat32x16(l)
				if tile {
					a = tileChainStep(a, w, v)
				} else {
					a = rowChainStep(a, w, v)
				}
			}
			a.Store(sums[:])
			for i, s := range sums[:min(16, n-j)] {
				s = p.act.apply(s + p.biasPad[j+i])
				if res != nil {
					s += res[r*n+j+i]
				}
				y[r*n+j+i] = s
			}
		}
	}
	if nA < n {
		parallel.Ranges(mA, max(1, mA*(n-nA)*k>>15), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				row(r, nA)
			}
		})
	}
	for r := mA; r < m; r++ {
		row(r, 0)
	}
}

// fcAVX512 is fcDirect: one block of fcBlock outputs at a time (four
// vectors of sums), split over the cores. Each lane is the backend's scalar
// chain for its output: s = 0, then s += w[k]·x[k] for k in order (one
// tileChainStep each), then + bias and ReLU. The graph's product
// (Ops.Dense) is a batch of two halves of wᵀ against x, and the backend's
// transposed small path runs the rows of each half four at a time, then the
// last half mod 4 rows one at a time, a loop no build fuses: where the build
// fuses the four-row loop (fma.Fused), those outputs, at most 3 per half,
// are redone by fcRowChain.
func fcAVX512(p *directFC, x, y []float32) {
	in, out := p.in, p.out
	if len(x) != in || len(y) != out {
		panic(fmt.Sprintf("convnet.fcDirect: %d inputs, %d outputs for %d→%d features", len(x), len(y), in, out))
	}
	var zero archsimd.Float32x16
	run := func(b0, b1 int) {
		var last [fcBlock]float32 // the outputs of a block cut short by out
		for b := b0; b < b1; b++ {
			w := p.wp[b*in*fcBlock : (b+1)*in*fcBlock]
			var a [4]archsimd.Float32x16
			for k, xv := range x {
				v := archsimd.BroadcastFloat32x16(xv)
				row := w[k*fcBlock : k*fcBlock+fcBlock]
				a[0] = tileChainStep(a[0], archsimd.LoadFloat32x16(row[0:16]), v)
				a[1] = tileChainStep(a[1], archsimd.LoadFloat32x16(row[16:32]), v)
				a[2] = tileChainStep(a[2], archsimd.LoadFloat32x16(row[32:48]), v)
				a[3] = tileChainStep(a[3], archsimd.LoadFloat32x16(row[48:64]), v)
			}
			j := b * fcBlock
			dst := last[:]
			if j+fcBlock <= out {
				dst = y[j : j+fcBlock]
			}
			for i, v := range a {
				v = v.Add(archsimd.LoadFloat32x16(p.biasPad[j+16*i : j+16*i+16]))
				if p.act == dwReLU {
					v = v.Max(zero)
				}
				v.Store(dst[16*i : 16*i+16])
			}
			if j+fcBlock > out {
				copy(y[j:], last[:out-j])
			}
		}
	}
	// At most one goroutine per 64k weights read.
	parallel.Ranges((out+fcBlock-1)/fcBlock, max(1, in*out>>16), run)
	if fma.Fused {
		half := (out + 1) / 2
		for h := range 2 {
			for r := half &^ 3; r < half && h*half+r < out; r++ {
				y[h*half+r] = fcRowChain(p, x, h*half+r)
			}
		}
	}
}

// fcRowChain is output j of fcAVX512 by the backend's one-row loop: each
// product rounded before it is added (the conversion keeps the compiler
// from fusing them, as rowChainStep), then + bias and ReLU.
func fcRowChain(p *directFC, x []float32, j int) float32 {
	w := p.wp[j/fcBlock*p.in*fcBlock+j%fcBlock:]
	var s float32
	for k, xv := range x {
		s += float32(w[k*fcBlock] * xv)
	}
	s += p.biasPad[j]
	if p.act == dwReLU {
		s = max(s, 0)
	}
	return s
}

// tileChainStep is one step s + w·x of the backend's four-row scalar loops
// (s0 += l0·r, ... s3 += l3·r), in 16 lanes: fused where the build fuses
// them (see package fma), else the product rounded, then added.
func tileChainStep(s, w, x archsimd.Float32x16) archsimd.Float32x16 {
	if fma.Fused {
		return w.MulAdd(x, s)
	}
	return s.Add(w.Mul(x))
}

// rowChainStep is one step s + w·x of the backend's one-row scalar loops
// (s += l·r, both values loaded for that one product: the compiler folds a
// load into the multiplication and then does not fuse), in 16 lanes: the
// product rounded, then added, whatever the build. The tests of the direct
// kernels check both steps against the backend in either build (CI runs a
// GOAMD64=v3 build of them too).
func rowChainStep(s, w, x archsimd.Float32x16) archsimd.Float32x16 { return s.Add(w.Mul(x)) }
