// Package train trains, evaluates and checkpoints the networks of
// blocks/convnet on the datasets of train/data, on any gomlx backend (chosen
// by package backend).
//
// # Training
//
//	ds, _ := data.Load("fashion-mnist")
//	arch, _ := blocks.Model("multi_avg")
//	res, err := train.New(arch, ds).
//		Recipe(recipe).            // default: DefaultRecipe()
//		Seed(1).
//		Out("/work/runs/multi_avg"). // checkpoints, metrics.jsonl, result.json
//		Progress(os.Stderr).
//		Run(ctx)
//	fmt.Println(res.Test.Accuracy)
//
// The architecture is given as deployed (224 px, 1001 classes); blocks.ProxyArch
// adapts it to the dataset (input, classes and the strides named by blocks.Adapt,
// blocks.DefaultAdapt unless configured), in one place, so the same description
// serves the hardware cost (always at its own resolution) and the proxy
// training.
//
// A Recipe is plain data (it is stored in every checkpoint): optimizer (SGD
// with Nesterov momentum, TF-style RMSProp, Adam), peak learning rate, linear
// warm-up then cosine decay, weight decay on kernels, label smoothing, batch
// size, length in epochs or steps, BatchNorm momentum and the recalibration of
// the BatchNorm averages before the final evaluation. The learning rate of
// each step is computed in Go (Plan.LearningRate) and fed through a variable.
//
// # Checkpoints and exact resume
//
// With an output directory, checkpoints are written at every evaluation, at
// an interval of wall time and at the end, each as one self-checked file
// written atomically (see Checkpoint for the format); the newest Keep are
// kept. Resume(true) continues from the newest valid one (an unreadable
// newer one is set aside as *.corrupt and named in Result.Notes). The output
// directory is a run directory (internal/rundir): a directory holding
// anything but a training run is refused, one process writes into it at a
// time, and temporary files a killed save left are removed. A checkpoint holds
// everything the continuation depends on: all variables (weights, BatchNorm
// averages, optimizer slots, the global step, the dropout RNG state), the
// moving averages shown in the logs, recipe, plan, seed, architectures and
// dataset description; the data stream is a pure function of (seed, step).
// So a run killed at any point and resumed ends bitwise identical to an
// uninterrupted one on the Go backend (TestResumeAfterKill checks this with
// SIGKILL). A NaN or infinite loss, or non-finite weights about to be saved,
// stop the run with a *DivergedError naming the last good checkpoint.
//
// # Evaluation and inference
//
// EvaluateCheckpoint gives accuracy, per-class accuracy, the confusion matrix
// and the mean cross-entropy of a checkpoint on a split; NewInference builds
// an inference model of a checkpoint on any backend (used by train/export).
//
// Gotcha (gomlx v0.28 on the Go backend and ONNX Runtime): an inference
// graph embeds the variables as constants when it is compiled
// (Capabilities.PreferConstantsForVariables), so an executor built once keeps
// the weights of its first call. Evaluations during training therefore build
// a new executor each time.
package train
