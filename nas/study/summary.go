package study

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/nas/tunas"
)

// Metric names besides the targets' own.
const (
	MetricAvg = tunas.ObjectiveAvg
	MetricMax = tunas.ObjectiveMax
)

// SearchResult is one search of the study as far as it went.
type SearchResult struct {
	SearchJob
	Done bool `json:"done"`
	// Steps, Seconds, StepsPerMinute and Resumes are the search's own
	// figures; Record the study's ledger entry (wall and CPU time).
	Steps          int        `json:"steps"`
	Seconds        float64    `json:"seconds"`
	StepsPerMinute float64    `json:"steps_per_minute"`
	Resumes        int        `json:"resumes"`
	Record         *JobRecord `json:"record,omitempty"`
	// FinalText is the final architecture; FinalT its cost on the
	// objective as the search recorded it, and Cost as costed now.
	FinalText string  `json:"final"`
	FinalT    float64 `json:"final_t"`
	Cost      float64 `json:"cost"`
}

// ModelResult is one model's retraining and cost.
type ModelResult struct {
	Name   string     `json:"name"`
	Group  string     `json:"group"`
	Search *SearchJob `json:"search,omitempty"`
	// Unit names its training runs (shared with the models of the same
	// architecture); "" while unknown.
	Unit   string       `json:"unit"`
	Arch   *blocks.Arch `json:"-"`
	Text   string       `json:"arch"`
	MACs   int64        `json:"macs"`
	Params int64        `json:"params"`
	// Cost is the fitted normalised latency on each metric (each target,
	// avg, max) of the deployed (224 px, full width) architecture;
	// CostSpread its spread over the cost model's draws, when known.
	Cost       map[string]float64       `json:"cost"`
	CostSpread map[string]hwcost.Spread `json:"cost_spread,omitempty"`
	// SpreadName names its architecture in Summary.Spread.
	SpreadName string `json:"spread_name,omitempty"`
	// Seeds and Accuracy are the finished seeds and their test accuracy
	// (a fraction); Mean and SD their mean and sample SD (NaN below 2).
	Seeds    []uint64  `json:"seeds"`
	Accuracy []float64 `json:"accuracy"`
	Mean     float64   `json:"mean"`
	SD       float64   `json:"sd"`
	// SE is the standard error of Mean from the pooled seed SD, and
	// [CILo, CIHi] its 95% confidence interval (Student's t with the pooled
	// degrees of freedom).
	SE   float64 `json:"se"`
	CILo float64 `json:"ci_lo"`
	CIHi float64 `json:"ci_hi"`
	// TrainSeconds are the runs' training times; Steps the steps of a run.
	TrainSeconds []float64 `json:"train_seconds"`
	Steps        int       `json:"steps"`
}

// Trained reports whether at least one seed has finished.
func (m *ModelResult) Trained() bool { return len(m.Accuracy) > 0 }

// Summary is everything the report, the figures and the claims need from a
// study directory.
type Summary struct {
	Dir  string `json:"dir"`
	Plan *Plan  `json:"plan"`
	// Targets are the metric's targets; Metrics the targets, avg and max.
	Targets  []string       `json:"targets"`
	Metrics  []string       `json:"metrics"`
	Searches []SearchResult `json:"searches"`
	Models   []ModelResult  `json:"models"`
	// PooledSD is the seed-to-seed SD of test accuracy pooled over the
	// models with at least two seeds (NaN without any), with PooledDF
	// degrees of freedom; T975 is Student's t quantile of the 95% intervals.
	PooledSD float64 `json:"pooled_sd"`
	PooledDF int     `json:"pooled_df"`
	T975     float64 `json:"t975"`
	// Spread is the cost model's spread over its parameter draws (nil when
	// Rules.CostDraws is 0).
	Spread *hwcost.SensitivityResult `json:"spread,omitempty"`
	// Jobs counts the jobs; Done those finished.
	Jobs, Done int `json:"-"`
	// Time sums the ledger: wall and CPU seconds per job kind.
	Time map[string]Time `json:"time"`
}

// Time is the time spent on a kind of job.
type Time struct {
	Jobs        int     `json:"jobs"`
	WallSeconds float64 `json:"wall_seconds"`
	CPUSeconds  float64 `json:"cpu_seconds"`
	RunSeconds  float64 `json:"run_seconds"`
}

// Complete reports whether every job has finished.
func (s *Summary) Complete() bool { return s.Done == s.Jobs }

// Summarize reads a study directory: the searches and trainings done so far,
// the models' costs under today's cost model, the seed statistics, and the
// cost model's spread over its parameter draws (Rules.CostDraws).
func Summarize(dir string) (*Summary, error) {
	st, err := Inspect(dir)
	if err != nil {
		return nil, err
	}
	plan := st.Plan
	m, err := plan.Config.Search.Metric()
	if err != nil {
		return nil, err
	}
	s := &Summary{Dir: dir, Plan: plan, Targets: m.TargetNames(), Time: map[string]Time{}}
	s.Metrics = append(slices.Clone(s.Targets), MetricAvg, MetricMax)
	s.Jobs, s.Done = len(st.Jobs), st.Done()
	records := map[string]*JobRecord{}
	for _, j := range st.Jobs {
		if j.Record != nil {
			records[j.Job.Name] = j.Record
			t := s.Time[j.Job.Kind]
			t.Jobs++
			t.WallSeconds += j.Record.WallSeconds
			t.CPUSeconds += j.Record.CPUSeconds
			t.RunSeconds += j.Record.RunSeconds
			s.Time[j.Job.Kind] = t
		}
	}
	for _, sj := range plan.Searches {
		r := SearchResult{SearchJob: sj, Record: records["search/"+sj.Name]}
		if res := st.Searches[sj.Name]; res != nil {
			r.Done = true
			r.Steps, r.Seconds, r.StepsPerMinute, r.Resumes = res.Steps, res.Stats.Seconds, res.Stats.StepsPerMinute, res.Stats.Resumes
			r.FinalText, r.FinalT = res.Final.Text, res.Final.Costs.T
			c, err := m.Evaluate(res.Final.Arch)
			if err != nil {
				return nil, fmt.Errorf("study: search %s: %w", sj.Name, err)
			}
			if r.Cost, err = MetricValue(c, sj.Objective); err != nil {
				return nil, err
			}
		}
		s.Searches = append(s.Searches, r)
	}
	jobs := map[string]Job{}
	for _, j := range st.Jobs {
		jobs[j.Job.Name] = j.Job
	}
	for _, ms := range st.Models {
		mr := ModelResult{Name: ms.Name, Group: ms.Group, Search: ms.Search, Unit: ms.Unit, Arch: ms.Arch, SD: math.NaN(), Mean: math.NaN()}
		if ms.Arch != nil {
			mr.Text = ms.Arch.String()
			c, err := m.Evaluate(ms.Arch)
			if err != nil {
				return nil, fmt.Errorf("study: %s: %w", ms.Name, err)
			}
			mr.MACs, mr.Params = c.MACs, c.Params
			mr.Cost = map[string]float64{}
			for _, metric := range s.Metrics {
				if mr.Cost[metric], err = MetricValue(c, metric); err != nil {
					return nil, err
				}
			}
		}
		if ms.Unit != "" {
			for _, seed := range plan.Config.TrainSeeds {
				j, ok := jobs[fmt.Sprintf("train/%s/seed%d", ms.Unit, seed)]
				if !ok {
					continue
				}
				res, err := readTrain(dir, plan, j)
				if err != nil {
					return nil, err
				}
				if res == nil {
					continue
				}
				mr.Seeds = append(mr.Seeds, seed)
				mr.Accuracy = append(mr.Accuracy, res.Test.Accuracy)
				mr.TrainSeconds = append(mr.TrainSeconds, res.TrainSeconds)
				mr.Steps = res.Steps
			}
		}
		if len(mr.Accuracy) > 0 {
			mr.Mean = stat.Mean(mr.Accuracy, nil)
		}
		if len(mr.Accuracy) > 1 {
			mr.SD = stat.StdDev(mr.Accuracy, nil)
		}
		s.Models = append(s.Models, mr)
	}
	s.pool()
	if err := s.costSpread(m); err != nil {
		return nil, err
	}
	return s, nil
}

// pool computes the pooled seed SD, its degrees of freedom and every model's
// standard error and interval. Models that share a unit share their runs, so
// a unit's seeds count once.
//
//	s_p² = Σ_u (k_u − 1)·s_u² / Σ_u (k_u − 1),   SE_m = s_p / √k_m,
//	CI_m = mean_m ± t_{0.975, df}·SE_m,           df = Σ_u (k_u − 1).
func (s *Summary) pool() {
	var ss float64
	df := 0
	seen := map[string]bool{}
	for _, m := range s.Models {
		k := len(m.Accuracy)
		if k < 2 || seen[m.Unit] {
			continue
		}
		seen[m.Unit] = true
		ss += float64(k-1) * m.SD * m.SD
		df += k - 1
	}
	s.PooledSD, s.PooledDF, s.T975 = math.NaN(), df, math.NaN()
	if df > 0 {
		s.PooledSD = math.Sqrt(ss / float64(df))
		s.T975 = distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(0.975)
	}
	for i := range s.Models {
		m := &s.Models[i]
		m.SE, m.CILo, m.CIHi = math.NaN(), math.NaN(), math.NaN()
		if k := len(m.Accuracy); k > 0 && df > 0 {
			m.SE = s.PooledSD / math.Sqrt(float64(k))
			m.CILo, m.CIHi = m.Mean-s.T975*m.SE, m.Mean+s.T975*m.SE
		}
	}
}

// Model returns the study's model of the given name.
func (s *Summary) Model(name string) (*ModelResult, bool) {
	for i := range s.Models {
		if s.Models[i].Name == name {
			return &s.Models[i], true
		}
	}
	return nil, false
}

// Compare returns the difference of two models' mean accuracies and its
// standard error from the pooled SD: s_p·√(1/k_a + 1/k_b). ok is false when
// either is untrained or the SD is unknown.
func (s *Summary) Compare(a, b *ModelResult) (diff, se float64, ok bool) {
	if !a.Trained() || !b.Trained() || math.IsNaN(s.PooledSD) {
		return 0, 0, false
	}
	return a.Mean - b.Mean, s.PooledSD * math.Sqrt(1/float64(len(a.Accuracy))+1/float64(len(b.Accuracy))), true
}

// SeedsNeeded returns the seeds per model that resolve a difference d (a
// fraction) at z standard errors of the difference, for seed SD sd:
// z·sd·√(2/n) < d  ⇔  n > 2·z²·sd²/d², the smallest such integer (at least 2,
// which a seed SD needs). 0 if sd or d is not positive.
func SeedsNeeded(sd, d, z float64) int {
	if !(sd > 0) || !(d > 0) || !(z > 0) {
		return 0
	}
	n := int(math.Floor(2*z*z*sd*sd/(d*d))) + 1
	return max(n, 2)
}

// Fingerprint identifies the study's plan and results: a hash of the plan's
// configuration and searches and of every finished run's outcome (final
// architectures, per-seed accuracies and steps). The report and the notebooks
// print it, so their figures can be traced to one set of runs.
func (s *Summary) Fingerprint() string {
	type run struct {
		Name     string
		Text     string
		Seeds    []uint64
		Accuracy []float64
		Steps    int
	}
	v := struct {
		Config   Config
		Searches []SearchJob
		Finals   []string
		Runs     []run
	}{Config: s.Plan.Config, Searches: s.Plan.Searches}
	for _, r := range s.Searches {
		v.Finals = append(v.Finals, r.Name+"\n"+r.FinalText)
	}
	for _, m := range s.Models {
		v.Runs = append(v.Runs, run{m.Name, m.Text, m.Seeds, m.Accuracy, m.Steps})
	}
	raw, _ := json.Marshal(v)
	h := sha256.Sum256(raw)
	return hex.EncodeToString(h[:6])
}

// MarkerPrefix starts the marker line (Marker).
const MarkerPrefix = "multihw-study:"

// Marker is one line that says which runs a report or notebook shows: the
// settings (full or quick), the fingerprint, the searches and trainings with
// their steps, and how complete the study is. notebooks_test checks that the
// committed notebooks print a full-settings marker equal to the report's.
func (s *Summary) Marker() string {
	settings := "full"
	if s.Plan.Config.Smoke {
		settings = "quick"
	}
	trainSteps := 0
	runs := 0
	for _, m := range s.Models {
		if m.Steps > 0 {
			trainSteps = m.Steps
		}
	}
	seen := map[string]bool{}
	for _, m := range s.Models {
		if m.Unit != "" && !seen[m.Unit] {
			seen[m.Unit] = true
			runs += len(m.Accuracy)
		}
	}
	return fmt.Sprintf("%s settings=%s fingerprint=%s searches=%d steps=%d trainings=%d train_steps=%d complete=%v",
		MarkerPrefix, settings, s.Fingerprint(), len(s.Plan.Searches), s.Plan.Config.Search.Steps, runs, trainSteps, s.Complete())
}

// ParseMarker reads a marker line's fields ("settings", "fingerprint", ...).
func ParseMarker(line string) (map[string]string, bool) {
	i := strings.Index(line, MarkerPrefix)
	if i < 0 {
		return nil, false
	}
	out := map[string]string{}
	for _, f := range strings.Fields(line[i+len(MarkerPrefix):]) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			break
		}
		out[k] = v
	}
	return out, len(out) > 0
}

// CostOf returns the model's fitted cost on metric and its 5-95% range over
// the cost draws (NaN bounds without draws), widened to include the fitted
// value when a skewed posterior puts it outside that range.
func (m *ModelResult) CostOf(metric string) (v, lo, hi float64) {
	v, lo, hi = m.Cost[metric], math.NaN(), math.NaN()
	if sp, ok := m.CostSpread[metric]; ok {
		lo, hi = math.Min(sp.P05, v), math.Max(sp.P95, v)
	}
	return v, lo, hi
}
