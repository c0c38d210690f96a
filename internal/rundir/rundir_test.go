package rundir

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multihw/multihw/internal/jsonmut"
)

var testKind = Kind{
	Name:    "train",
	Legacy:  func(names []string) bool { return Only(names, "checkpoints", "result.json") },
	Owns:    func(rel string) bool { return rel == "result.json" || strings.HasPrefix(rel, "checkpoints/ckpt-") },
	Subdirs: []string{"checkpoints"},
}

// TestOpen: new, empty and same-kind directories are taken; a user's folder
// and another kind of run are refused before anything is written into them.
func TestOpen(t *testing.T) {
	base := t.TempDir()
	fresh := filepath.Join(base, "new", "run")
	d, err := Open(fresh, testKind)
	if err != nil {
		t.Fatal(err)
	}
	if d.Existing {
		t.Error("a new directory reported as an existing run")
	}
	d.Close()
	if d, err = Open(fresh, testKind); err != nil || !d.Existing {
		t.Fatalf("reopening: %v, existing %v", err, d != nil && d.Existing)
	}
	d.Close()

	empty := filepath.Join(base, "empty")
	_ = os.Mkdir(empty, 0o755)
	if d, err := Open(empty, testKind); err != nil {
		t.Errorf("empty directory: %v", err)
	} else {
		d.Close()
	}

	user := filepath.Join(base, "user")
	_ = os.Mkdir(user, 0o755)
	_ = os.WriteFile(filepath.Join(user, "thesis.tex"), []byte("precious"), 0o644)
	_, err = Open(user, testKind)
	var fe *ForeignError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "thesis.tex") || !strings.Contains(err.Error(), "not a multihw train run directory") {
		t.Errorf("user folder: %v", err)
	}
	if es, _ := os.ReadDir(user); len(es) != 1 {
		t.Errorf("something was written into the refused folder: %v", es)
	}

	_, err = Open(fresh, Kind{Name: "search"})
	if !errors.As(err, &fe) || fe.Got != "train" || !strings.Contains(err.Error(), "holds a train run, not a search run") {
		t.Errorf("other kind: %v", err)
	}

	file := filepath.Join(base, "file")
	_ = os.WriteFile(file, nil, 0o644)
	if _, err := Open(file, testKind); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file as directory: %v", err)
	}

	// A run of an earlier version (no marker) is adopted and says so.
	legacy := filepath.Join(base, "legacy")
	_ = os.MkdirAll(filepath.Join(legacy, "checkpoints"), 0o755)
	d, err = Open(legacy, testKind)
	if err != nil || !d.Existing || len(d.Notes) != 1 || !strings.Contains(d.Notes[0], "earlier version") {
		t.Fatalf("legacy run: %v %+v", err, d)
	}
	d.Close()
	if k, err := Inspect(legacy, testKind); k != "train" || err != nil {
		t.Errorf("Inspect: %q %v", k, err)
	}
	// Its own files and a temporary file of one of them: still a legacy run.
	legacy2 := filepath.Join(base, "legacy2")
	_ = os.MkdirAll(filepath.Join(legacy2, "checkpoints"), 0o755)
	_ = os.WriteFile(filepath.Join(legacy2, ".result.json.tmp-42"), nil, 0o644)
	if k, err := Inspect(legacy2, testKind); k != "train" || err != nil {
		t.Errorf("legacy run with a stale temporary file: %q %v", k, err)
	}
	// A user's folder that happens to hold a result.json is no run: adopting
	// it would let an overwrite replace the user's file.
	mixed := filepath.Join(base, "mixed")
	_ = os.MkdirAll(mixed, 0o755)
	for _, n := range []string{"result.json", "thesis.tex"} {
		_ = os.WriteFile(filepath.Join(mixed, n), []byte("precious"), 0o644)
	}
	if _, err := Open(mixed, testKind); !errors.As(err, &fe) || !strings.Contains(err.Error(), "thesis.tex") {
		t.Errorf("a user's folder with a result.json: %v", err)
	}
	if _, err := os.Stat(filepath.Join(mixed, MarkerFile)); err == nil {
		t.Error("a marker was written into the refused folder")
	}
}

// TestStaleTemps: opening removes temporaries of the run's own files only.
func TestStaleTemps(t *testing.T) {
	dir := t.TempDir()
	// A marked run (a legacy one holds only its own files).
	if d, err := Open(dir, testKind); err != nil {
		t.Fatal(err)
	} else {
		d.Close()
	}
	_ = os.MkdirAll(filepath.Join(dir, "checkpoints"), 0o755)
	keep := []string{".notes.tmp-1", "checkpoints/.other.tmp-5", "data.bin"}
	gone := []string{".result.json.tmp-77", "checkpoints/.ckpt-00000003.mhwc.tmp-123"}
	for _, n := range append(keep, gone...) {
		_ = os.WriteFile(filepath.Join(dir, n), make([]byte, 1000), 0o644)
	}
	d, err := Open(dir, testKind)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, n := range keep {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s removed", n)
		}
	}
	for _, n := range gone {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			t.Errorf("%s kept", n)
		}
	}
	removed := 0
	for _, n := range d.Notes {
		if strings.Contains(n, "interrupted save") && strings.Contains(n, "1000 bytes") {
			removed++
		}
	}
	if removed != 2 {
		t.Errorf("notes %q", d.Notes)
	}
}

// TestSecondWriter: while a process holds a directory, another Open fails
// naming it; after the holder exits the directory is free again.
func TestSecondWriter(t *testing.T) {
	if dir := os.Getenv("RUNDIR_TEST_HOLD"); dir != "" {
		d, err := Open(dir, testKind)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // hold until the parent closes stdin
		d.Close()
		os.Exit(0)
	}
	dir := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(os.Args[0], "-test.run", "^TestSecondWriter$")
	cmd.Env = append(os.Environ(), "RUNDIR_TEST_HOLD="+dir)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("child: %q", line)
	}
	_, err := Open(dir, testKind)
	var be *BusyError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), fmt.Sprintf("process %d", cmd.Process.Pid)) || !strings.Contains(err.Error(), "TestSecondWriter") {
		t.Errorf("second writer: %v", err)
	}
	// In the same process a second Open is refused too.
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	d, err := Open(dir, testKind)
	if err != nil {
		t.Fatalf("after the holder exited: %v", err)
	}
	if _, err := Open(dir, testKind); !errors.As(err, &be) || !strings.Contains(err.Error(), fmt.Sprintf("process %d", os.Getpid())) {
		t.Errorf("second Open in the same process: %v", err)
	}
	d.Close()
}

// TestMarkerRefusesMalformed: a run marker changed in one node at a time
// (null, another type, numbers past their ranges, a member deleted) is
// refused by Inspect, Check and Open with an error, or read, never a panic.
func TestMarkerRefusesMalformed(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir, testKind)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	jsonmut.CheckFile(t, "run marker", filepath.Join(dir, MarkerFile), func() error {
		if _, err := Inspect(dir, testKind); err != nil {
			return err
		}
		if _, err := Check(dir, testKind); err != nil {
			return err
		}
		d, err := Open(dir, testKind)
		if err != nil {
			return err
		}
		return d.Close()
	})
}
