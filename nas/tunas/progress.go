package tunas

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress reports a search: on a terminal a progress bar updated in place
// every second, elsewhere a line every 30 seconds; the end gets its own line.
type progress struct {
	w     io.Writer
	tty   bool
	every time.Duration
	last  time.Time
	open  bool
	ema   float64 // smoothed reward, accuracy, cost
	emaQ  float64
	emaT  float64
	n     int
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

func (p *progress) done(s string) { p.line(s, false) }

// update accounts the step's record and prints, rate-limited.
func (p *progress) update(r *run, rec Record) {
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
	if p.w == nil || (time.Since(p.last) < p.every && r.step < total) {
		return
	}
	p.last = time.Now()
	const width = 24
	filled := width * r.step / total
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	secs := time.Since(r.start).Seconds()
	rate := float64(p.n) / secs * 60
	eta := ""
	if p.n > 0 {
		eta = fmtDuration(float64(total-r.step) * secs / float64(p.n))
	}
	p.line(fmt.Sprintf("step %d/%d [%s] R %.3f Q %.3f T %.3f H %.1f | %.0f steps/min, ETA %s",
		r.step, total, bar, p.ema, p.emaQ, p.emaT, rec.Entropy, rate, eta), p.tty)
}

func (p *progress) final(res *Result) {
	p.done(fmt.Sprintf("search done: %d steps in %s (%.1f steps/min); final %s: %s T %.3f (avg %.3f, max %.3f), P %.3g",
		res.Steps, fmtDuration(res.Stats.Seconds), res.Stats.StepsPerMinute, res.Final.Arch.Name,
		strings.ReplaceAll(strings.TrimSpace(res.Final.Text), "\n", " | "), res.Final.Costs.T, res.Final.Costs.Avg, res.Final.Costs.Max, res.Final.Probability))
}

func fmtDuration(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Second).String()
}
