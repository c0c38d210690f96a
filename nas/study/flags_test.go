package study

import (
	"flag"
	"io"
	"reflect"
	"testing"
)

func parseFlags(t *testing.T, args ...string) (*Flags, *flag.FlagSet) {
	t.Helper()
	fs := flag.NewFlagSet("study", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := &Flags{}
	f.Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f, fs
}

// TestFlagsDefaults: no flag given is DefaultConfig (or its quick form), so
// the flags' defaults cannot drift from the library's.
func TestFlagsDefaults(t *testing.T) {
	for _, quick := range []bool{false, true} {
		var args []string
		want := DefaultConfig()
		if quick {
			args, want = []string{"--quick"}, want.Quick()
		}
		f, fs := parseFlags(t, args...)
		got, err := f.Config(fs)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("quick=%v: Config() = %+v, want %+v", quick, got, want)
		}
	}
}

func TestFlagsApply(t *testing.T) {
	f, fs := parseFlags(t, "--quick", "--search-seeds", "3, 4", "--train-seeds", "3", "--search-width", "0.5",
		"--single-targets", "none", "--search-batch", "16", "--train-steps", "9")
	c, err := f.Config(fs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.SearchSeeds, []uint64{3, 4}) || !reflect.DeepEqual(c.TrainSeeds, []uint64{1, 2, 3}) {
		t.Errorf("seeds: search %v train %v, want [3 4] and [1 2 3]", c.SearchSeeds, c.TrainSeeds)
	}
	// --search-width also sets the retraining width unless --train-width is given.
	if c.Search.WidthFactor != 0.5 || c.TrainWidth != 0.5 || c.SingleTargets != nil {
		t.Errorf("widths %g/%g, single targets %v; want 0.5/0.5 and none", c.Search.WidthFactor, c.TrainWidth, c.SingleTargets)
	}
	if c.Search.BatchSize != 16 || c.Search.ValidationBatch != 32 || c.Recipe.Steps != 9 {
		t.Errorf("batch %d/%d, train steps %d; want 16/32 and 9", c.Search.BatchSize, c.Search.ValidationBatch, c.Recipe.Steps)
	}
	f, fs = parseFlags(t, "--search-width", "0.5", "--train-width", "0.75")
	if c, err := f.Config(fs); err != nil || c.TrainWidth != 0.75 {
		t.Errorf("--train-width 0.75 after --search-width: %g, %v", c.TrainWidth, err)
	}
}

func TestFlagsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--search-seeds", "x"}, `--search-seeds: "x" is not a seed`},
		{[]string{"--single-seeds", "-1"}, `--single-seeds: "-1" is not a seed`},
		{[]string{"--train-seeds", "0"}, "--train-seeds must be at least 1, got 0"},
	} {
		f, fs := parseFlags(t, tc.args...)
		if _, err := f.Config(fs); err == nil || err.Error() != tc.want {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestPilotFlags(t *testing.T) {
	parse := func(args ...string) *PilotFlags {
		fs := flag.NewFlagSet("pilot", flag.ContinueOnError)
		var f PilotFlags
		f.Register(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return &f
	}
	pc, err := parse("--models", "multi_avg", "--seeds", "3", "--differences", "0.5,1", "--timing-steps", "20").Config(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pc.Differences, []float64{0.5, 1}) || pc.SearchSteps != 20 {
		t.Errorf("Config() = %+v", pc)
	}
	if _, err := parse("--differences", "x").Config(DefaultConfig()); err == nil || err.Error() != `--differences: "x" is not a number` {
		t.Errorf("--differences x: error %v", err)
	}
}
