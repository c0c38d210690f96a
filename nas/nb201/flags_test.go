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
	c := s.Config(nas.Reward{Kind: nas.RewardBudget, T0: 0.4})
	if c.Evolution.Population != 12 || !c.Evolution.RemoveWorst || c.ReinforceLR != DefaultReinforceLR {
		t.Errorf("Config() = %+v", c)
	}
	// A budget search is guided by the hard MnasNet reward at the same T0.
	if want := (nas.Reward{Kind: nas.RewardMnasHard, T0: 0.4, Beta: -0.3}); c.Guide != want {
		t.Errorf("guide %+v, want %+v", c.Guide, want)
	}
	if c := s.Config(nas.Reward{Kind: nas.RewardAbs, T0: 0.4}); c.Guide != (nas.Reward{}) {
		t.Errorf("abs reward: guide %+v, want none", c.Guide)
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
