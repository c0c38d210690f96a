package measure

import (
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/multihw/multihw/blocks"
)

// TestFlagsPrepareChecksFirst: bad flags fail before a backend is opened or
// anything is measured.
func TestFlagsPrepareChecksFirst(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--check", "--model", "multi_avg"}, "--check measures its own models"},
		{[]string{"--model", "multi_avg", "--stat", "mean"}, `--stat: unknown statistic "mean"`},
		{[]string{"--model", "multi_avg,nosuch"}, "unknown model"},
		{[]string{"--model", "multi_avg", "--report", "r.md"}, "--report is for --check"},
		{[]string{"--model", "multi_avg", "--tolerance", "0.1"}, "--tolerance is for --check"},
	} {
		fs := flag.NewFlagSet("measure", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var af blocks.ArchFlags
		af.Register(fs, true)
		var f Flags
		f.Register(fs, "test")
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if f.Job.Command != "test" || f.Job.Runs != DefaultRuns {
			t.Errorf("Register: job %+v, want command test and %d runs", f.Job, DefaultRuns)
		}
		if err := f.Prepare(&af); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}
