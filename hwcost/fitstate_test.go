package hwcost

import (
	"bytes"
	"encoding/gob"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multihw/multihw/hwcost/devicedata"
)

// TestFitCheckpointResumes: a study run with a state file saves each
// device's row as it finishes; a run killed after the first device (the
// file as it was then) resumes from it and ends with rows equal, bit for
// bit, to an uninterrupted run's. A state of another program or fit is not
// used; a damaged file or another file at the path is an error.
func TestFitCheckpointResumes(t *testing.T) {
	lib, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), FitStateFile)
	devices := []string{"pixel2", "raspi4"}
	seeds := []uint64{1}
	run := func(ck *fitCheckpoint) []AdaptRow {
		t.Helper()
		r := studyRunner{lib: lib, ck: ck}
		rows, err := r.study("HELP, test", devicedata.NameHELPNB201, devices, 10, seeds)
		if err != nil {
			t.Fatal(err)
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
	plain := run(nil)
	ck, err := openFitCheckpoint(path, "key")
	if err != nil {
		t.Fatal(err)
	}
	if got := run(ck); !bytes.Equal(enc(got), enc(plain)) || ck.resumed != 0 {
		t.Fatalf("with a new state file: rows differ from a plain run's (%d resumed)", ck.resumed)
	}
	// The file as a kill after the first device left it: atomic writes
	// leave the last whole state, which held one row.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := decodeFitState(data)
	if err != nil || len(st.Rows) != 2 {
		t.Fatalf("state: %v, %d rows", err, len(st.Rows))
	}
	delete(st.Rows, rowKey("HELP, test", devices[1]))
	if err := (&fitCheckpoint{path: path, st: *st}).write(); err != nil {
		t.Fatal(err)
	}
	resumed, err := openFitCheckpoint(path, "key")
	if err != nil {
		t.Fatal(err)
	}
	if got := run(resumed); !bytes.Equal(enc(got), enc(plain)) || resumed.resumed != 1 {
		t.Errorf("resumed: rows equal %v, %d devices from the file (want 1)", bytes.Equal(enc(got), enc(plain)), resumed.resumed)
	}
	// Another program or fit: nothing is taken from the file.
	other, err := openFitCheckpoint(path, "another key")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := other.row("HELP, test", devices[0]); ok || other.refs() != nil {
		t.Error("a state of another key was used")
	}
	// The reference devices round-trip; remove deletes the file.
	rs, err := ReferenceDevices()
	if err != nil {
		t.Fatal(err)
	}
	if err := resumed.saveRefs(rs); err != nil {
		t.Fatal(err)
	}
	again, err := openFitCheckpoint(path, "key")
	if err != nil {
		t.Fatal(err)
	}
	if got := again.refs(); got == nil || !bytes.Equal(got.JSON(), rs.JSON()) {
		t.Error("reference devices not restored")
	}
	if err := again.remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("state file after remove: %v", err)
	}
	// Damaged, truncated or foreign files are refused, not replaced.
	full := append([]byte(nil), data...)
	full[len(full)-1] ^= 1
	for _, tc := range []struct {
		data []byte
		want string
	}{
		{full, "damaged (checksum mismatch)"},
		{data[:len(fitStateMagic)+5], "truncated"},
		{[]byte("my notes\n"), "not a cost fit state file"},
	} {
		if err := os.WriteFile(path, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := openFitCheckpoint(path, "key"); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "remove it to start over") {
			t.Errorf("want an error containing %q, got %v", tc.want, err)
		}
	}
}

// TestFitStateKey: the key follows the fitted parameters.
func TestFitStateKey(t *testing.T) {
	a, err := fitStateKey(DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	ps := DefaultParams().Clone()
	p := ps.Targets["pixel4-cpu"]
	p.PeakGMACs *= 1.0000001
	ps.Targets["pixel4-cpu"] = p
	b, err := fitStateKey(ps)
	if err != nil {
		t.Fatal(err)
	}
	if a == b || len(a) != 64 {
		t.Errorf("keys %s and %s", a, b)
	}
}
