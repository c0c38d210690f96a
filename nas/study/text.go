package study

import (
	"fmt"
	"math"
	"strings"

	"github.com/multihw/multihw/report"
	"github.com/multihw/multihw/train"
)

// RecipeText describes a retraining recipe in a few words: optimizer,
// length, batch and proxy width.
func RecipeText(r train.Recipe, width float64) string {
	length := fmt.Sprintf("%g epochs", r.Epochs)
	if r.Steps > 0 {
		length = fmt.Sprintf("%d steps", r.Steps)
	}
	return fmt.Sprintf("%s, %s, batch %d, width ×%g", r.Optimizer, length, r.BatchSize, width)
}

// Lines are the sizing arithmetic of the estimate, in words.
func (e *Estimate) Lines() []string {
	out := []string{
		fmt.Sprintf("pilot %s: seed-to-seed SD %.2f points (%d seeds per model)", e.Pilot, 100*e.PilotSD, e.PilotSeeds),
		fmt.Sprintf("searches: %d × %d steps / %.1f steps/min = %.2f h", e.Searches, e.SearchSteps, e.SearchStepsPerMinute, e.SearchHours),
		fmt.Sprintf("retraining: at most %d architectures × %d seeds × %.0f s per run (pilot's mean run × %.2f steps ratio) = %.2f h",
			e.Architectures, e.Seeds, e.RunSeconds, e.StepsRatio, e.TrainHours),
		fmt.Sprintf("total: %.2f h on this machine; with %d seeds the study resolves accuracy differences of %s points (Z·SD·√(2/seeds))", e.TotalHours, e.Seeds, e.resolvable()),
	}
	for _, n := range e.Notes {
		out = append(out, "note: "+n)
	}
	return out
}

// Summary describes the plan in dir: its size, its searches (one row each)
// and, when sized, the estimate.
func (p *Plan) Summary(dir string) string {
	c := p.Config
	var b strings.Builder
	fmt.Fprintf(&b, "study in %s: %d searches of %d steps, %d references, %d training seeds each (%s)\n", dir, len(p.Searches), c.Search.Steps,
		len(c.References), len(c.TrainSeeds), RecipeText(c.Recipe, c.TrainWidth))
	tb := report.NewTable("search", "group", "objective", "T0", "seed")
	for _, s := range p.Searches {
		tb.Row(s.Name, s.Group, s.Objective, fmt.Sprintf("%s = %.4f", s.T0, s.T0Value), fmt.Sprint(s.Seed))
	}
	b.WriteString(tb.Text())
	for _, cv := range p.Caveats {
		fmt.Fprintf(&b, "caveat: %s\n", cv)
	}
	if e := p.Estimate; e != nil {
		for _, line := range e.Lines() {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// Summary describes the study's progress: its marker, the jobs of each kind
// by state with their wall and CPU hours, the jobs started, and the planned
// hours.
func (st *Status) Summary(sum *Summary) string {
	var b strings.Builder
	b.WriteString(sum.Marker() + "\n")
	tb := report.NewTable("jobs", "done", "started", "pending", "blocked", "wall (h)", "CPU (h)")
	for _, k := range []string{KindSearch, KindTrain} {
		t := sum.Time[k]
		tb.Row(k, fmt.Sprint(st.Count(k, StateDone)), fmt.Sprint(st.Count(k, StateStarted)), fmt.Sprint(st.Count(k, StatePending)),
			fmt.Sprint(st.Count(k, StateBlocked)), fmt.Sprintf("%.2f", t.WallSeconds/3600), fmt.Sprintf("%.2f", t.CPUSeconds/3600))
	}
	b.WriteString(tb.Text())
	for _, j := range st.Jobs {
		if j.State == StateStarted {
			fmt.Fprintf(&b, "started (resumed by the next `study run`): %s\n", j.Job.Name)
		}
	}
	if e := st.Plan.Estimate; e != nil {
		fmt.Fprintf(&b, "planned: %.2f h (%.2f searching, %.2f retraining)\n", e.TotalHours, e.SearchHours, e.TrainHours)
	}
	return b.String()
}

// Summary describes the pilot: each model's accuracy per seed with its
// mean, SD, SE and run times, the pooled SD, the seeds needed per
// difference and the timed search's speed.
func (res *PilotResult) Summary(cfg PilotConfig) string {
	var b strings.Builder
	fmt.Fprintf(&b, "pilot at %s; test accuracy per seed:\n", RecipeText(cfg.Recipe, cfg.Width))
	tb := report.NewTable("model", "seeds (%)", "mean", "SD", "SE", "run (s)", "step (ms)")
	for _, m := range res.Models {
		acc := make([]string, len(m.Accuracy))
		for i, v := range m.Accuracy {
			acc[i] = fmt.Sprintf("%.2f", 100*v)
		}
		var secs float64
		for _, s := range m.TrainSeconds {
			secs += s / float64(len(m.TrainSeconds))
		}
		tb.Row(m.Name, strings.Join(acc, " "), fmt.Sprintf("%.2f", 100*m.Mean), fmt.Sprintf("%.2f", 100*m.SD), fmt.Sprintf("%.2f", 100*m.SE),
			fmt.Sprintf("%.0f", secs), fmt.Sprintf("%.0f", m.StepMS[0]))
	}
	b.WriteString(tb.Text())
	fmt.Fprintf(&b, "pooled seed SD %.2f points (%d degrees of freedom)\n", 100*res.PooledSD, res.PooledDF)
	for _, n := range res.Needed {
		fmt.Fprintf(&b, "to resolve %.2f points at %g SE: %d seeds per model\n", n.Points, cfg.Z, n.Seeds)
	}
	if res.SearchStepsPerMinute > 0 {
		fmt.Fprintf(&b, "search: %.1f steps/min over %d steps\n", res.SearchStepsPerMinute, cfg.SearchSteps)
	}
	return b.String()
}

// StudySummary is the pilot's Summary followed by the size of study c
// estimated from it (the pilot in directory dir).
func (res *PilotResult) StudySummary(c Config, cfg PilotConfig, dir string) (string, error) {
	e, err := NewEstimate(c, res, dir, 0)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%sthe study with these settings:\n", res.Summary(cfg))
	for _, line := range e.Lines() {
		fmt.Fprintf(&b, "  %s\n", line)
	}
	return b.String(), nil
}

// resolvable formats Resolvable with two decimals, or says why it is unknown.
func (e *Estimate) resolvable() string {
	if math.IsNaN(float64(e.Resolvable)) {
		return "unknown (the pilot's seeds gave one accuracy, or no seed is trained)"
	}
	return fmt.Sprintf("%.2f", float64(e.Resolvable))
}
