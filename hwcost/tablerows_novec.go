//go:build !(goexperiment.simd && amd64)

package hwcost

// Without GOEXPERIMENT=simd on amd64 the form five sums in scalars (sum5).
const hasSum5Vec = false

func sum5Vec(pos [][]row8, choices []int) (s0, s1, s2, s3, s4 float64, bad int) {
	return sum5(pos, choices)
}

func maxVec(pos [][]row8, choices []int, k *maxLanes) (float64, int) {
	panic("hwcost: maxVec without vector support")
}

func normVec(pos [][]row8, choices []int, k *maxLanes, out *[4]float64) int {
	panic("hwcost: normVec without vector support")
}
