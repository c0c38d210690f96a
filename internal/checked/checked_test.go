package checked

import (
	"math"
	"testing"
)

func TestChecked(t *testing.T) {
	for _, c := range []struct {
		vals []int64
		mul  int64
		ok   bool
	}{
		{nil, 1, true},
		{[]int64{3, 5, 7}, 105, true},
		{[]int64{0, math.MaxInt64}, 0, true},
		{[]int64{1 << 31, 1 << 31}, 1 << 62, true},
		{[]int64{1 << 32, 1 << 31}, 0, false}, // 2^63 does not fit
		{[]int64{math.MaxInt64, 2}, 0, false},
		{[]int64{3, -1}, 0, false},
		// 4096² px × 31² kernel × 65536² channels: the product that overflowed
		// the analysis (6.9e19 > 9.2e18).
		{[]int64{4096 * 4096, 31 * 31, 65536, 65536}, 0, false},
	} {
		if got, ok := Mul(c.vals...); got != c.mul || ok != c.ok {
			t.Errorf("Mul%v = %d, %v; want %d, %v", c.vals, got, ok, c.mul, c.ok)
		}
	}
	if s, ok := Add(math.MaxInt64-1, 1); !ok || s != math.MaxInt64 {
		t.Errorf("Add(MaxInt64-1, 1) = %d, %v", s, ok)
	}
	if _, ok := Add(math.MaxInt64, 1); ok {
		t.Error("Add(MaxInt64, 1) reported exact")
	}
	if _, ok := Add(1, -2); ok {
		t.Error("Add of a negative value reported exact")
	}
	if got := SatMul(1<<40, 1<<40); got != math.MaxInt64 {
		t.Errorf("SatMul overflow = %d", got)
	}
	if got := SatMul(6, 7); got != 42 {
		t.Errorf("SatMul(6, 7) = %d", got)
	}
	if got := SatMul(5, -3); got != 0 {
		t.Errorf("SatMul(5, -3) = %d", got)
	}
	if got := SatAdd(math.MaxInt64, 5, -7); got != math.MaxInt64 {
		t.Errorf("SatAdd overflow = %d", got)
	}
}
