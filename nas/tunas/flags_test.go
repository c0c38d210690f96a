package tunas

import (
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
)

func parseFlags(t *testing.T, args ...string) (*Flags, *flag.FlagSet) {
	t.Helper()
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := &Flags{}
	f.Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f, fs
}

// TestFlagsDefaults: no flag given is DefaultConfig (or its quick form).
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
		// The space is loaded again from its name: compare it by name.
		if got.Space.Name != want.Space.Name {
			t.Errorf("quick=%v: space %q, want %q", quick, got.Space.Name, want.Space.Name)
		}
		got.Space, want.Space = nil, nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("quick=%v: Config() = %+v, want %+v", quick, got, want)
		}
	}
}

func TestFlagsApply(t *testing.T) {
	f, fs := parseFlags(t, "--quick", "--steps", "50", "--batch", "64", "--beta", "-0.2", "--controller-lr", "0.5")
	c, err := f.Config(fs)
	if err != nil {
		t.Fatal(err)
	}
	// The weight learning rate follows the batch (0.165·64/256) unless --lr is given.
	if c.Steps != 50 || c.BatchSize != 64 || c.WeightLR != WeightLR(64) || c.Reward.Beta != -0.2 || c.Controller.LR != 0.5 {
		t.Errorf("Config() = steps %d batch %d weight lr %g beta %g controller lr %g", c.Steps, c.BatchSize, c.WeightLR, c.Reward.Beta, c.Controller.LR)
	}
	if f, fs = parseFlags(t, "--steps", "80", "--lr", "0.01"); true {
		c, err := f.Config(fs)
		if err != nil || c.WeightLR != 0.01 || c.Controller.LR != ControllerLR(80) {
			t.Errorf("--lr 0.01 --steps 80: weight lr %g controller lr %g (%v)", c.WeightLR, c.Controller.LR, err)
		}
	}
}

func TestFlagsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--resume"}, "--resume needs --out DIR"},
		{[]string{"--overwrite"}, "--overwrite needs --out DIR"},
		{[]string{"--supernet", "x"}, "--supernet is for --algo random|evolution"},
		{[]string{"--checkpoint-minutes", "-1"}, "--checkpoint-minutes must not be negative, got -1"},
		{[]string{"--weights", "1,x"}, `--weights: "x" is not a number`},
	} {
		f, fs := parseFlags(t, tc.args...)
		if _, err := f.Config(fs); err == nil || err.Error() != tc.want {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
	f, fs := parseFlags(t, "--algo", AlgoRandom)
	if _, err := f.Baseline(fs); err == nil {
		t.Error("a baseline without --supernet: no error")
	}
	// 0 stands for the defaults (an equal budget, the controller's batches):
	// given, it would be replaced silently.
	for _, name := range []string{"--queries", "--eval-batches"} {
		f, fs = parseFlags(t, "--algo", AlgoRandom, "--supernet", "d", name, "0")
		if _, err := f.Baseline(fs); err == nil || !strings.Contains(err.Error(), name+" must be positive") {
			t.Errorf("%s 0: error %v", name, err)
		}
	}
	// A flag of the other kind of run would be ignored: refused.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--algo", AlgoRandom, "--supernet", "d", "--steps", "100"}, "--steps does not apply to a baseline"},
		{[]string{"--algo", AlgoEvolution, "--supernet", "d", "--t0", "0.5"}, "--t0 does not apply to a baseline"},
		{[]string{"--algo", AlgoRandom, "--supernet", "d", "--population", "9"}, "--population is for --algo evolution"},
	} {
		f, fs = parseFlags(t, tc.args...)
		if _, err := f.Baseline(fs); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
	for _, name := range []string{"--queries", "--eval-batches", "--population", "--tournament"} {
		f, fs = parseFlags(t, name, "3")
		if _, err := f.Config(fs); err == nil || err.Error() != name+" is for --algo random|evolution" {
			t.Errorf("search with %s: error %v", name, err)
		}
	}
	f, fs = parseFlags(t, "--algo", AlgoEvolution, "--supernet", "d", "--queries", "7", "--population", "9", "--seed", "3", "--json")
	if bc, err := f.Baseline(fs); err != nil || bc.Algo != AlgoEvolution || bc.Queries != 7 || bc.Evolution.Population != 9 {
		t.Errorf("Baseline() = %+v, %v", bc, err)
	}
}

func TestRankFlags(t *testing.T) {
	parse := func(args ...string) (*RankFlags, *flag.FlagSet) {
		fs := flag.NewFlagSet("rank", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var f RankFlags
		f.Register(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return &f, fs
	}
	if f, fs := parse(); true {
		if _, err := f.Config(fs); err == nil {
			t.Error("no --supernet: no error")
		}
	}
	f, fs := parse("--supernet", "d")
	if c, err := f.Config(fs); err != nil || !reflect.DeepEqual(c, DefaultRank()) {
		t.Errorf("no flags: Config() = %+v, %v; want DefaultRank", c, err)
	}
	// --quick with --archs: the repeated ones are a third of the given number.
	f, fs = parse("--supernet", "d", "--quick", "--archs", "12", "--steps", "9")
	c, err := f.Config(fs)
	if err != nil {
		t.Fatal(err)
	}
	if want := DefaultRank().Quick(); c.Archs != 12 || c.Repeated != 0 || c.Recipe.Steps != 9 || c.Seeds != want.Seeds {
		t.Errorf("Config() = %+v", c)
	}
	f, fs = parse("--supernet", "d", "--archs", "2")
	if _, err := f.Config(fs); err == nil {
		t.Error("--archs 2: no error")
	}
}

func TestBenchAndAblationFlags(t *testing.T) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var b BenchFlags
	b.Register(fs)
	if err := fs.Parse([]string{"--search-steps", "-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Run(io.Discard); err == nil {
		t.Error("--search-steps -1: no error")
	}
	fs = flag.NewFlagSet("ablation", flag.ContinueOnError)
	var a AblationFlags
	a.Register(fs)
	if err := fs.Parse([]string{"--variants", "none/keep/warmup, project/omit/uniform", "--steps", "7"}); err != nil {
		t.Fatal(err)
	}
	c := a.Ablation(io.Discard)
	if !reflect.DeepEqual(c.Variants, []string{"none/keep/warmup", "project/omit/uniform"}) || c.Steps != 7 || c.Points != 8 || c.Progress != io.Discard || a.Dataset != "fashion-mnist" {
		t.Errorf("Ablation() = %+v, dataset %q", c, a.Dataset)
	}
}
