// Package supernet is the weight-sharing one-shot model of a nas.Space
// (TuNAS-style), trained on a small proxy task with gomlx.
//
// Every decision of the space shares weights with its other options:
//
//   - widths (stem and stage multipliers) and expansion ratios use the first
//     C channels of a variable sized for the largest option;
//   - kernels use the centre k×k taps of the largest kernel;
//   - depth: blocks beyond a stage's depth are skipped (identity);
//   - block kinds (see Sharing; default ShareExpandProject): IBN and fused
//     IBN share their 1×1 projection, and the IBN's 1×1 expansion is the
//     centre tap of the fused IBN's k×k expansion; the IBN's depthwise is its
//     own. Without that sharing the two kinds compute unrelated features and
//     a supernet mixing them barely learns (measured by `multihw search
//     ablation`, see nas/SEARCH_REPORT.md).
//
// A path is built from the op plans (blocks.Block.Plan) of the proxy of
// space.Arch(point): the same ops, widths, strides and residuals as the
// network blocks/convnet retrains and package hwcost costs, with every
// weight a slice of a shared variable. Whether a block of expansion 1 has
// its expansion conv is the space's rule (nas.ExpandOne, written into the
// blocks by nas.Space.Arch), never the supernet's.
//
// A point of the space is trained and evaluated as a path: a gomlx graph built
// for that path alone, whose inputs are the slices of the shared variables it
// uses and whose outputs (training) are the gradients of those slices. The
// variables and the optimizer slots (RMSProp or SGD) are Go arrays at the
// maximal shapes; the optimizer updates only the slices a path used (a lazy
// update: weights and slots elsewhere stay as they are). Compiled path graphs
// are cached by the path's proxy architecture (LRU): once the controller
// converges, paths repeat.
//
// Why slicing and not TuNAS's masking (one static graph at maximal shapes
// with mask tensors): on the pure-Go backend a masked graph pays for both
// block kinds at the largest kernel, expansion, width and depth at every step,
// many times an average path, while building and compiling a path graph costs
// a fraction of one step (`multihw search bench`). Keeping the variables in Go
// rather than in a gomlx store also keeps a step's cost proportional to the
// path: a graph that updated full variables in place would copy every
// maximal-shaped weight (the fused 5×5 expansions of the widest stages hold
// tens of millions) at every step.
//
// TuNAS's op warm-up is supported by mixed paths (Supernet.MixedPath,
// TrainMixed): a kind, kernel or depth decision marked as averaged averages
// the outputs of all its options (kernels: one convolution with the average
// of the centred kernels; kinds: the average of the block outputs; depths:
// the average of the stage outputs), as TuNAS's masks of 1/n do.
//
// BatchNorm always uses the batch statistics (no moving averages): with
// weight sharing, moving averages would mix the statistics of different
// paths. The supernet has no dropout.
//
// The trained proxy of a point is the adaptation the train package retrains
// with: space.Arch(point) (the deployed, costed architecture at 224 px),
// scaled by the proxy width factor (blocks.Arch.WithWidth), then
// blocks.ProxyArch for the dataset's image size.
package supernet
