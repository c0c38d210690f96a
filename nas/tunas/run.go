package tunas

import (
	"fmt"
	"os"
	"path/filepath"
)

// Run is a finished search as read back from its output directory: a
// directory holding ResultFile.
type Run struct {
	// Name labels the run: the directory's base name as read; callers that
	// list runs set it (figset.FindRuns: the path relative to the runs
	// directory, "avg", "ablation/seed2").
	Name   string
	Dir    string
	Result *Result
}

// ReadRun reads the search in dir (its ResultFile). A missing file is an
// error wrapping fs.ErrNotExist; a result without a final architecture or
// history is an error naming the file.
func ReadRun(dir string) (*Run, error) {
	path := filepath.Join(dir, ResultFile)
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	res, err := ReadResult(path)
	if err != nil {
		return nil, err
	}
	if res.Final.Arch == nil || len(res.History) == 0 {
		return nil, fmt.Errorf("%s: no final architecture or no history", path)
	}
	return &Run{Name: filepath.Base(dir), Dir: dir, Result: res}, nil
}
