package measure

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomlx/compute"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/repo"
	"github.com/multihw/multihw/report"
)

// CheckModels are the reference models a check measures (`cost measure
// --check`): the paper's reference, its two found models and two published
// mobile models of other families.
var CheckModels = []string{"mobilenet_v2", "multi_avg", "multi_max", "mobilenet_v3_large_min", "efficientnet_lite0"}

// Job is one measurement of architectures into a table file: `multihw cost
// measure`. Run measures, refits the table's overhead, saves the table and
// evaluates the summed table against the whole models; with Check it also
// writes the markdown report and says whether every held-out prediction is
// within Tolerance in every repeat.
type Job struct {
	Archs   []*blocks.Arch
	Backend compute.Backend
	// Key names the backend in the table (KeyOf); Path is the table file.
	Key, Path string
	// Stat, when set, is the statistic of a new or existing table.
	Stat         Stat
	Runs, Warmup int
	Remeasure    bool
	Repeats      int
	Check        bool
	Tolerance    float64
	ReportFile   string
	Command      string    // the command line, for the report
	Progress     io.Writer // progress lines (nil: none)
}

// SegmentRow is one segment of the measured models.
type SegmentRow struct {
	Key    string   `json:"key"`
	Models []string `json:"models"`
	Timing Timing   `json:"timing"`
}

// JobResult is what a Job measured and concluded.
type JobResult struct {
	Backend      string       `json:"backend"`
	Table        string       `json:"table"`
	Measured     []string     `json:"measured"`
	Segments     []SegmentRow `json:"segments"`
	TableSize    int          `json:"table_segments"`
	CallOverhead Timing       `json:"call_overhead"`
	Evaluation   *Evaluation  `json:"evaluation"`
	Tolerance    float64      `json:"tolerance,omitempty"`
	Passed       *bool        `json:"passed,omitempty"`
	Report       string       `json:"report,omitempty"`
	Repeats      []Repeat     `json:"repeats,omitempty"`
	stat         Stat
}

// OpenBackend sets the job's Backend from a gomlx backend configuration
// (empty: backend.Config, i.e. $GOMLX_BACKEND or go), its Key, and its Path
// when none is set (DefaultPath: the table `cost --hardware local` reads).
func (j *Job) OpenBackend(config string) error {
	cfg := config
	if cfg == "" {
		cfg = backend.Config()
	}
	var err error
	if j.Backend, err = backend.New(cfg); err != nil {
		if config != "" {
			return fmt.Errorf("--backend: %w", err)
		}
		return err
	}
	j.Key = KeyOf(cfg, j.Backend)
	if j.Path == "" {
		j.Path, err = DefaultPath(j.Key)
	}
	return err
}

// Validate reports the first invalid setting (the architectures and the
// backend aside), before anything is measured.
func (j *Job) Validate() error {
	switch {
	case j.Runs < 1 || j.Warmup < 1 || j.Runs > MaxRuns || j.Warmup > MaxRuns:
		return fmt.Errorf("--runs and --warmup must be in [1, %d] (got %d, %d)", MaxRuns, j.Runs, j.Warmup)
	case j.Repeats < 1 || (j.Repeats > 1 && !j.Check) || j.Repeats > MaxRuns:
		return fmt.Errorf("--repeat must be in [1, %d], and above 1 only with --check (got %d)", MaxRuns, j.Repeats)
	case !(j.Tolerance > 0):
		return fmt.Errorf("--tolerance must be positive, got %g", j.Tolerance)
	}
	return nil
}

// Run measures, saves the table and evaluates it (see Job).
func (j *Job) Run() (*JobResult, error) {
	if err := j.Validate(); err != nil {
		return nil, err
	}
	switch {
	case len(j.Archs) == 0:
		return nil, fmt.Errorf("cost measure: no architectures")
	case j.Backend == nil:
		return nil, fmt.Errorf("cost measure: no backend")
	case j.Check && j.ReportFile == "":
		return nil, fmt.Errorf("cost measure: a check needs a report file")
	}
	progress := j.Progress
	if progress == nil {
		progress = io.Discard
	}
	tbl, err := LoadOrNew(j.Path, j.Key)
	if err != nil {
		return nil, err
	}
	if j.Stat != "" {
		tbl.Stat = j.Stat
	}
	names := make([]string, len(j.Archs))
	for i, a := range j.Archs {
		names[i] = ModelKey(a)
	}
	repeats, dur, err := j.measure(tbl, names, progress)
	if err != nil {
		return nil, err
	}
	// Accuracy on the models just measured (on all of the table's models when
	// only one was measured, so that something is held out).
	keys := names
	if len(keys) < 2 {
		keys = tbl.ModelKeys()
	}
	ev, err := tbl.Evaluate(keys...)
	if err != nil {
		return nil, err
	}
	res := &JobResult{Backend: j.Key, Table: j.Path, Measured: names, TableSize: len(tbl.Segments), CallOverhead: tbl.CallOverhead,
		Evaluation: ev, Segments: segmentRows(tbl, names), stat: tbl.Stat}
	if j.Check {
		last := repeats[len(repeats)-1]
		info := ReportInfo{Command: j.Command, Runs: j.Runs, Warmup: j.Warmup, Tolerance: j.Tolerance,
			LoadBefore: last.LoadBefore, LoadAfter: last.LoadAfter, Duration: dur, Stats: last.Stats, Repeats: repeats}
		passed := info.Passed(ev)
		res.Tolerance, res.Passed, res.Repeats, res.Report = j.Tolerance, &passed, repeats, j.ReportFile
		if err := report.WriteFile(res.Report, []byte(ev.Markdown(tbl, info))); err != nil {
			return nil, err
		}
		fmt.Fprintf(progress, "cost measure: wrote %s\n", res.Report)
	}
	return res, nil
}

// measure times the models Repeats times, saving the table after each, and
// returns the repeats' summaries (with Check) and the last one's length.
func (j *Job) measure(tbl *Table, names []string, progress io.Writer) ([]Repeat, time.Duration, error) {
	m := New(j.Backend).Runs(j.Runs).Warmup(j.Warmup).Remeasure(j.Remeasure || j.Check).Progress(j.Progress)
	var repeats []Repeat
	var dur time.Duration
	for r := range j.Repeats {
		loadBefore := LoadAverage()
		start := time.Now()
		fmt.Fprintf(progress, "cost measure: timing %s on backend %s (%d runs after %d warm-up, repeat %d/%d, load average %s)\n",
			strings.Join(names, ", "), j.Key, j.Runs, j.Warmup, r+1, j.Repeats, loadBefore)
		if err := m.Measure(tbl, j.Archs...); err != nil {
			return nil, 0, err
		}
		dur = time.Since(start)
		// The stored overhead is fitted on every whole model the table holds.
		var err error
		if tbl.Overhead, err = tbl.FitOverhead(); err != nil {
			return nil, 0, err
		}
		if err := tbl.Save(j.Path); err != nil {
			return nil, 0, err
		}
		fmt.Fprintf(progress, "cost measure: wrote %s (%d segments, %d models)\n", j.Path, len(tbl.Segments), len(tbl.Models))
		if j.Check {
			cmp, err := tbl.CompareStats(names...)
			if err != nil {
				return nil, 0, err
			}
			repeats = append(repeats, Repeat{LoadBefore: loadBefore, LoadAfter: LoadAverage(), Duration: dur, Stats: cmp})
		}
	}
	return repeats, dur, nil
}

// segmentRows lists the segments of the named models in order of first use.
func segmentRows(tbl *Table, names []string) []SegmentRow {
	var rows []SegmentRow
	index := map[string]int{}
	for _, n := range names {
		for _, k := range tbl.Models[n].Segments {
			i, ok := index[k]
			if !ok {
				i = len(rows)
				index[k] = i
				rows = append(rows, SegmentRow{Key: k, Timing: tbl.Segments[k].Timing})
			}
			if ms := rows[i].Models; len(ms) == 0 || ms[len(ms)-1] != n {
				rows[i].Models = append(ms, n)
			}
		}
	}
	return rows
}

// WriteText prints the result: the table's call overhead, the segments (with
// segments), the evaluation and, for a check, the repeats and the verdict.
func (r *JobResult) WriteText(w io.Writer, segments bool) error {
	fmt.Fprintf(w, "backend %s, table %s, call overhead %.4f ms (%s)\n\n", r.Backend, r.Table, r.CallOverhead.Value(r.stat), r.stat)
	if segments {
		tb := report.NewTable("segment", string(r.stat)+" (ms)", "median (ms)", "spread", "runs", "models")
		for _, s := range r.Segments {
			tb.Row(s.Key, fmt.Sprintf("%.3f", s.Timing.Value(r.stat)), fmt.Sprintf("%.3f", s.Timing.MedianMs),
				fmt.Sprintf("%.0f%%", 100*s.Timing.Spread()), fmt.Sprint(len(s.Timing.SamplesMs)), strings.Join(s.Models, " "))
		}
		fmt.Fprintf(w, "%s\n", tb.Text())
	}
	if err := r.Evaluation.WriteText(w); err != nil {
		return err
	}
	if r.Passed == nil {
		return nil
	}
	verdict := "PASS"
	if !*r.Passed {
		verdict = "FAIL"
	}
	for i, rp := range r.Repeats {
		fmt.Fprintf(w, "repeat %d (load %s): worst held-out error", i+1, rp.LoadBefore)
		for _, c := range rp.Stats {
			fmt.Fprintf(w, "  %s %.1f%%", c.Stat, 100*c.MaxAbsHeldOutErr)
		}
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintf(w, "check: every held-out prediction (%s) within %.0f%% in every repeat: %s\n", r.stat, 100*r.Tolerance, verdict)
	return err
}

// ReportPath returns flag, or hwcost/measure/LOCAL_REPORT.md of the
// repository (found from $MULTIHW_ROOT or the working directory).
func ReportPath(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	dir, err := repo.Find("hwcost/measure", "--report FILE")
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "LOCAL_REPORT.md"), nil
}
