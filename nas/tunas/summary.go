package tunas

import (
	"fmt"
	"strings"
)

// Summary describes a finished search: objective, length and speed, the
// final architecture with its probability, its costs on every target, its
// size, and (when out is not empty) the files written to out.
func (res *Result) Summary(out string) string {
	var b strings.Builder
	f := res.Final
	fmt.Fprintf(&b, "%s search, %d steps (%.1f steps/min), T0 %g, β %g\n", res.Config.Objective, res.Steps, res.Stats.StepsPerMinute,
		res.Config.Reward.T0, res.Config.Reward.Beta)
	fmt.Fprintf(&b, "final architecture (probability %.3g):\n%s", f.Probability, f.Text)
	fmt.Fprintf(&b, "cost: T %.3f, avg %.3f, max %.3f;", f.Costs.T, f.Costs.Avg, f.Costs.Max)
	for _, n := range res.Targets {
		fmt.Fprintf(&b, " %s %.3f", n, f.Costs.Normalized[n])
	}
	fmt.Fprintf(&b, "\n%.1f M MACs, %.2f M params\n", float64(f.MACs)/1e6, float64(f.Params)/1e6)
	if out != "" {
		fmt.Fprintf(&b, "written: %s/{%s,%s,%s}\n", out, ResultFile, ArchTextFile, ArchJSONFile)
	}
	return b.String()
}

// Summary describes a baseline run over the supernet of the search in dir:
// its queries next to the controller's, the best point and the controller's
// architecture, and the file written.
func (res *BaselineResult) Summary(dir string) string {
	var b strings.Builder
	algo := res.Config.Algo
	fmt.Fprintf(&b, "%s over the supernet of %s: %d queries (the controller made %d reward evaluations after its warm-up) in %.0f s\n",
		algo, dir, len(res.Trials), res.ControllerEvaluations, res.Seconds)
	for _, c := range []struct {
		name string
		c    *Candidate
	}{{"best", res.Best}, {"controller's architecture", res.Controller}} {
		if c.c == nil {
			fmt.Fprintf(&b, "%s: none\n", c.name)
			continue
		}
		fmt.Fprintf(&b, "%s: one-shot Q %.4f (whole validation split %.4f), T %.3f (avg %.3f, max %.3f), reward %.4f\n%s",
			c.name, c.c.Q, c.c.QValidation, c.c.T, c.c.Costs.Avg, c.c.Costs.Max, c.c.Reward, c.c.Text)
	}
	fmt.Fprintf(&b, "written: %s/%s\n", dir, BaselineFile(algo))
	return b.String()
}
