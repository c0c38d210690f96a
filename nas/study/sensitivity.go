package study

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
)

// CostSpread is the cost model's uncertainty for the study's models: the
// JSON that `multihw cost sensitivity --spec DIR/archs/A.txt,... --json`
// prints (hwcost's sensitivity result: parameter sets drawn from the fits'
// posteriors, each model's normalised latency under every draw), saved as
// DIR/cost-sensitivity.json. Archs are matched to the study's models by name
// (the text specs in DIR/archs are named after their models).
type CostSpread struct {
	Targets   []string         `json:"targets"`
	Reference string           `json:"reference"`
	Draws     int              `json:"draws"`
	Seed      uint64           `json:"seed"`
	Archs     []ArchCostSpread `json:"archs"`
	Orderings []CostOrdering   `json:"orderings"`
	// Fixed lists targets held fixed (not analytic), Priors those drawn
	// from prior widths (no fitted posterior).
	Fixed  []string `json:"fixed,omitempty"`
	Priors []string `json:"priors,omitempty"`
}

// Spread summarises a normalised latency over the draws; Fitted is its value
// under the fitted parameters.
type Spread struct {
	Fitted float64 `json:"fitted"`
	Mean   float64 `json:"mean"`
	SD     float64 `json:"sd"`
	P05    float64 `json:"p05"`
	P50    float64 `json:"p50"`
	P95    float64 `json:"p95"`
}

// ArchCostSpread is one architecture's normalised latencies over the draws.
type ArchCostSpread struct {
	Name       string            `json:"name"`
	Normalized map[string]Spread `json:"normalized"`
	Avg        Spread            `json:"avg"`
	Max        Spread            `json:"max"`
}

// CostOrdering is the fraction of draws in which A's latency on Metric
// ("avg", "max" or a target) is below B's.
type CostOrdering struct {
	A      string  `json:"a"`
	B      string  `json:"b"`
	Metric string  `json:"metric"`
	P      float64 `json:"p_a_below_b"`
}

// ReadCostSpread reads a CostSpread file; a missing file is (nil, nil).
func ReadCostSpread(path string) (*CostSpread, error) {
	cs := &CostSpread{}
	if err := readJSON(path, cs); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("study: cost spread: %w", err)
	}
	if err := cs.validate(); err != nil {
		return nil, fmt.Errorf("study: cost spread %s: %w", path, err)
	}
	return cs, nil
}

// StudySpreadPath is the study's cost spread file.
func StudySpreadPath(dir string) string { return filepath.Join(dir, SensitivityFile) }

func (cs *CostSpread) validate() error {
	if cs.Draws < 2 {
		return fmt.Errorf("%d draws (need at least 2)", cs.Draws)
	}
	for _, a := range cs.Archs {
		if a.Name == "" {
			return errors.New("an architecture without a name")
		}
	}
	for _, o := range cs.Orderings {
		if !(o.P >= 0 && o.P <= 1) {
			return fmt.Errorf("ordering %s < %s on %s: probability %g outside [0, 1]", o.A, o.B, o.Metric, o.P)
		}
	}
	return nil
}

// arch returns the spread of the named architecture.
func (cs *CostSpread) arch(name string) (*ArchCostSpread, bool) {
	if cs == nil {
		return nil, false
	}
	for i := range cs.Archs {
		if cs.Archs[i].Name == name {
			return &cs.Archs[i], true
		}
	}
	return nil, false
}

// spread returns the named architecture's spread on metric.
func (cs *CostSpread) spread(name, metric string) (Spread, bool) {
	a, ok := cs.arch(name)
	if !ok {
		return Spread{}, false
	}
	switch metric {
	case "avg":
		return a.Avg, true
	case "max":
		return a.Max, true
	}
	s, ok := a.Normalized[metric]
	return s, ok
}

// below returns P(latency of a < latency of b on metric) over the draws,
// from either ordering of the pair; ok is false when the pair is not there.
func (cs *CostSpread) below(a, b, metric string) (float64, bool) {
	if cs == nil {
		return math.NaN(), false
	}
	for _, o := range cs.Orderings {
		if o.Metric != metric {
			continue
		}
		switch {
		case o.A == a && o.B == b:
			return o.P, true
		case o.A == b && o.B == a:
			// P(a < b) = 1 − P(b < a) − P(tie); ties between distinct
			// architectures do not occur in continuous draws, and
			// identical ones are merged before they get here.
			return 1 - o.P, true
		}
	}
	return math.NaN(), false
}
