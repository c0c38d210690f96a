// Package checked is integer arithmetic that reports overflow instead of
// wrapping around: sizes computed from user input (widths, kernels,
// resolutions, batch sizes) must never turn into negative MACs, parameter
// counts or byte sizes.
package checked

import (
	"math"
	"math/bits"
)

// Mul returns the product of non-negative values and whether it is exact: ok
// is false when a value is negative or the product exceeds math.MaxInt64.
func Mul(vals ...int64) (p int64, ok bool) {
	p = 1
	for _, v := range vals {
		if v < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(uint64(p), uint64(v))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		p = int64(lo)
	}
	return p, true
}

// Add returns the sum of non-negative values and whether it is exact: ok is
// false when a value is negative or the sum exceeds math.MaxInt64.
func Add(vals ...int64) (s int64, ok bool) {
	for _, v := range vals {
		if v < 0 || s > math.MaxInt64-v {
			return 0, false
		}
		s += v
	}
	return s, true
}

// SatMul is Mul saturating at math.MaxInt64 (negative values count as 0):
// for estimates compared with a limit, where "too large" is the answer.
func SatMul(vals ...int64) int64 {
	p := int64(1)
	for _, v := range vals {
		if v <= 0 {
			return 0
		}
	}
	for _, v := range vals {
		var ok bool
		if p, ok = Mul(p, v); !ok {
			return math.MaxInt64
		}
	}
	return p
}

// SatAdd is Add saturating at math.MaxInt64 (negative values count as 0).
func SatAdd(vals ...int64) int64 {
	var s int64
	for _, v := range vals {
		if v <= 0 {
			continue
		}
		var ok bool
		if s, ok = Add(s, v); !ok {
			return math.MaxInt64
		}
	}
	return s
}
