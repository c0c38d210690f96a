//go:build !(goexperiment.simd && amd64)

package hwcost

// hasSum8SIMD is false without GOEXPERIMENT=simd on amd64 (see table_simd.go).
const hasSum8SIMD = false

func (t *Table) sum8SIMD(choices []int, acc []float64) int { return t.sum8(choices, acc) }
