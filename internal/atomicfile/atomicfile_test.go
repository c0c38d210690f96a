package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestWriteFileReplacesAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "f.json")
	if err := WriteFile(p, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil || string(got) != "two" {
		t.Fatalf("got %q, %v; want \"two\"", got, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Fatalf("want only the target file, got %d entries", len(entries))
	}
}

func TestFailedWriteKeepsOldContent(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Write(p, 0o644, func(f *os.File) error {
		_, _ = f.Write([]byte("partial"))
		return errors.New("boom")
	})
	if err == nil {
		t.Fatal("want error")
	}
	got, _ := os.ReadFile(p)
	if string(got) != "old" {
		t.Fatalf("old content lost: %q", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Fatalf("temp file left behind: %d entries", len(entries))
	}
}

// TestRefusesNonRegular: the rename would replace a device node, FIFO or
// symbolic link by a regular file; Write refuses and leaves it alone.
func TestRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "link")
	if err := os.Symlink("/dev/null", link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(link, []byte("x"), 0o644); err == nil || !strings.Contains(err.Error(), "not a regular file (a symbolic link)") {
		t.Fatalf("replaced a symbolic link, or said so unclearly: %v", err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("link changed: %v %v", st, err)
	}
	if err := WriteFile(dir, []byte("x"), 0o644); err == nil {
		t.Fatal("replaced a directory")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temp file left behind: %d entries", len(entries))
	}
}

// FileKind names each kind of file in words (errors used to print ls's
// mode letters, "d---------").
func TestFileKind(t *testing.T) {
	dir := t.TempDir()
	file, link, fifo := filepath.Join(dir, "f"), filepath.Join(dir, "l"), filepath.Join(dir, "p")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{dir: "a directory", file: "a regular file", link: "a symbolic link",
		fifo: "a named pipe", "/dev/null": "a device"} {
		st, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := FileKind(st.Mode()); got != want {
			t.Errorf("FileKind(%s) = %q, want %q", path, got, want)
		}
	}
}

// TestRemoveStale removes only temporary files of names the caller owns:
// not other hidden files, not temporaries of files it does not write.
func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	files := map[string]bool{ // name -> removed
		".result.json.tmp-123456":      true,
		".ckpt-00000010.mhwc.tmp-9":    true,
		".notes.txt.tmp-123":           false, // not a file the caller writes
		".result.json.tmp-12ab":        false, // not CreateTemp's digits
		"result.json.tmp-1":            false, // not hidden
		".result.json.tmp-":            false,
		"result.json":                  false,
		".hidden":                      false,
		".result.json.tmp-42.backup":   false,
		".metrics.jsonl.tmp-777777777": true,
	}
	for name := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("data"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	owns := func(target string) bool {
		return target == "result.json" || target == "metrics.jsonl" || filepath.Ext(target) == ".mhwc"
	}
	removed, err := RemoveStale(dir, owns)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for name, want := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		if gone := errors.Is(err, os.ErrNotExist); gone != want {
			t.Errorf("%s: removed %v, want %v", name, gone, want)
		}
		if want {
			n++
		}
	}
	if len(removed) != n || removed[0].Bytes != 4 {
		t.Errorf("reported %+v, want %d files of 4 bytes", removed, n)
	}
	// A temp file from a real Write has the pattern RemoveStale matches.
	var tmp string
	_ = Write(filepath.Join(dir, "result.json"), 0o644, func(f *os.File) error {
		tmp = filepath.Base(f.Name())
		return errors.New("stop")
	})
	if target, ok := TargetOfTemp(tmp); !ok || target != "result.json" {
		t.Errorf("Write's temp name %q not recognised (%q, %v)", tmp, target, ok)
	}
}

// TestWriteOwned: a new path is written; an existing file is replaced only
// if the recogniser calls it ours (or it is empty), otherwise refused and
// left as it was; a directory is refused.
func TestWriteOwned(t *testing.T) {
	dir := t.TempDir()
	ours := func(head []byte) bool { return strings.HasPrefix(string(head), "OURS") }
	path := filepath.Join(dir, "out.txt")
	if err := WriteOwned(path, []byte("OURS 1"), 0o644, "a test file", ours); err != nil {
		t.Fatal(err)
	}
	if err := WriteOwned(path, []byte("OURS 2"), 0o644, "a test file", ours); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "OURS 2" {
		t.Errorf("replacing our file: %q", b)
	}
	user := filepath.Join(dir, "thesis.tex")
	_ = os.WriteFile(user, []byte("precious"), 0o600)
	err := WriteOwned(user, []byte("OURS"), 0o644, "a test file", ours)
	if err == nil || !strings.Contains(err.Error(), "is not a test file written by multihw") {
		t.Errorf("a user's file: %v", err)
	}
	if b, _ := os.ReadFile(user); string(b) != "precious" {
		t.Errorf("the user's file changed: %q", b)
	}
	empty := filepath.Join(dir, "empty")
	_ = os.WriteFile(empty, nil, 0o644)
	if err := WriteOwned(empty, []byte("OURS"), 0o644, "a test file", ours); err != nil {
		t.Errorf("an empty file: %v", err)
	}
	if err := WriteOwned(dir, []byte("OURS"), 0o644, "a test file", ours); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory: %v", err)
	}
}
