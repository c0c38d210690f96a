// Package convnet builds the gomlx graph of any blocks.Arch, fast on gomlx's
// pure-Go backend.
//
// Builder (New) turns an architecture into logits under a model.Scope, the gomlx
// way: variables in stable scopes named after blocks.Analyze's layers,
// training vs inference from model.Scope.IsTraining (BatchNorm batch statistics
// and moving-average updates, dropout only in training).
//
// Ops holds the convolutions on NHWC images in two flavours sharing the same
// weights: native (graph.Convolve, for XLA) and lowered (MatMuls and shifted
// windows with hand-written gradients, for the Go backend and ONNX Runtime).
// They are exported for the NAS supernet, which applies them to sliced or
// masked weights.
package convnet
