package tunas

import (
	"testing"

	"github.com/multihw/multihw/nas"
)

// TestResultSummary pins the text of a search's summary on a hand-made result
// (the numbers are the fields' own, formatted as the format string says).
func TestResultSummary(t *testing.T) {
	res := &Result{Steps: 400, Targets: []string{"pixel4-cpu", "pixel4-dsp"}}
	res.Config.Objective, res.Config.Reward = ObjectiveAvg, nas.Reward{Kind: nas.RewardAbs, T0: 0.9, Beta: -0.1}
	res.Stats.StepsPerMinute = 151.25
	res.Final = Final{Text: "stem cn_k3_s2_c16\n", Probability: 0.01234, MACs: 300_000_000, Params: 3_456_000,
		Costs: Costs{T: 0.95, Avg: 0.95, Max: 1.2, Normalized: map[string]float64{"pixel4-cpu": 1.2, "pixel4-dsp": 0.7}}}
	want := "avg search, 400 steps (151.2 steps/min), T0 0.9, β -0.1\n" +
		"final architecture (probability 0.0123):\nstem cn_k3_s2_c16\n" +
		"cost: T 0.950, avg 0.950, max 1.200; pixel4-cpu 1.200 pixel4-dsp 0.700\n" +
		"300.0 M MACs, 3.46 M params\n"
	if got := res.Summary(""); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got, tail := res.Summary("out/s"), "written: out/s/{search.json,arch.txt,arch.json}\n"; got != want+tail {
		t.Errorf("with a directory: got\n%s\nwant\n%s", got, want+tail)
	}
}

// TestBaselineSummary: a missing candidate reads "none"; the file named is
// the algorithm's.
func TestBaselineSummary(t *testing.T) {
	res := &BaselineResult{Config: DefaultBaseline(AlgoRandom), ControllerEvaluations: 300, Seconds: 61.6,
		Trials: make([]nas.Trial, 2),
		Best:   &Candidate{Q: 0.5, QValidation: 0.625, T: 1.5, Reward: 0.45, Costs: Costs{Avg: 1.5, Max: 2}, Text: "head c960\n"}}
	want := "random over the supernet of d: 2 queries (the controller made 300 reward evaluations after its warm-up) in 62 s\n" +
		"best: one-shot Q 0.5000 (whole validation split 0.6250), T 1.500 (avg 1.500, max 2.000), reward 0.4500\nhead c960\n" +
		"controller's architecture: none\n" +
		"written: d/baseline-random.json\n"
	if got := res.Summary("d"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
