package measure

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/flaglist"
)

// Flags bind a Job to the command-line flags of `multihw cost measure` (all
// but the architecture's): Register defines them, Prepare checks them and
// readies the Job.
type Flags struct {
	Job                          Job
	backend, table, report, stat string
	Segments                     bool
	fs                           *flag.FlagSet // Register's, parsed when Prepare runs
}

// Register defines the flags in fs; command is the command line quoted in
// the report.
func (f *Flags) Register(fs *flag.FlagSet, command string) {
	j := &f.Job
	*j = Job{Command: command, Progress: os.Stderr}
	f.fs = fs
	fs.StringVar(&f.backend, "backend", "", "gomlx backend configuration (go, go:parallelism=2, onnx, xla:cpu; default $"+backend.EnvVar+" or go)")
	fs.StringVar(&f.table, "table", "", "latency table file (default $"+EnvTable+" or ~/.cache/multihw/local-<backend>.json, the file that cost --hardware local reads)")
	fs.IntVar(&j.Runs, "runs", DefaultRuns, "timed runs per graph (at least 10 recommended; the median, p10 and spread are reported)")
	fs.IntVar(&j.Warmup, "warmup", DefaultWarmup, "untimed runs per graph first (the first one compiles)")
	fs.BoolVar(&j.Remeasure, "remeasure", false, "time segments already in the table again (default: only missing ones)")
	fs.BoolVar(&j.Check, "check", false, "measure the five reference models ("+strings.Join(CheckModels, ", ")+") afresh, check that the summed table predicts each held-out whole-model latency within --tolerance, write the report")
	fs.Float64Var(&j.Tolerance, "tolerance", 0.15, "largest |held-out error| --check accepts")
	fs.StringVar(&f.report, "report", "", "markdown report of --check (default: hwcost/measure/LOCAL_REPORT.md of the repository, found from $MULTIHW_ROOT or the working directory)")
	fs.StringVar(&f.stat, "stat", "", "statistic of the timed runs the table uses: median, p25, p10, min (default: the table's, p10 for a new one)")
	fs.IntVar(&j.Repeats, "repeat", 1, "with --check: measure everything this many times and require every repeat to pass")
	fs.BoolVar(&f.Segments, "segments", false, "also print the timing of every segment of the measured models")
}

// Prepare checks the flags, loads the architectures of af (with --check:
// CheckModels) and opens the backend: all before anything is measured.
func (f *Flags) Prepare(af *blocks.ArchFlags) error {
	j := &f.Job
	if err := j.Validate(); err != nil {
		return err
	}
	if err := flaglist.Unused(f.fs, flaglist.Mode{Flags: []string{"report", "tolerance"}, Chosen: j.Check, For: "--check"}); err != nil {
		return err
	}
	if j.Check && af.Given() {
		return fmt.Errorf("--check measures its own models (%s): leave out --model and --spec", strings.Join(CheckModels, ", "))
	}
	if j.Check {
		af.Model = strings.Join(CheckModels, ",")
	}
	var err error
	if j.Archs, err = af.LoadList(); err != nil {
		return err
	}
	if f.stat != "" {
		if j.Stat, err = ParseStat(f.stat); err != nil {
			return fmt.Errorf("--stat: %w", err)
		}
	}
	if j.Check { // Fail before measuring, not after.
		if j.ReportFile, err = ReportPath(f.report); err != nil {
			return err
		}
	}
	j.Path = f.table
	return j.OpenBackend(f.backend)
}
