package figset

import (
	"fmt"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/nas/tunas"
	"github.com/multihw/multihw/plots"
)

// SearchSmoothing is the EMA weight of the smoothed search curves.
const SearchSmoothing = 0.98

// SearchCurves draws a search's curves over its steps: reward, one-shot
// accuracy Q, cost T against T0, and the controller's entropy. The figure is
// named search_NAME_curves (NAME made a plain file stem).
func SearchCurves(name string, res *tunas.Result) (*plots.Figure, error) {
	if res == nil || len(res.History) == 0 {
		return nil, fmt.Errorf("search %s: no history", name)
	}
	n := len(res.History)
	steps := make([]float64, n)
	cols := make([][]float64, 4)
	for i, r := range res.History {
		steps[i] = float64(r.Step)
		for j, v := range []float64{r.Reward, r.Q, r.T, r.Entropy} {
			cols[j] = append(cols[j], v)
		}
	}
	f, err := plots.Curves(plots.CurvesData{Title: fmt.Sprintf("Search %s: %s objective, %d steps", name, res.Config.Objective, res.Steps),
		Steps: steps, Smoothing: SearchSmoothing, Curves: []plots.Curve{
			{Name: "reward", Values: cols[0]},
			{Name: "one-shot accuracy Q", Values: cols[1]},
			{Name: "cost T (" + res.Config.Objective + ")", Unit: "× " + res.Config.Reference, Values: cols[2], Target: res.Config.Reward.T0, TargetName: "T0"},
			{Name: "controller entropy", Unit: "nats", Values: cols[3]},
		}})
	if err != nil {
		return nil, fmt.Errorf("search %s: %w", name, err)
	}
	return f.WithName("search_" + fileStem(name) + "_curves"), nil
}

// SearchProbs draws how the controller's decisions converged: the
// probabilities of the stage-level decisions and of each stage's first block
// over the search's snapshots. The figure is named search_NAME_probs.
func SearchProbs(name string, res *tunas.Result) (*plots.Figure, error) {
	if res == nil || len(res.Snapshots) == 0 {
		return nil, fmt.Errorf("search %s: no snapshots of the controller's probabilities", name)
	}
	var steps []float64
	for _, sn := range res.Snapshots {
		steps = append(steps, float64(sn.Step))
	}
	var decs []plots.Decision
	for d, dec := range res.Decisions {
		if dec.Block > 0 {
			continue // stage-level decisions and each stage's first block
		}
		pd := plots.Decision{Name: dec.Name, Options: dec.Options}
		for _, sn := range res.Snapshots {
			if d >= len(sn.Probs) {
				return nil, fmt.Errorf("search %s: snapshot of step %d has %d decisions, want %d", name, sn.Step, len(sn.Probs), len(res.Decisions))
			}
			pd.Probs = append(pd.Probs, sn.Probs[d])
		}
		decs = append(decs, pd)
	}
	f, err := plots.ControllerProbs(plots.ControllerData{Title: fmt.Sprintf("Search %s: decision probabilities (stage decisions and first blocks)", name),
		Steps: steps, Decisions: decs})
	if err != nil {
		return nil, fmt.Errorf("search %s: %w", name, err)
	}
	return f.WithName("search_" + fileStem(name) + "_probs"), nil
}

// FinalBarsModels are the published models drawn next to the searched
// architectures in search_targets.
var FinalBarsModels = []string{"mobilenet_v2", "multi_avg", "multi_max"}

func searchFigures(e *env) ([]*plots.Figure, error) {
	if e.runs == nil {
		return nil, skipf("no runs directory given")
	}
	if len(e.runs.Searches) == 0 {
		return nil, skipf("no search (DIR/.../%s) under %s", tunas.ResultFile, e.runs.Dir)
	}
	var figs []*plots.Figure
	names := make([]string, len(e.runs.Searches))
	for i, s := range e.runs.Searches {
		names[i] = s.Name
	}
	labels := shortNames(names)
	for _, s := range e.runs.Searches {
		curves, err := SearchCurves(s.Name, s.Result)
		if err != nil {
			return nil, err
		}
		figs = append(figs, curves)
		probs, err := SearchProbs(s.Name, s.Result)
		if err == nil {
			figs = append(figs, probs)
		} else if len(s.Result.Snapshots) > 0 {
			return nil, err
		}
	}
	bars, err := ReferenceBars(e.metric, FinalBarsModels)
	if err != nil {
		return nil, err
	}
	for i, s := range e.runs.Searches {
		row, err := latencyRow(e.metric, "search "+labels[i], s.Result.Final.Arch)
		if err != nil {
			return nil, err
		}
		bars.Models = append(bars.Models, row)
	}
	bars.Title = fmt.Sprintf("Searched architectures on each target, normalised to %s", e.metric.Reference())
	f, err := plots.TargetBars(bars)
	if err != nil {
		return nil, err
	}
	return append(figs, f.WithName("search_targets")), nil
}

// sameArch reports whether a and b describe the same network (names aside).
func sameArch(a, b *blocks.Arch) bool {
	if a == nil || b == nil {
		return false
	}
	ca, cb := *a, *b
	ca.Name, cb.Name = "", ""
	return ca.String() == cb.String()
}
