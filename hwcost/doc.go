// Package hwcost models the latency of mobile architectures on several
// hardware targets and combines them into the multi-hardware cost of Chu et al.
// (CVPRW 2021): the normalised latency r_h(a) = L_h(a) / L_h(ref) of an
// architecture a on each target h, relative to a reference model (MobileNetV2
// 1.0 at 224 by default), and their average (AVG), maximum (MAX) or weighted
// average over the chosen targets.
//
// # Targets
//
// A [Target] costs an architecture as a sum over [Segment]s (the stem, each
// block with the shape of its input, the head) of small additive cost vectors,
// followed by one cheap non-linear step ([Target.Latency]) that turns the summed
// vector into milliseconds. The built-in targets are [Analytic] roofline models
// (one per hardware, see [TargetNames]): per primitive layer (blocks.Op)
//
//	time = max(MACs / (peak · efficiency[op]), bytes / bandwidth) + per-layer overhead
//
// with bytes = activations in and out plus weights at the target's precision
// (int8 on CPU/DSP/EdgeTPU, fp16 on GPU/ANE), weights left out when the target
// caches parameters on chip; per inference a fixed overhead and the streaming of
// the weights that do not fit on chip are added. The parameters are data
// ([Params], with units), fitted by [Fitter] (rerun with `multihw cost fit`)
// to published latencies and, for the Pixel 4 CPU/GPU/DSP and the Coral Edge
// TPU, to thousands of NAS-Bench-201 networks timed on the same silicon
// ([BenchColumn]; the benchmark networks are blocks.NB201Network and
// blocks.FBNetNetwork, costed like any architecture), embedded in params.json
// with their uncertainty ([Posterior]) and used by default ([DefaultParams]);
// the priors they are regularised towards are in specs.go with their sources.
// A target fitted on a few published rows alone chooses between the roofline
// and smaller forms of it (fitform.go) by nested leave-one-out. How each
// fitted model ranks its published rows held out against plain MACs
// ([RankCheck]) is kept with the parameters; [Metric.Caveats] turns the
// targets that rank worse than MACs into a sentence each, which `multihw cost`
// prints and a search records in its notes.
// A measured per-segment lookup table ([Measured]) is a Target too, and so is
// a [TargetFile]: an analytic target saved as JSON, e.g. by [Adapt], which fits
// a new device from a few measured architectures.
//
// [Sensitivity] draws parameter sets from the fits' posteriors and reports
// how far normalised latencies, AVG and MAX spread and how likely each
// ordering of two architectures is.
//
// # Metric
//
// [Metric] holds the chosen targets and the reference latencies. It evaluates
// any architecture ([Metric.Evaluate], [Metric.Scores]) through one static
// analysis (blocks.Analyze) per call. For a search, [Table] precomputes the cost
// vector of every option at every position of a search space and evaluates a
// choice of options by summing lookups into a caller-provided buffer, without
// allocation (well over a million evaluations per second on one core; see
// BenchmarkTable).
package hwcost
