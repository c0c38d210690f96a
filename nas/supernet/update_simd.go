//go:build goexperiment.simd && amd64

package supernet

import "simd/archsimd"

// hasVectorUpdate: the vector loops use AVX-512.
var hasVectorUpdate = archsimd.X86.AVX512()

// rmspropVector is rmspropRun's loop on whole vectors of 16; it returns how
// many values it updated.
func rmspropVector(w, ms, mom, g []float32, wd, rho, eps, mu, lr float32) int {
	vwd, vrho, vrho1 := archsimd.BroadcastFloat32x16(wd), archsimd.BroadcastFloat32x16(rho), archsimd.BroadcastFloat32x16(1-rho)
	veps, vmu, vlr := archsimd.BroadcastFloat32x16(eps), archsimd.BroadcastFloat32x16(mu), archsimd.BroadcastFloat32x16(lr)
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

// sgdVector is sgdRun's loop on whole vectors of 16.
func sgdVector(w, mom, g []float32, wd, mu, lr float32) int {
	vwd, vmu, vlr := archsimd.BroadcastFloat32x16(wd), archsimd.BroadcastFloat32x16(mu), archsimd.BroadcastFloat32x16(lr)
	n := len(w) &^ 15
	for i := 0; i < n; i += 16 {
		wi := archsimd.LoadFloat32x16(w[i : i+16])
		gi := archsimd.LoadFloat32x16(g[i : i+16]).Add(vwd.Mul(wi))
		momi := vmu.Mul(archsimd.LoadFloat32x16(mom[i : i+16])).Add(gi)
		momi.Store(mom[i : i+16])
		wi.Sub(vlr.Mul(gi.Add(vmu.Mul(momi)))).Store(w[i : i+16])
	}
	return n
}
