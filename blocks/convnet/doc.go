// Package convnet builds the gomlx graph of any blocks.Arch, fast on gomlx's
// pure-Go backend.
//
// Builder (New) turns an architecture into logits under a model.Scope, the gomlx
// way: variables in stable scopes named after blocks.Analyze's layers,
// training vs inference from model.Scope.IsTraining (BatchNorm batch statistics
// and moving-average updates, dropout only in training).
//
// Ops holds the convolutions in two flavours sharing the same weights: native
// (graph.Convolve on NHWC images, for XLA) and lowered (MatMuls, shifted
// windows and banded matrices with hand-written gradients, for the Go backend
// and ONNX Runtime), the lowered ones in a layout chosen per graph by batch
// size (Layout, LayoutFor: channels-first CHWN for training batches, NHWC for
// single images; In converts the images, Channels and Pool read the layout).
// At inference with known weights BatchNorm is folded into the lowered
// convolutions (FoldBatchNorm). They are exported for the NAS supernet, which
// applies them to sliced or masked weights.
//
// Staged (Builder.NewStaged) runs the inference network on the pure-Go
// backend for a few images as graph segments built by the same code, with
// what the backend has no fast op for done in Go between them: each depthwise
// convolution with its folded BatchNorm and activation as one pass, and the
// input normalisation and the stem's im2col columns (direct.go). Its logits
// equal the one graph's float for float. PERFORMANCE.md (repository root)
// has the measurements behind these choices.
package convnet
