//go:build goexperiment.simd && amd64

package optim

import "simd/archsimd"

// hasVectorUpdate: the vector loops use AVX-512.
var hasVectorUpdate = archsimd.X86.AVX512()

// rmspropVector is RMSPropRun's loop on whole vectors of 16; it returns how
// many values it updated.
func rmspropVector(w, ms, mom, g []float32, c Coeffs) int {
	vwd, vrho, vrho1 := archsimd.BroadcastFloat32x16(c.WD), archsimd.BroadcastFloat32x16(c.Rho), archsimd.BroadcastFloat32x16(c.Rho1)
	veps, vmu, vlr := archsimd.BroadcastFloat32x16(c.Eps), archsimd.BroadcastFloat32x16(c.Mu), archsimd.BroadcastFloat32x16(c.LR)
	n := len(w) &^ 15
	for i := 0; i < n; i += 16 {
		wi := archsimd.LoadFloat32x16(w[i : i+16])
		gi := archsimd.LoadFloat32x16(g[i : i+16]).Add(vwd.Mul(wi))
		msi := vrho.Mul(archsimd.LoadFloat32x16(ms[i : i+16])).Add(vrho1.Mul(gi).Mul(gi))
		msi.Store(ms[i : i+16])
		momi := vmu.Mul(archsimd.LoadFloat32x16(mom[i : i+16])).Add(vlr.Mul(gi).Div(msi.Add(veps).Sqrt()))
		momi.Store(mom[i : i+16])
		wi.Sub(momi).Store(w[i : i+16])
	}
	return n
}

// sgdVector is SGDRun's loop on whole vectors of 16.
func sgdVector(w, mom, g []float32, nesterov bool, c Coeffs) int {
	vwd, vmu, vlr := archsimd.BroadcastFloat32x16(c.WD), archsimd.BroadcastFloat32x16(c.Mu), archsimd.BroadcastFloat32x16(c.LR)
	n := len(w) &^ 15
	for i := 0; i < n; i += 16 {
		wi := archsimd.LoadFloat32x16(w[i : i+16])
		gi := archsimd.LoadFloat32x16(g[i : i+16]).Add(vwd.Mul(wi))
		momi := vmu.Mul(archsimd.LoadFloat32x16(mom[i : i+16])).Add(gi)
		momi.Store(mom[i : i+16])
		if nesterov {
			wi.Sub(vlr.Mul(gi.Add(vmu.Mul(momi)))).Store(w[i : i+16])
		} else {
			wi.Sub(vlr.Mul(momi)).Store(w[i : i+16])
		}
	}
	return n
}

// adamVector is AdamRun's loop on whole vectors of 16.
func adamVector(w, m1, m2, g []float32, c Coeffs) int {
	vmu, vmu1, vrho, vrho1 := archsimd.BroadcastFloat32x16(c.Mu), archsimd.BroadcastFloat32x16(c.Mu1), archsimd.BroadcastFloat32x16(c.Rho), archsimd.BroadcastFloat32x16(c.Rho1)
	vc1, vc2, veps := archsimd.BroadcastFloat32x16(c.C1), archsimd.BroadcastFloat32x16(c.C2), archsimd.BroadcastFloat32x16(c.Eps)
	vwd, vlr := archsimd.BroadcastFloat32x16(c.WD), archsimd.BroadcastFloat32x16(c.LR)
	n := len(w) &^ 15
	for i := 0; i < n; i += 16 {
		gi := archsimd.LoadFloat32x16(g[i : i+16])
		a := vmu.Mul(archsimd.LoadFloat32x16(m1[i : i+16])).Add(vmu1.Mul(gi))
		b := vrho.Mul(archsimd.LoadFloat32x16(m2[i : i+16])).Add(vrho1.Mul(gi.Mul(gi)))
		a.Store(m1[i : i+16])
		b.Store(m2[i : i+16])
		u := a.Div(vc1).Div(b.Div(vc2).Sqrt().Add(veps))
		wi := archsimd.LoadFloat32x16(w[i : i+16])
		if c.WD != 0 {
			u = u.Add(vwd.Mul(wi))
		}
		wi.Sub(vlr.Mul(u)).Store(w[i : i+16])
	}
	return n
}
