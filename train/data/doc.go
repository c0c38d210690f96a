// Package data provides the image datasets multihw trains and searches on:
// Fashion-MNIST (IDX files, the default), CIFAR-10 (binary format) and image
// folders (one sub-folder per class), with a seeded validation split,
// per-channel normalisation, augmentation, and deterministic batching.
//
// # Loading
//
// Load takes the spelling of the CLI's --dataset flag:
//
//	fashion-mnist          /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist)
//	fashion-mnist:DIR      the four IDX files (gzipped or not) in DIR
//	cifar10:DIR            data_batch_1..5.bin, test_batch.bin, batches.meta.txt (DIR or DIR/cifar-10-batches-bin)
//	folder:DIR             DIR/CLASS/*.png|jpg, or DIR/train/CLASS/... and DIR/test/CLASS/...
//
// NewLoader(spec) configures the rest (validation fraction, seed, folder image
// size...). Pixels stay in memory as uint8 NHWC; conversion to float32 happens
// per batch. A loader either returns a complete Dataset or an error naming the
// file and the problem; it never writes anything.
//
// # Batching contract
//
// A Stream's batch k is a pure function of (split, seed, k): the order of
// epoch e is a permutation derived from (seed, e) only, and the augmentation of
// the example at stream position p from (seed, p) only. Nothing advances
// across calls, so a training run killed at step k and restarted with
// Fill(k, ...) sees exactly the batches an uninterrupted run would have seen.
//
// The stream is the infinite concatenation of per-epoch permutations of the
// split: batch k holds positions k*B ... k*B+B-1 of it. Every batch is full,
// no example is dropped, and a batch may straddle two epochs when the split
// size is not a multiple of B (Epoch(k) is fractional).
//
// Evaluation (Eval) walks a split in its stored order. The last batch is
// padded to the full batch size with zero images and label 0; EvalBatch.Valid
// says how many rows are real. The gomlx adapter can instead yield a smaller
// last batch (the default there, because gomlx's mean metrics weight each batch
// by its size).
//
// # Determinism across versions
//
// Shuffles and augmentation use this package's own SplitMix64 generator and
// Fisher-Yates shuffle, not math/rand, so batches do not change with the Go
// version.
package data
