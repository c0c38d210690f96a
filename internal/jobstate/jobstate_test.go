package jobstate

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type part struct {
	Name string
	X    []float64
	M    map[string]int
}

// TestState: parts round-trip exactly (NaN included) through the file; a
// file of another key is not used; a nil State keeps nothing; Remove deletes
// the file; damaged, truncated and foreign files are errors naming the
// file.
func TestState(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".state")
	s, err := Open(path, "k1")
	if err != nil {
		t.Fatal(err)
	}
	want := part{"a", []float64{1.5, math.NaN(), math.Inf(-1), 5e-324}, map[string]int{"x": 3}}
	if err := s.Put("p1", want); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("p2", 7); err != nil {
		t.Fatal(err)
	}
	back, err := Open(path, "k1")
	if err != nil {
		t.Fatal(err)
	}
	var got part
	if !back.Get("p1", &got) || got.Name != "a" || got.M["x"] != 3 || len(got.X) != 4 || got.X[0] != 1.5 || !math.IsNaN(got.X[1]) ||
		!math.IsInf(got.X[2], -1) || got.X[3] != 5e-324 {
		t.Errorf("part p1: %+v", got)
	}
	var n int
	if !back.Get("p2", &n) || n != 7 || back.Get("p3", &n) || back.Resumed() != 2 {
		t.Errorf("part p2 %d, resumed %d", n, back.Resumed())
	}
	var wrong string // a part that does not decode into the type asked is not used
	if back.Get("p1", &wrong) {
		t.Error("p1 decoded into a string")
	}
	other, err := Open(path, "k2")
	if err != nil {
		t.Fatal(err)
	}
	if other.Get("p1", &got) {
		t.Error("a state of another key was used")
	}
	var none *State
	if none.Get("p1", &got) || none.Put("p1", 1) != nil || none.Remove() != nil || none.Resumed() != 0 {
		t.Error("nil State")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("after Remove: %v", err)
	}
	flipped := append([]byte(nil), data...)
	flipped[len(flipped)-1] ^= 1
	for _, tc := range []struct {
		data []byte
		want string
	}{
		{flipped, "damaged (checksum mismatch)"},
		{data[:len(magic)+5], "truncated"},
		{[]byte("my notes\n"), "not a multihw state file"},
	} {
		if err := os.WriteFile(path, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(path, "k1"); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("want an error naming %s and containing %q, got %v", path, tc.want, err)
		}
	}
	// Remove deletes only a state file.
	if err := Remove(path); err == nil || !strings.Contains(err.Error(), "left in place") {
		t.Errorf("removing another file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "my notes\n" {
		t.Errorf("the other file became %q", b)
	}
	if err := Remove(filepath.Join(t.TempDir(), "none")); err != nil {
		t.Errorf("removing a missing file: %v", err)
	}
}

// TestProgramKey: the key changes with each input and with how the inputs
// are split.
func TestProgramKey(t *testing.T) {
	a, err := ProgramKey([]byte("ab"), []byte("c"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ProgramKey([]byte("a"), []byte("bc"))
	c, _ := ProgramKey([]byte("ab"), []byte("c"))
	if a == b || a != c || len(a) != 64 {
		t.Errorf("keys %s %s %s", a, b, c)
	}
}
