//go:build !(goexperiment.simd && amd64)

package optim

// hasVectorUpdate is false without GOEXPERIMENT=simd on amd64 (see update_simd.go).
const hasVectorUpdate = false

func rmspropVector(w, ms, mom, g []float32, c Coeffs) int { return 0 }

func sgdVector(w, mom, g []float32, nesterov bool, c Coeffs) int { return 0 }

func adamVector(w, m1, m2, g []float32, c Coeffs) int { return 0 }
