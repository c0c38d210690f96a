// Package rundir manages the output directory of a long run (a training, a
// search, the demo): it only ever writes into a directory that is new, empty
// or already a run of the same kind; it lets one process at a time write
// there; and it removes the temporary files that a killed process left, but
// only those of files the run itself writes.
//
// A run directory holds two small files besides the run's own: MarkerFile,
// which records the kind of run (so that a training never writes into a
// search, nor into a user's folder), and LockFile, on which the running
// process holds an advisory lock (flock(2), via github.com/gofrs/flock) for
// its whole life and where it records who it is, so a second writer is told
// which process holds the directory. The lock is released when the process
// ends, however it ends; the file stays (removing it would let two processes
// lock two different files).
package rundir

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/multihw/multihw/internal/atomicfile"
	"github.com/multihw/multihw/internal/memlimit"
	"github.com/multihw/multihw/internal/strictjson"
)

// Files every run directory holds.
const (
	MarkerFile = ".multihw-run"
	LockFile   = ".multihw-lock"
)

const markerFormat = "multihw-run/1"

// Kind describes a kind of run directory.
type Kind struct {
	// Name is the kind recorded in the marker ("train", "search", "demo").
	Name string
	// Legacy reports whether a directory without a marker, holding the given
	// names, is a run of this kind written before markers existed.
	Legacy func(names []string) bool
	// Owns reports whether the run writes the file at rel (a path relative
	// to the run directory, e.g. "checkpoints/ckpt-00000100.mhwc"): stale
	// temporary files of those are removed when the directory is opened.
	Owns func(rel string) bool
	// Subdirs are the sub-directories searched for stale temporary files
	// besides the directory itself.
	Subdirs []string
}

// Dir is an open run directory; Close releases it.
type Dir struct {
	Path string
	Kind string
	// Existing reports that the directory already held a run of this kind.
	Existing bool
	// Notes say what Open did that the user should know (stale temporary
	// files removed, a run of an older version adopted).
	Notes []string
	lock  *flock.Flock
}

type marker struct {
	Format  string    `json:"format"`
	Kind    string    `json:"kind"`
	Created time.Time `json:"created"`
}

// holder is what the lock file records about the process holding it.
type holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

// BusyError reports a directory locked by another process.
type BusyError struct {
	Path   string
	Holder string // a description of the holder, or "" if unknown
}

func (e *BusyError) Error() string {
	who := "another process"
	if e.Holder != "" {
		who = e.Holder
	}
	return fmt.Sprintf("%s is in use by %s: one run writes into a directory at a time; wait for it to finish or choose another directory", e.Path, who)
}

// ForeignError reports a directory that is not a run of the wanted kind.
type ForeignError struct {
	Path, Want, Got string   // Got: the kind found, "" for a non-run directory
	Names           []string // some of its entries, for the message
}

func (e *ForeignError) Error() string {
	if e.Got != "" {
		return fmt.Sprintf("%s holds a %s run, not a %s run: refusing to write into it; choose another directory", e.Path, e.Got, e.Want)
	}
	shown := e.Names
	more := ""
	if len(shown) > 5 {
		shown, more = shown[:5], fmt.Sprintf(" and %d more", len(e.Names)-5)
	}
	return fmt.Sprintf("%s exists and is not a multihw %s run directory (it holds %s%s): refusing to write into it; choose a new or empty directory",
		e.Path, e.Want, strings.Join(shown, ", "), more)
}

// Inspect reports the kind of run dir holds without changing anything: the
// marker's kind, the kind of a legacy run among kinds, "" for an empty or
// missing directory; a *ForeignError for other content.
func Inspect(dir string, kinds ...Kind) (string, error) {
	names, err := entries(dir)
	if err != nil {
		return "", err
	}
	if len(names) == 0 {
		return "", nil
	}
	if m, err := readMarker(dir); err == nil {
		return m.Kind, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	for _, k := range kinds {
		if k.Legacy != nil && k.Legacy(names) {
			return k.Name, nil
		}
	}
	want := ""
	if len(kinds) > 0 {
		want = kinds[0].Name
	}
	return "", &ForeignError{Path: dir, Want: want, Names: names}
}

// entries lists dir's names without the lock file (nil if dir is missing).
func entries(dir string) ([]string, error) {
	st, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s exists and is not a directory", dir)
	}
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range es {
		if e.Name() != LockFile {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

func readMarker(dir string) (*marker, error) {
	raw, err := memlimit.ReadFile(filepath.Join(dir, MarkerFile), "run marker", 1<<16)
	if err != nil {
		return nil, err
	}
	m := &marker{}
	if err := strictjson.Unmarshal(raw, m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, MarkerFile), err)
	}
	if m.Format != markerFormat || m.Kind == "" {
		return nil, fmt.Errorf("%s: not a run marker (format %q)", filepath.Join(dir, MarkerFile), m.Format)
	}
	return m, nil
}

// Check reports whether dir can be the output directory of a run of kind k
// without changing anything: nil for a missing or empty directory or a run
// of this kind (existing tells which), a *ForeignError otherwise. Commands
// call it to refuse a directory before they load data; Open calls it too.
func Check(dir string, k Kind) (existing bool, err error) {
	got, err := Inspect(dir, k)
	var fe *ForeignError
	if errors.As(err, &fe) {
		fe.Want = k.Name
		return false, fe
	}
	if err != nil {
		return false, fmt.Errorf("run directory: %w", err)
	}
	if got != "" && got != k.Name {
		return false, &ForeignError{Path: dir, Want: k.Name, Got: got}
	}
	return got != "", nil
}

// Open takes dir as the output directory of a run of kind k: it creates it
// if needed, refuses a directory holding anything but a run of this kind
// (*ForeignError, before writing anything), takes the directory's lock
// (*BusyError when another process holds it), writes the marker and removes
// stale temporary files of the run's own files.
func Open(dir string, k Kind) (*Dir, error) {
	if dir == "" {
		return nil, errors.New("run directory: empty path")
	}
	existing, err := Check(dir, k)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("run directory: %w", err)
	}
	d := &Dir{Path: dir, Kind: k.Name, Existing: existing}
	if err := d.lockDir(); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			d.Close()
		}
	}()
	if _, err := os.Stat(filepath.Join(dir, MarkerFile)); errors.Is(err, os.ErrNotExist) {
		if d.Existing {
			d.Notes = append(d.Notes, fmt.Sprintf("%s: a %s run of an earlier version (no %s): adopted", dir, k.Name, MarkerFile))
		}
		raw := fmt.Appendf(nil, "{\"format\": %q, \"kind\": %q, \"created\": %q}\n", markerFormat, k.Name, time.Now().UTC().Format(time.RFC3339))
		if err := atomicfile.WriteFile(filepath.Join(dir, MarkerFile), raw, 0o644); err != nil {
			return nil, fmt.Errorf("run directory: %w", err)
		}
	}
	if k.Owns != nil {
		for _, sub := range append([]string{""}, k.Subdirs...) {
			removed, err := atomicfile.RemoveStale(filepath.Join(dir, sub), func(target string) bool { return k.Owns(filepath.Join(sub, target)) })
			for _, r := range removed {
				d.Notes = append(d.Notes, fmt.Sprintf("removed %s (%s), a temporary file left by an interrupted save", r.Path, memlimit.Format(r.Bytes)))
			}
			if err != nil {
				return nil, fmt.Errorf("run directory: removing stale temporary files: %w", err)
			}
		}
	}
	ok = true
	return d, nil
}

// lockDir takes the lock and records the holder.
func (d *Dir) lockDir() error {
	path := filepath.Join(d.Path, LockFile)
	if st, err := os.Lstat(path); err == nil && !st.Mode().IsRegular() {
		return fmt.Errorf("run directory: %s is not a regular file", path)
	}
	d.lock = flock.New(path, flock.SetPermissions(0o644))
	locked, err := d.lock.TryLock()
	if err != nil {
		return fmt.Errorf("run directory: locking %s: %w", path, err)
	}
	if !locked {
		return &BusyError{Path: d.Path, Holder: describeHolder(path)}
	}
	host, _ := os.Hostname()
	raw := fmt.Appendf(nil, "{\"pid\": %d, \"host\": %q, \"command\": %q, \"since\": %q}\n", os.Getpid(), host,
		strings.Join(os.Args, " "), time.Now().UTC().Format(time.RFC3339))
	// Written in place (a rename would give a new file that is not locked).
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		_ = d.lock.Close()
		return fmt.Errorf("run directory: %w", err)
	}
	return nil
}

func describeHolder(path string) string {
	raw, err := memlimit.ReadFile(path, "lock file", 1<<16)
	if err != nil {
		return ""
	}
	h := holder{}
	if strictjson.Unmarshal(raw, &h) != nil || h.PID == 0 {
		return ""
	}
	return fmt.Sprintf("process %d on %s (%s, since %s)", h.PID, h.Host, h.Command, h.Since.Local().Format("2006-01-02 15:04:05"))
}

// Close releases the lock (the process's exit does too).
func (d *Dir) Close() error {
	if d == nil || d.lock == nil {
		return nil
	}
	err := d.lock.Close()
	d.lock = nil
	return err
}

// Only reports whether names holds at least one of own and nothing else but
// temporary files of own (atomicfile's): for Kind.Legacy, a run of an
// earlier version is a directory of the run's files alone. A folder that
// also holds the user's files is no run, even with a metrics.jsonl in it:
// adopting it would let --overwrite replace files the program did not
// write.
func Only(names []string, own ...string) bool {
	if len(names) == 0 {
		return false
	}
	for _, n := range names {
		if t, ok := atomicfile.TargetOfTemp(n); ok {
			n = t
		}
		if !slices.Contains(own, n) {
			return false
		}
	}
	return true
}

// Notes are what a run tells its user besides its result (a resume that
// found nothing to resume, a checkpoint skipped as unreadable, stale files
// removed): each is kept in List, for the result, and shown as "note: ..."
// on W when W is set.
type Notes struct {
	List []string
	W    io.Writer
}

// Add records notes.
func (n *Notes) Add(notes ...string) {
	for _, s := range notes {
		n.List = append(n.List, s)
		if n.W != nil {
			fmt.Fprintf(n.W, "note: %s\n", s)
		}
	}
}
