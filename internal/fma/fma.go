// Package fma says whether this build's compiler fuses floating-point
// multiply-adds.
//
// Go lets a compiler compute x*y + z with one rounding (a fused
// multiply-add) unless an explicit conversion rounds the product first. On
// amd64 the compiler does so when built for GOAMD64=v3 or above, whose CPUs
// have FMA instructions, where both operands of the product are in registers
// (a product that reads one from memory is folded with the load first, and
// stays rounded); at v1 and v2 (the default) every product is rounded
// before it is added. Code that repeats another package's float arithmetic
// bit for bit (the Go inference kernels repeat the Go backend's scalar
// loops) follows Fused; code that repeats graph ops, which round every
// product, writes the rounding out (float32(x*y)) so that no build fuses it.
//
// The project's committed results (hwcost's fits) come from GOAMD64=v1
// builds, which the Makefile sets: a fused build moves the fitted
// parameters by up to about 2e-7 (relative), a reference device's by 1e-5
// and a held-out prediction of a poorly conditioned fold by 0.3%.
package fma
