package tunas

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multihw/multihw/internal/memlimit"
	"github.com/multihw/multihw/internal/rundir"
	"github.com/multihw/multihw/nas"
)

func syntheticSearch(steps int, dir string) *Search {
	return New(syntheticConfig(steps)).SyntheticQuality(func(p nas.Point) float64 { return 0.5 }).Out(dir).CheckpointEvery(2, 0)
}

// TestSearchCheckpointIntegrity: the checksum covers the header (a changed
// step or configuration is a corruption); a truncated newest checkpoint falls
// back to the previous one with a note; devices are refused.
func TestSearchCheckpointIntegrity(t *testing.T) {
	dir := interruptedSearch(t)
	path, prev := filepath.Join(dir, CheckpointFile), filepath.Join(dir, PrevCheckpointFile)
	ck, err := loadCheckpoint(path)
	if err != nil || ck.Step != 7 {
		t.Fatalf("newest checkpoint: %v %+v", err, ck)
	}
	if p, err := loadCheckpoint(prev); err != nil || p.Step != 6 {
		t.Fatalf("previous checkpoint: %v", err)
	}
	raw, _ := os.ReadFile(path)
	edited := []byte(strings.Replace(string(raw), `"step":7`, `"step":5`, 1))
	tampered := filepath.Join(t.TempDir(), "x.mhws")
	_ = os.WriteFile(tampered, edited, 0o644)
	if _, err := loadCheckpoint(tampered); err == nil || !strings.Contains(err.Error(), "checksum mismatch") || !strings.Contains(err.Error(), tampered) {
		t.Errorf("header edit: %v", err)
	}
	// A checkpoint of the previous format (no checksum, header version 2) is
	// still read, with a note.
	legacy := filepath.Join(t.TempDir(), "legacy.mhws")
	old := strings.Replace(string(raw[:len(raw)-32]), checkpointFormat, checkpointFormatUnchecked, 1)
	_ = os.WriteFile(legacy, []byte(checkpointMagicV1+old[8:]), 0o644)
	if ck, err := loadCheckpoint(legacy); err != nil || ck.Step != 7 || len(ck.notes) != 1 || !strings.Contains(ck.notes[0], "without a checksum") {
		t.Errorf("unchecksummed checkpoint: %v %+v", err, ck)
	}
	if _, err := loadCheckpoint("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("/dev/zero: %v", err)
	}
	// Truncate the newest: the resume uses the previous one and says so.
	if err := os.WriteFile(path, raw[:len(raw)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	res, err := syntheticSearch(10, dir).Resume(true).Progress(&progress).Run(context.Background())
	if err != nil {
		t.Fatalf("resume past a truncated checkpoint: %v", err)
	}
	notes := strings.Join(res.Notes, "\n")
	if res.Steps != 10 || !strings.Contains(notes, "using the previous checkpoint") || !strings.Contains(notes, "(step 6)") ||
		!strings.Contains(progress.String(), "note: ") {
		t.Errorf("resume: %d steps, notes %q", res.Steps, res.Notes)
	}
	// A save killed between the two renames leaves only the previous one.
	_ = os.Remove(filepath.Join(dir, ResultFile))
	_ = os.Rename(path, prev)
	if ck, err := loadNewest(dir); err != nil || len(ck.notes) != 1 || !strings.Contains(ck.notes[0], "missing (a save was interrupted)") {
		t.Errorf("only the previous checkpoint: %v %+v", err, ck)
	}
}

// TestSearchRunDirectory: a foreign directory is refused before anything is
// written, a second writer is refused naming the holder, --resume without a
// search says so, a configuration mismatch names the fields, stale temporary
// files are removed, and Overwrite replaces only the search's files.
func TestSearchRunDirectory(t *testing.T) {
	user := t.TempDir()
	_ = os.WriteFile(filepath.Join(user, "photo.jpg"), []byte("x"), 0o644)
	_, err := syntheticSearch(4, user).Run(context.Background())
	var fe *rundir.ForeignError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "photo.jpg") {
		t.Errorf("user directory: %v", err)
	}
	if es, _ := os.ReadDir(user); len(es) != 1 {
		t.Errorf("refused directory written into: %d entries", len(es))
	}

	dir := filepath.Join(t.TempDir(), "s")
	res, err := syntheticSearch(4, dir).Resume(true).Run(context.Background())
	if err != nil || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "holds no search checkpoint yet: starting a new search") {
		t.Fatalf("resume into a new directory: %v %+v", err, res)
	}
	other := syntheticConfig(4)
	other.Seed, other.BatchSize = 99, 7
	_, err = New(other).SyntheticQuality(func(nas.Point) float64 { return 0.5 }).Out(dir).Resume(true).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "seed is 1 (checkpoint), 99 (given)") || !strings.Contains(err.Error(), "batch_size is 64 (checkpoint), 7 (given)") {
		t.Errorf("configuration mismatch: %v", err)
	}

	d, err := rundir.Open(dir, runKind)
	if err != nil {
		t.Fatal(err)
	}
	_, err = syntheticSearch(4, dir).Resume(true).Run(context.Background())
	var be *rundir.BusyError
	if !errors.As(err, &be) {
		t.Errorf("second writer: %v", err)
	}
	d.Close()

	stale := filepath.Join(dir, "."+CheckpointFile+".tmp-4242")
	other2 := filepath.Join(dir, ".mine.tmp-4242")
	for _, p := range []string{stale, other2} {
		_ = os.WriteFile(p, make([]byte, 100), 0o644)
	}
	res, err = syntheticSearch(4, dir).Overwrite(true).Run(context.Background())
	if err != nil || res.Stats.Resumes != 0 || !strings.Contains(strings.Join(res.Notes, "\n"), "removed "+stale) {
		t.Fatalf("overwrite: %v %+v", err, res)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Error("stale temporary checkpoint kept")
	}
	if _, err := os.Stat(other2); err != nil {
		t.Error("a temporary file the search does not write was removed")
	}
}

// TestSearchMemoryLimit: a batch the supernet cannot hold is refused with the
// estimate, before the output directory is created.
func TestSearchMemoryLimit(t *testing.T) {
	cfg := tinySearchConfig(4)
	cfg.BatchSize = 1 << 40
	dir := filepath.Join(t.TempDir(), "s")
	_, err := New(cfg).Dataset(tinyDataset(t)).Out(dir).Backend(goBackend(t)).Run(context.Background())
	var tl *memlimit.TooLargeError
	if !errors.As(err, &tl) || !strings.Contains(err.Error(), "needs an estimated") {
		t.Errorf("huge batch: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("output directory created before the check: %v", err)
	}
}

// TestRankRunDirectory: a ranking study refuses a directory that is not a
// study (before writing into it) and a second writer.
func TestRankRunDirectory(t *testing.T) {
	search := t.TempDir()
	rankSearch(t, search)
	user := t.TempDir()
	_ = os.WriteFile(filepath.Join(user, "data.csv"), []byte("x"), 0o644)
	_, err := newRank(t, search, user).Run(context.Background())
	var fe *rundir.ForeignError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "data.csv") {
		t.Errorf("user directory: %v", err)
	}
	if es, _ := os.ReadDir(user); len(es) != 1 {
		t.Errorf("refused directory written into: %d entries", len(es))
	}
	out := filepath.Join(t.TempDir(), "rank")
	d, err := rundir.Open(out, rankKind)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var be *rundir.BusyError
	if _, err := newRank(t, search, out).Run(context.Background()); !errors.As(err, &be) {
		t.Errorf("second writer: %v", err)
	}
}

// interruptedSearch returns the directory of a 10-step synthetic search
// cancelled after step 6: its checkpoint, as a kill would leave it.
func interruptedSearch(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	s := syntheticSearch(10, dir).OnStep(func(r Record) {
		if r.Step == 6 {
			cancel()
		}
	})
	if _, err := s.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted search: %v", err)
	}
	return dir
}
