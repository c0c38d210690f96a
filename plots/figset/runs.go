package figset

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/multihw/multihw/nas/study"
	"github.com/multihw/multihw/nas/tunas"
	"github.com/multihw/multihw/train"
)

// MaxRunDepth is how many directory levels below the runs directory FindRuns
// looks (DIR/train/NAME is depth 2).
const MaxRunDepth = 4

// Runs are the runs found under a directory, each list sorted by name.
type Runs struct {
	Dir      string
	Searches []tunas.Run
	Trains   []train.Run
	// Pending lists directories that look like unfinished runs (a checkpoint
	// but no result yet), one line each.
	Pending []string
	// Studies are the reproduction studies found (directories holding
	// study.PlanFile); their runs are not listed in Searches and Trains:
	// the study source draws them as a whole.
	Studies []string
}

// FindRuns walks dir (up to MaxRunDepth levels, not into hidden directories nor
// checkpoint directories) and reads every finished search and training run;
// a reproduction study's directory (dir itself included) is listed in
// Studies and not entered.
// An unreadable result file is an error naming it.
func FindRuns(dir string) (*Runs, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("figset: runs: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("figset: runs %s: not a directory", dir)
	}
	runs := &Runs{Dir: dir}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if rel != "." {
			if strings.HasPrefix(d.Name(), ".") || d.Name() == train.CheckpointsDir {
				return fs.SkipDir
			}
			if strings.Count(rel, string(filepath.Separator))+1 > MaxRunDepth {
				return fs.SkipDir
			}
		}
		if _, err := os.Stat(filepath.Join(path, study.PlanFile)); err == nil {
			runs.Studies = append(runs.Studies, path)
			return fs.SkipDir
		}
		name := filepath.ToSlash(rel)
		if rel == "." {
			abs, err := filepath.Abs(dir)
			if err != nil {
				return err
			}
			name = filepath.Base(abs)
		}
		switch s, err := tunas.ReadRun(path); {
		case err == nil:
			s.Name = name
			runs.Searches = append(runs.Searches, *s)
		case !errors.Is(err, fs.ErrNotExist):
			return err
		case exists(filepath.Join(path, tunas.CheckpointFile)):
			runs.Pending = append(runs.Pending, fmt.Sprintf("%s: search not finished (a checkpoint, no %s yet)", name, tunas.ResultFile))
		}
		switch t, err := train.ReadRun(path); {
		case err == nil:
			t.Name = name
			runs.Trains = append(runs.Trains, *t)
		case !errors.Is(err, fs.ErrNotExist):
			return err
		case exists(filepath.Join(path, train.CheckpointsDir)):
			runs.Pending = append(runs.Pending, fmt.Sprintf("%s: training not finished (checkpoints, no %s yet)", name, train.ResultFile))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("figset: runs %s: %w", dir, err)
	}
	slices.SortFunc(runs.Searches, func(a, b tunas.Run) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(runs.Trains, func(a, b train.Run) int { return strings.Compare(a.Name, b.Name) })
	return runs, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// shortNames returns each name's last path element where that is unique
// among names, the whole name otherwise: labels for figures.
func shortNames(names []string) []string {
	count := map[string]int{}
	for _, n := range names {
		count[pathBase(n)]++
	}
	out := make([]string, len(names))
	for i, n := range names {
		if b := pathBase(n); count[b] == 1 {
			out[i] = b
		} else {
			out[i] = n
		}
	}
	return out
}

func pathBase(name string) string { return name[strings.LastIndex(name, "/")+1:] }

// Environment of the notebooks' runs directory (see NotebookRuns).
const (
	// RootEnv is the repository's path (set by make notebooks and make jupyter).
	RootEnv = "MULTIHW_ROOT"
	// RunsEnv overrides the runs directory of full notebook runs.
	RunsEnv = "MULTIHW_RUNS"
)

// NotebookStudy returns the reproduction study notebooks 03 to 05 share:
// with quick settings NotebookRuns(false)/study (a small study the notebooks
// run, study.NotebookConfig); with full settings the runs directory itself
// ($MULTIHW_RUNS: the study `make study` ran, which the notebooks read).
func NotebookStudy(full bool) (string, error) {
	dir, err := NotebookRuns(full)
	if err != nil || full {
		return dir, err
	}
	return filepath.Join(dir, "study"), nil
}

// NotebookRuns returns the runs directory that notebooks 03 to 05 share (each
// runs in its own kernel, so the search of 03 reaches 04 and 05 through
// files): with quick settings $MULTIHW_ROOT/notebooks/.out/runs (git-ignored,
// replaced by every quick run); with full settings $MULTIHW_RUNS, by default
// $MULTIHW_ROOT/out/runs. Searches go to RUNS/OBJECTIVE, training runs to
// RUNS/train/NAME, the layout FindRuns discovers.
func NotebookRuns(full bool) (string, error) {
	if dir := os.Getenv(RunsEnv); full && dir != "" {
		return dir, nil
	}
	root := os.Getenv(RootEnv)
	if root == "" {
		return "", fmt.Errorf("figset: %s is not set (make notebooks and make jupyter set it to the repository)", RootEnv)
	}
	if full {
		return filepath.Join(root, "out", "runs"), nil
	}
	return filepath.Join(root, "notebooks", ".out", "runs"), nil
}
