// Package atomicfile writes files atomically: readers see the old content or
// the new one, never a half-written file, even if the process is killed.
package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// WriteFile writes data to path via a temporary file in the same directory,
// fsynced and then renamed over path.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// Write creates path atomically with the content written by fill.
func Write(path string, perm os.FileMode, fill func(f *os.File) error) (err error) {
	dir := filepath.Dir(path)
	// The rename would replace whatever is at path: a directory fails, but a
	// device node, FIFO or symbolic link would be silently swapped for a file.
	if st, err := os.Lstat(path); err == nil && !st.Mode().IsRegular() {
		return fmt.Errorf("writing %s: refusing to replace it: not a regular file (%s)", path, FileKind(st.Mode()))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, tempPrefix(path)+"*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = fill(f); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// Persist the rename itself.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// tempPrefix is the name prefix of Write's temporary files for path:
// os.CreateTemp appends random decimal digits.
func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// tempName matches Write's temporary files: "." + target + ".tmp-" + digits.
var tempName = regexp.MustCompile(`^\.(.+)\.tmp-[0-9]+$`)

// TargetOfTemp returns the file name a temporary file of Write was going to
// become, and whether name is such a temporary file.
func TargetOfTemp(name string) (string, bool) {
	m := tempName.FindStringSubmatch(name)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// Stale is a temporary file removed by RemoveStale.
type Stale struct {
	Path  string
	Bytes int64
}

// RemoveStale removes the temporary files that a killed Write left in dir,
// but only those whose target name owns accepts: the caller names the files
// it writes, so nothing it did not create is removed. Only call it while no
// other process can be writing into dir (e.g. under a run directory's lock).
func RemoveStale(dir string, owns func(target string) bool) ([]Stale, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var removed []Stale
	var errs []error
	for _, e := range entries {
		target, ok := TargetOfTemp(e.Name())
		if !ok || !e.Type().IsRegular() || strings.ContainsRune(target, os.PathSeparator) || !owns(target) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		var size int64
		if info, err := e.Info(); err == nil {
			size = info.Size()
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, Stale{Path: p, Bytes: size})
	}
	return removed, errors.Join(errs...)
}

// FileKind names what a path that is not a regular file is, in words, for
// errors: "a directory", "a device", "a named pipe", "a socket", "a symbolic
// link"; "a regular file" or "an irregular file" otherwise.
func FileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeSymlink != 0:
		return "a symbolic link"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m.IsRegular():
		return "a regular file"
	}
	return "an irregular file"
}

// OursLimit is how much of an existing file WriteOwned shows its recogniser.
const OursLimit = 1 << 20

// WriteOwned is WriteFile for an output the user names (a report, a target
// file, an exported model): an existing file at path is replaced only when
// ours recognises it (CheckOwned), so that a mistyped path cannot destroy a
// file the program did not create. what names the expected content for the
// error.
func WriteOwned(path string, data []byte, perm os.FileMode, what string, ours func(head []byte) bool) error {
	if err := CheckOwned(path, what, ours); err != nil {
		return err
	}
	return WriteFile(path, data, perm)
}

// CheckOwned returns nil when WriteOwned may write path: nothing is there,
// an empty file, or a regular file that ours recognises from its first
// OursLimit bytes. Writers of several files check them all first.
func CheckOwned(path, what string, ours func(head []byte) bool) error {
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("writing %s: %w", path, err)
	case !st.Mode().IsRegular():
		return fmt.Errorf("writing %s: refusing to replace it: not a regular file (%s)", path, FileKind(st.Mode()))
	case st.Size() == 0:
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	head := make([]byte, min(st.Size(), OursLimit))
	_, err = io.ReadFull(f, head)
	_ = f.Close()
	if err != nil {
		return fmt.Errorf("writing %s: reading the file it would replace: %w", path, err)
	}
	if !ours(head) {
		return fmt.Errorf("writing %s: refusing to replace it: it exists and is not %s written by multihw (remove it first, or choose another path)", path, what)
	}
	return nil
}

// HeadHolds returns a recogniser (WriteOwned) of files whose first n bytes
// hold sig: a format name or a note near the top of a generated file.
func HeadHolds(n int, sig string) func(head []byte) bool {
	return func(head []byte) bool { return bytes.Contains(head[:min(len(head), n)], []byte(sig)) }
}
