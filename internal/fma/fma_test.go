package fma

import "testing"

// p, q and r make p·q + r differ with one rounding and with two: p·q =
// 1 + 2⁻¹¹ + 2⁻²⁴ exactly, which float32 rounds (a tie, to even) to
// 1 + 2⁻¹¹, so p·q + r is 0 when the product is rounded first and 2⁻²⁴ when
// fused. Variables, so that the compiler cannot fold them.
var p, q, r float32 = 1 + 0x1p-12, 1 + 0x1p-12, -(1 + 0x1p-11)

// mulAdd is the shape of the backend's four-row loops, s += a·b with its
// operands in registers (not inlined: the compiler folds a load from memory
// into the multiplication first, and then does not fuse).
//
//go:noinline
func mulAdd(s, a, b float32) float32 {
	s += a * b
	return s
}

// TestFusedMatchesCompiler checks Fused against what this build's compiler
// does: a toolchain that changes when it fuses fails here first.
func TestFusedMatchesCompiler(t *testing.T) {
	got := mulAdd(r, p, q)
	if fused := got != 0; fused != Fused {
		t.Fatalf("p·q + r = %g: the compiler fuses multiply-adds: %v, Fused says %v", got, fused, Fused)
	}
	if rounded := r + float32(p*q); rounded != 0 {
		t.Fatalf("r + float32(p·q) = %g, want 0: the conversion must round the product", rounded)
	}
}
