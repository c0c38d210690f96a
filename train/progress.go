package train

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress reports a run on a writer: on a terminal one line updated in place
// every second, elsewhere (logs, pipes) a line every 30 seconds; evaluations
// and the end always get their own line. A nil writer makes it quiet.
type progress struct {
	w     io.Writer
	tty   bool
	every time.Duration
	last  time.Time
	open  bool // a partial (in-place) line is on the terminal
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, every: 30 * time.Second}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.every = true, time.Second
		}
	}
	return p
}

func (p *progress) line(s string, inPlace bool) {
	if p.w == nil {
		return
	}
	switch {
	case p.tty && inPlace:
		fmt.Fprintf(p.w, "\r\033[K%s", s)
		p.open = true
	case p.tty && p.open:
		fmt.Fprintf(p.w, "\r\033[K%s\n", s)
		p.open = false
	default:
		fmt.Fprintln(p.w, s)
	}
}

func fmtDuration(s float64) string {
	d := time.Duration(s * float64(time.Second)).Round(time.Second)
	return d.String()
}

// update reports the step just done, rate-limited.
func (p *progress) update(r *run) {
	if p.w == nil || time.Since(p.last) < p.every && r.step < r.plan.TotalSteps {
		return
	}
	p.last = time.Now()
	eta := ""
	if n := len(r.stepTimes); n > 0 {
		var sum float64
		for _, t := range r.stepTimes[max(0, n-50):] {
			sum += t
		}
		per := sum / float64(min(n, 50))
		eta = fmt.Sprintf(" | %.2f s/step, ETA %s", per, fmtDuration(per*float64(r.plan.TotalSteps-r.step)))
	}
	p.line(fmt.Sprintf("step %d/%d (%.0f%%) epoch %.2f | loss %.4f acc %.2f%% | lr %.4g | %s%s",
		r.step, r.plan.TotalSteps, 100*float64(r.step)/float64(r.plan.TotalSteps), r.stream.Epoch(r.step),
		r.ema.Loss, 100*r.ema.Accuracy, r.plan.LearningRate(r.step-1), fmtDuration(r.seconds()), eta), p.tty)
}

func (p *progress) eval(rec Record) {
	s := fmt.Sprintf("step %d epoch %.2f: train loss %.4f acc %.2f%%", rec.Step, rec.Epoch, rec.TrainLoss, 100*rec.TrainAccuracy)
	if v := rec.Validation; v != nil {
		s += fmt.Sprintf(" | validation loss %.4f acc %.2f%% (%d)", v.Loss, 100*v.Accuracy, v.N)
	}
	p.line(s+" | "+fmtDuration(rec.TrainSeconds), false)
}

func (p *progress) final(rec Record) {
	s := fmt.Sprintf("done: step %d epoch %.2f in %s", rec.Step, rec.Epoch, fmtDuration(rec.TrainSeconds))
	if rec.Event != "" {
		s += " (" + rec.Event + ")"
	}
	if v := rec.Validation; v != nil {
		s += fmt.Sprintf(" | validation acc %.2f%%", 100*v.Accuracy)
	}
	if t := rec.Test; t != nil {
		s += fmt.Sprintf(" | test acc %.2f%% (%d)", 100*t.Accuracy, t.N)
	}
	p.line(s, false)
}

func (p *progress) done(s string) { p.line(s, false) }
