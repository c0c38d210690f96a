package train

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/multihw/multihw/internal/memlimit"
)

// Run is a finished training run as read back from its output directory: a
// directory holding ResultFile and MetricsFile.
type Run struct {
	// Name labels the run: the directory's base name as read; callers that
	// list runs set it (figset.FindRuns: "train/search_avg").
	Name    string
	Dir     string
	Result  *Result
	Records []Record
}

// ReadRun reads the training run in dir (ResultFile and MetricsFile). A
// missing result file is an error wrapping fs.ErrNotExist.
func ReadRun(dir string) (*Run, error) {
	path := filepath.Join(dir, ResultFile)
	raw, err := memlimit.ReadFile(path, "training result", 1<<30)
	if err != nil {
		return nil, err
	}
	r := &Run{Name: filepath.Base(dir), Dir: dir, Result: &Result{}}
	if err := json.Unmarshal(raw, r.Result); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Result.Arch == nil {
		return nil, fmt.Errorf("%s: no architecture", path)
	}
	mpath := filepath.Join(dir, MetricsFile)
	raw, err = memlimit.ReadFile(mpath, "metrics log", 1<<30)
	if err != nil {
		return nil, fmt.Errorf("training run %s: %w", dir, err)
	}
	if r.Records, err = parseRecords(raw, mpath); err != nil {
		return nil, err
	}
	return r, nil
}

// parseRecords parses a metrics log (one JSON Record per line, blank lines
// skipped); errors name the file as name and the line.
func parseRecords(raw []byte, name string) ([]Record, error) {
	var recs []Record
	for i, line := range strings.Split(string(raw), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var rec Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", name, i+1, err)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}
