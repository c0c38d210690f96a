package tunas

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestReadRunMissing: a directory without a result is fs.ErrNotExist
// (figset.FindRuns tells it from a broken run by that); an unreadable result
// is an error. A finished search reads back in figset's TestRuns.
func TestReadRunMissing(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadRun(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("empty directory: %v, want fs.ErrNotExist", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ResultFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRun(dir); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("corrupt result: %v, want an error other than fs.ErrNotExist", err)
	}
}
