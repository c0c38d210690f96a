//go:build !(goexperiment.simd && amd64)

package supernet

// hasVectorUpdate is false without GOEXPERIMENT=simd on amd64 (see update_simd.go).
const hasVectorUpdate = false

func rmspropVector(w, ms, mom, g []float32, wd, rho, eps, mu, lr float32) int { return 0 }

func sgdVector(w, mom, g []float32, wd, mu, lr float32) int { return 0 }
