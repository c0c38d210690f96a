// Package predict learns an architecture's latency on a device from a few
// hundred measured architectures, and reports how well that works on the rest
// (package hwcost/devicedata holds the measurements).
//
// An architecture of a [Space] is an [Arch]: one op index per position (the 6
// edges of a NAS-Bench-201 cell, [NB201]; the 22 layers of an FBNet-space
// network, [FBNet]). A [Dataset] pairs architectures with measured latencies
// ([Load] reads one device column of a file, keeping measured rows only;
// [Dataset.Split] draws a seeded training set). Two [Predictor]s share one
// interface and are chosen by name with [New]:
//
//   - "lookup" ([Lookup]): the TuNAS-style latency lookup table, one cost per
//     (position, op), summed, fitted by least squares. The baseline.
//   - "structured" ([Structured]): knows the space's structure (which NB201
//     edges actually run; which positions share layer shapes), fits with a
//     robust loss, picks its shrinkage by cross-validation and adds
//     boosted trees for interactions only when held-out folds say they help.
//     See [Structured] for the model in full.
//
// [Evaluate] fits on a training set and returns [Metrics] on a test set:
// Spearman rank correlation, relative RMSE and the fraction predicted within
// ±10%. [RunReport] compares both predictors on every device column of the
// embedded files and writes REPORT.md (`multihw cost eval --all`).
//
// Everything is plain Go (no gomlx): the fits are a few hundred small
// Cholesky solves and a few thousand depth-3 trees, seconds on one core, and
// every step can be read and checked.
package predict
