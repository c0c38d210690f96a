//go:build amd64.v3

package fma

// Fused reports whether the compiler fuses multiply-adds in this build.
const Fused = true
