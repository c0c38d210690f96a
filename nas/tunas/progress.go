package tunas

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/multihw/multihw/internal/progress"
)

// progressLine reports a search: on a terminal a progress bar updated in place
// every second, elsewhere a line every 30 seconds; the end gets its own line.
type progressLine struct {
	*progress.Printer
	ema  float64 // smoothed reward, accuracy, cost
	emaQ float64
	emaT float64
	n    int
}

func newProgress(w io.Writer) *progressLine { return &progressLine{Printer: progress.New(w)} }

func (p *progressLine) done(s string) { p.Line(s, false) }

// update accounts the step's record and prints, rate-limited.
func (p *progressLine) update(r *run, rec Record) {
	const m = 0.95
	if p.n == 0 {
		p.ema, p.emaQ, p.emaT = rec.Reward, rec.Q, rec.T
	} else {
		p.ema = m*p.ema + (1-m)*rec.Reward
		p.emaQ = m*p.emaQ + (1-m)*rec.Q
		p.emaT = m*p.emaT + (1-m)*rec.T
	}
	p.n++
	total := r.cfg.Steps
	if !p.Due(r.step >= total) {
		return
	}
	const width = 24
	filled := width * r.step / total
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	secs := time.Since(r.start).Seconds()
	rate := float64(p.n) / secs * 60
	eta := ""
	if p.n > 0 {
		eta = progress.Duration(float64(total-r.step) * secs / float64(p.n))
	}
	p.Line(fmt.Sprintf("step %d/%d [%s] R %.3f Q %.3f T %.3f H %.1f | %.0f steps/min, ETA %s",
		r.step, total, bar, p.ema, p.emaQ, p.emaT, rec.Entropy, rate, eta), p.TTY())
}

func (p *progressLine) final(res *Result) {
	p.done(fmt.Sprintf("search done: %d steps in %s (%.1f steps/min); final %s: %s T %.3f (avg %.3f, max %.3f), P %.3g",
		res.Steps, progress.Duration(res.Stats.Seconds), res.Stats.StepsPerMinute, res.Final.Arch.Name,
		strings.ReplaceAll(strings.TrimSpace(res.Final.Text), "\n", " | "), res.Final.Costs.T, res.Final.Costs.Avg, res.Final.Costs.Max, res.Final.Probability))
}
