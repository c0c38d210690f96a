package nb201

import (
	"flag"
	"io"
	"testing"

	"github.com/multihw/multihw/nas"
)

func TestSearchFlags(t *testing.T) {
	fs := flag.NewFlagSet("nb201", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var s SearchFlags
	s.Register(fs)
	if err := fs.Parse([]string{"--population", "12", "--aging=false", "--guide-beta", "-0.3"}); err != nil {
		t.Fatal(err)
	}
	c, err := s.Config(fs, nas.Reward{Kind: nas.RewardBudget, T0: 0.4})
	if err != nil {
		t.Fatal(err)
	}
	if c.Evolution.Population != 12 || !c.Evolution.RemoveWorst || c.ReinforceLR != DefaultReinforceLR {
		t.Errorf("Config() = %+v", c)
	}
	// A budget search is guided by the hard MnasNet reward at the same T0.
	if want := (nas.Reward{Kind: nas.RewardMnasHard, T0: 0.4, Beta: -0.3}); c.Guide != want {
		t.Errorf("guide %+v, want %+v", c.Guide, want)
	}
	if c, _ := s.Config(fs, nas.Reward{Kind: nas.RewardAbs, T0: 0.4}); c.Guide != (nas.Reward{}) {
		t.Errorf("abs reward: guide %+v, want none", c.Guide)
	}
	// --max-evaluations 0 would silently mean its default (20 × queries).
	fs = flag.NewFlagSet("nb201", flag.ContinueOnError)
	s = SearchFlags{}
	s.Register(fs)
	if err := fs.Parse([]string{"--max-evaluations", "0"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Config(fs, nas.Reward{Kind: nas.RewardAbs, T0: 0.4}); err == nil {
		t.Error("--max-evaluations 0: no error")
	}
}

func TestBenchFlagsWeights(t *testing.T) {
	for _, w := range []string{",", "1,x"} {
		fs := flag.NewFlagSet("nb201", flag.ContinueOnError)
		var f BenchFlags
		f.Register(fs, true)
		if err := fs.Parse([]string{"--objective", "weighted", "--weights", w}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Build(io.Discard); err == nil {
			t.Errorf("--weights %q: no error", w)
		}
	}
}

func TestStudyFlags(t *testing.T) {
	config := func(search SearchConfig, command string, args ...string) (StudyConfig, error) {
		fs := flag.NewFlagSet("nb201", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var f StudyFlags
		f.Register(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return f.Config(fs, search, nil, command)
	}
	c, err := config(SearchConfig{Queries: 1}, "cmd", "--budgets", "0.4, 0.6", "--algos", "random", "--more-seeds", "3")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rates.Budgets) != 2 || c.Rates.Budgets[1] != 0.6 || len(c.Rates.Algorithms) != 1 || c.MoreSeeds != 3 || c.MoreOffset != 2000 || c.WithReport || c.Command != "cmd" {
		t.Errorf("Config() = %+v", c)
	}
	// Bad lists, and flags that would be ignored (--compare without a
	// report, --more-offset without more seeds).
	for _, args := range [][]string{{"--budgets", ","}, {"--budgets", "x"}, {"--report", "r.md", "--compare", ""},
		{"--compare", "0.3"}, {"--more-offset", "5"}} {
		if _, err := config(SearchConfig{}, "", args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
