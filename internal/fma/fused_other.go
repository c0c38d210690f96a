//go:build !amd64.v3

package fma

// Fused reports whether the compiler fuses multiply-adds in this build.
// False here: amd64 below GOAMD64=v3, or another architecture, where the
// project's kernels that depend on it are not built.
const Fused = false
