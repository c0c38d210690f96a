// Package supernet is the weight-sharing one-shot model of a nas.Space
// (TuNAS-style), trained on a small proxy task with gomlx.
//
// Every decision of the space shares weights with its larger options:
//
//   - widths (stem and stage multipliers) and expansion ratios use the first
//     C channels of a variable sized for the largest option;
//   - kernels use the centre k×k taps of the largest kernel;
//   - depth: blocks beyond a stage's depth are skipped (identity);
//   - block kinds: IBN and fused IBN have separate weight sets — the IBN's
//     1×1 expand + k×k depthwise, the fused IBN's k×k full-conv expand — and
//     separate 1×1 projections: the projection's input differs in kind (after
//     a depthwise vs after a full conv), so sharing it would couple two
//     unrelated feature distributions for no saving in compute.
//
// A point of the space is trained and evaluated as a path: a gomlx graph built
// for that path alone, with every weight a static slice of its shared
// variable. Gradients flow only to those slices and the optimizer updates only
// them (weights and optimizer slots, written back with DynamicUpdateSlice),
// while the slots cover the full variables. Compiled path graphs are cached by
// the path's proxy architecture (LRU): once the controller converges, paths
// repeat. Why slicing and not TuNAS's masking (one static graph at maximal
// shapes): on the pure-Go backend a masked step costs the maximal network
// every step, many times an average path, while building and compiling a path
// graph costs less than one average step (see BenchmarkPathVsMax and
// nas/SEARCH_REPORT.md).
//
// BatchNorm always uses the batch statistics (no moving averages): with
// weight sharing, moving averages mix the statistics of different paths, so
// TuNAS evaluates sampled paths in training mode too. The supernet has no
// dropout.
//
// The trained proxy of a point is the same adaptation the train package
// retrains with: space.Arch(point) (the deployed, costed architecture at 224
// px), scaled by the proxy width factor (blocks.Arch.WithWidth), then
// train.ProxyArch for the dataset's image size.
package supernet
