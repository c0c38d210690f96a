// Package progress prints the progress lines of long jobs (training, search):
// on a terminal one line rewritten in place about every second; elsewhere
// (a log file, a notebook) a plain line about every 30 seconds, so that logs
// stay short.
package progress

import (
	"fmt"
	"io"
	"os"
	"time"
)

// Printer writes progress lines to w. The zero value and a nil writer are
// quiet.
type Printer struct {
	w     io.Writer
	tty   bool
	every time.Duration
	last  time.Time
	open  bool // a partial (in-place) line is on the terminal
}

// New returns a printer for w (nil: quiet).
func New(w io.Writer) *Printer {
	p := &Printer{w: w, every: 30 * time.Second}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.every = true, time.Second
		}
	}
	return p
}

// Quiet reports whether the printer writes nothing.
func (p *Printer) Quiet() bool { return p == nil || p.w == nil }

// TTY reports whether w is a terminal (lines are then rewritten in place).
func (p *Printer) TTY() bool { return p != nil && p.tty }

// Due reports whether a periodic line should be printed now (always when
// force is true), and if so records the time.
func (p *Printer) Due(force bool) bool {
	if p.Quiet() || (!force && time.Since(p.last) < p.every) {
		return false
	}
	p.last = time.Now()
	return true
}

// Line prints s: in place on a terminal when inPlace is true, else on a line
// of its own (ending any in-place line first).
func (p *Printer) Line(s string, inPlace bool) {
	if p.Quiet() {
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

// Duration formats seconds as a duration rounded to the second ("1m5s").
func Duration(seconds float64) string {
	return time.Duration(seconds * float64(time.Second)).Round(time.Second).String()
}
