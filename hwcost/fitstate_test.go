package hwcost

import (
	"bytes"
	"encoding/gob"
	"os"
	"path/filepath"
	"testing"

	"github.com/multihw/multihw/hwcost/devicedata"
	"github.com/multihw/multihw/internal/jobstate"
)

// TestFitStateResumes: a study run with a state file saves each device's
// row as it finishes; a run killed after the first device (the file as it
// was then: a copy taken when the first row was saved) resumes from it and
// ends with rows equal, bit for bit, to an uninterrupted run's.
func TestFitStateResumes(t *testing.T) {
	lib, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path, killed := filepath.Join(dir, FitStateFile), filepath.Join(dir, "killed")
	devices := []string{"pixel2", "raspi4"}
	run := func(ck *jobstate.State, pr func()) []AdaptRow {
		t.Helper()
		r := studyRunner{lib: lib, ck: ck}
		var rows []AdaptRow
		for _, dev := range devices {
			got, err := r.study("HELP, test", devicedata.NameHELPNB201, []string{dev}, 10, []uint64{1})
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, got...)
			if pr != nil {
				pr()
			}
		}
		return rows
	}
	enc := func(rows []AdaptRow) []byte { // gob: NaN ceilings compare equal
		var b bytes.Buffer
		if err := gob.NewEncoder(&b).Encode(rows); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	plain := run(nil, nil)
	ck, err := jobstate.Open(path, "key")
	if err != nil {
		t.Fatal(err)
	}
	first := true
	got := run(ck, func() { // after the first device: what a kill then leaves
		if first {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(killed, data, 0o644); err != nil {
				t.Fatal(err)
			}
			first = false
		}
	})
	if !bytes.Equal(enc(got), enc(plain)) || ck.Resumed() != 0 {
		t.Fatalf("with a new state file: rows differ from a plain run's (%d resumed)", ck.Resumed())
	}
	resumed, err := jobstate.Open(killed, "key")
	if err != nil {
		t.Fatal(err)
	}
	if got := run(resumed, nil); !bytes.Equal(enc(got), enc(plain)) || resumed.Resumed() != 1 {
		t.Errorf("resumed: rows equal %v, %d devices from the file (want 1)", bytes.Equal(enc(got), enc(plain)), resumed.Resumed())
	}
	// The key follows the fitted parameters.
	a, err := fitStateKey(DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	ps := DefaultParams().Clone()
	p := ps.Targets["pixel4-cpu"]
	p.PeakGMACs *= 1.0000001
	ps.Targets["pixel4-cpu"] = p
	if b, err := fitStateKey(ps); err != nil || a == b {
		t.Errorf("keys %s and %s (%v)", a, b, err)
	}
}
