// Package measure adds the "local" hardware target: latencies measured on this
// machine with a gomlx backend, as a per-segment lookup table that hwcost sums
// like any other target (the way TuNAS costed architectures on phones).
//
// A Measurer times batch-1 inference (warm-up runs, then N timed runs) of whole
// architectures (built by blocks/convnet) and of their segments alone — the
// stem, every block with the shape of its input, the head — with random
// weights and BatchNorm in inference mode (BuildSegment builds one segment
// with convnet's ops and variable names). On the pure-Go backend with the
// lowered ops, what is timed is the network as train.Inference runs it there
// (convnet.Staged; a segment through convnet.Net.NewStaged on SegmentPlan):
// the same outputs as the graph, several times faster, so the table costs
// what a deployment on this machine runs. Measure interleaves the runs (each
// pass: a trivial graph, a whole model, then its segments) so that the load of
// a shared machine hits a model and its segments alike, and records them in a
// Table:
//
//	tbl, _ := measure.LoadOrNew(path, measure.KeyOf(cfg, be))
//	err := measure.New(be).Runs(20).Progress(os.Stderr).Measure(tbl, archs...)
//	tbl.Overhead, err = tbl.FitOverhead() // fixed term from the whole models
//	err = tbl.Save(path)                   // JSON, atomic
//	ms, err := tbl.Predict(arch)           // Σ segments + overhead
//	ev, err := tbl.Evaluate()              // measured vs predicted, held out
//
// Entries are keyed by hwcost.Segment.Key (block kind, kernels, stride,
// expansion, output width, activation, skip; input width and size), so any
// architecture made of measured segments is costed without running it; a
// missing segment is an error that names it and the command that measures it.
//
// Prediction = Overhead.FixedMs + Σ (segment timing + Overhead.PerSegmentMs):
// each segment timed alone pays one graph call that the whole model pays once
// (PerSegmentMs = −the measured call overhead), and the fixed term is fitted
// to the whole-model timings. Table.Stat chooses the statistic of the runs
// (median, p25, p10, min; p10 by default, see Stat for why).
//
// Importing the package registers the target "local" with hwcost
// (hwcost.NewMetric().Targets("local"), `multihw cost --hardware local`); it
// reads the table of the current backend configuration from DefaultPath
// (~/.cache/multihw/local-go.json, or $MULTIHW_LOCAL_TABLE). Build it with
// `multihw cost measure --model NAME[,NAME...]`; `multihw cost measure --check`
// measures five reference models and writes LOCAL_REPORT.md.
package measure
