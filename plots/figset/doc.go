// Package figset is the figure set of this project's reproduction: every
// figure drawn from the project's own data (reference models, cost models,
// real-device measurements) and from its runs (searches, trainings). The
// command `multihw figures` and notebook 05 both call it, so a figure is made
// in one place.
//
// Package plots draws from plain data and depends on nothing else; figset is
// the integration layer that turns blocks, hwcost, nas/nb201, nas/tunas and
// train results into that data.
//
//	res, err := figset.New().Runs("/work/runs/h9").Progress(os.Stderr).Make()
//	files, err := res.Write("out/figures", 1) // NAME.png + NAME.svg per figure
//
// A source (Sources) produces some figures; a source whose data is absent (no
// runs directory, no search in it, ...) is skipped with a reason (Result.Skipped)
// instead of failing, so the set always holds what can be drawn.
//
// Runs are discovered generically under the runs directory (FindRuns): a
// search is a directory holding tunas.ResultFile (search.json), a training run
// a directory holding train.ResultFile (result.json), at any depth up to
// MaxRunDepth. The evidence layout DIR/avg, DIR/max (searches) and
// DIR/train/NAME (trainings) is one such layout; the notebooks write the same
// layout under DefaultRuns. A reproduction study (package nas/study: a
// directory holding its study.json) is drawn as a whole by the study source
// (StudyFigures: T0 sweep, accuracy vs latency on every target with seed and
// cost spreads, cross-evaluation), not run by run.
package figset
