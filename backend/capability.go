package backend

import "github.com/gomlx/compute"

// Capability queries: what the project needs to know of a backend, asked in
// one place instead of comparing backend names where the answer is used.

// IsGo reports whether b is gomlx's pure-Go backend.
// (compute v0.1.14's Go backend has Name() "Go Backend" and String() "go".)
func IsGo(b compute.Backend) bool {
	return b != nil && (b.String() == "go" || b.Name() == "go")
}

// IsONNX reports whether b is the ONNX Runtime backend.
func IsONNX(b compute.Backend) bool {
	return b != nil && (b.Name() == "onnxruntime" || b.String() == "onnxruntime")
}

// PrefersLoweredConvolutions reports whether networks on b are better built
// from the lowered convolutions (MatMuls and shifted windows, blocks/convnet)
// than from graph.Convolve: on the pure-Go backend, whose native convolutions
// are slow, and on ONNX Runtime, which has no gradient of strided
// convolutions. A nil backend (a graph built before one is chosen) counts as
// the default, the pure-Go backend.
func PrefersLoweredConvolutions(b compute.Backend) bool {
	return b == nil || IsGo(b) || IsONNX(b)
}

// Asynchronous reports whether b may return from an execution before its
// results are computed (XLA's PJRT devices), so that a timing must wait for
// the results. The pure-Go backend and ONNX Runtime run synchronously.
func Asynchronous(b compute.Backend) bool {
	return !IsGo(b) && !IsONNX(b)
}
