package train

import (
	"fmt"
	"io"

	"github.com/multihw/multihw/internal/progress"
)

// progressLine reports a run on a writer: on a terminal one line updated in place
// every second, elsewhere (logs, pipes) a line every 30 seconds; evaluations
// and the end always get their own line. A nil writer makes it quiet.
type progressLine struct{ *progress.Printer }

func newProgress(w io.Writer) *progressLine { return &progressLine{progress.New(w)} }

// update reports the step just done, rate-limited.
func (p *progressLine) update(r *run) {
	if !p.Due(r.step >= r.plan.TotalSteps) {
		return
	}
	eta := ""
	if n := len(r.stepTimes); n > 0 {
		var sum float64
		for _, t := range r.stepTimes[max(0, n-50):] {
			sum += t
		}
		per := sum / float64(min(n, 50))
		eta = fmt.Sprintf(" | %.2f s/step, ETA %s", per, progress.Duration(per*float64(r.plan.TotalSteps-r.step)))
	}
	p.Line(fmt.Sprintf("step %d/%d (%.0f%%) epoch %.2f | loss %.4f acc %.2f%% | lr %.4g | %s%s",
		r.step, r.plan.TotalSteps, 100*float64(r.step)/float64(r.plan.TotalSteps), r.stream.Epoch(r.step),
		r.ema.Loss, 100*r.ema.Accuracy, r.plan.LearningRate(r.step-1), progress.Duration(r.seconds()), eta), p.TTY())
}

func (p *progressLine) eval(rec Record) {
	s := fmt.Sprintf("step %d epoch %.2f: train loss %.4f acc %.2f%%", rec.Step, rec.Epoch, rec.TrainLoss, 100*rec.TrainAccuracy)
	if v := rec.Validation; v != nil {
		s += fmt.Sprintf(" | validation loss %.4f acc %.2f%% (%d)", v.Loss, 100*v.Accuracy, v.N)
	}
	p.Line(s+" | "+progress.Duration(rec.TrainSeconds), false)
}

func (p *progressLine) final(rec Record) {
	s := fmt.Sprintf("done: step %d epoch %.2f in %s", rec.Step, rec.Epoch, progress.Duration(rec.TrainSeconds))
	if rec.Event != "" {
		s += " (" + rec.Event + ")"
	}
	if v := rec.Validation; v != nil {
		s += fmt.Sprintf(" | validation acc %.2f%%", 100*v.Accuracy)
	}
	if t := rec.Test; t != nil {
		s += fmt.Sprintf(" | test acc %.2f%% (%d)", 100*t.Accuracy, t.N)
	}
	p.Line(s, false)
}

func (p *progressLine) done(s string) { p.Line(s, false) }
