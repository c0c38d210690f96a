package progress

import (
	"bytes"
	"testing"
)

func TestPrinter(t *testing.T) {
	var quiet *Printer
	if quiet.Due(true) || !New(nil).Quiet() {
		t.Error("a nil printer or writer must be quiet")
	}
	New(nil).Line("nothing", false) // must not panic

	var b bytes.Buffer
	p := New(&b) // not a terminal: plain lines every 30 s
	if p.TTY() {
		t.Fatal("a buffer is not a terminal")
	}
	if !p.Due(false) {
		t.Error("the first periodic line is due")
	}
	if p.Due(false) {
		t.Error("a second line within 30 s is not due")
	}
	if !p.Due(true) {
		t.Error("a forced line is always due")
	}
	p.Line("a", true) // in place only on a terminal
	p.Line("b", false)
	if got := b.String(); got != "a\nb\n" {
		t.Errorf("wrote %q, want plain lines", got)
	}
	if got := Duration(65.4); got != "1m5s" {
		t.Errorf("Duration(65.4) = %q", got)
	}
}
