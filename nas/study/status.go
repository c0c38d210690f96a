package study

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/atomicfile"
	"github.com/multihw/multihw/nas/tunas"
	"github.com/multihw/multihw/train"
)

// JobStatus is a job and where it stands.
type JobStatus struct {
	Job    Job        `json:"job"`
	State  string     `json:"state"`
	Record *JobRecord `json:"record,omitempty"`
}

// ModelStatus is a model of the study and its training unit.
type ModelStatus struct {
	Model
	// Arch is the deployed architecture (nil while its search runs).
	Arch *blocks.Arch `json:"-"`
	// Unit names the training runs of its architecture ("" while unknown):
	// the first model in Plan.Models order with the same architecture.
	Unit string `json:"unit,omitempty"`
}

// Status is a study's jobs and models, read from its directory.
type Status struct {
	Dir    string        `json:"dir"`
	Plan   *Plan         `json:"-"`
	Jobs   []JobStatus   `json:"jobs"`
	Models []ModelStatus `json:"models"`
	// Searches holds each finished search's result, by name.
	Searches map[string]*tunas.Result `json:"-"`
}

// Done returns the number of finished jobs.
func (s *Status) Done() int {
	n := 0
	for _, j := range s.Jobs {
		if j.State == StateDone {
			n++
		}
	}
	return n
}

// Complete reports whether every job has finished.
func (s *Status) Complete() bool { return s.Done() == len(s.Jobs) }

// Count returns the number of jobs of a kind in a state ("" for any state).
func (s *Status) Count(kind, state string) int {
	n := 0
	for _, j := range s.Jobs {
		if j.Job.Kind == kind && (state == "" || j.State == state) {
			n++
		}
	}
	return n
}

// Inspect reads a study directory without running anything: the plan, which
// searches and trainings have finished or started, and the models' training
// units. The trainings of searched architectures are listed (blocked) before
// every search has finished, each under its own name; their units, which
// merge identical architectures, are fixed once the searches are done.
func Inspect(dir string) (*Status, error) { return inspect(dir, false) }

// inspect is Inspect; with fresh, a run directory holding a run of another
// configuration counts as pending (Runner.Overwrite replaces it).
func inspect(dir string, fresh bool) (*Status, error) {
	foreign := func(err error) bool { return fresh && errors.Is(err, errForeign) }
	plan, err := ReadPlan(dir)
	if err != nil {
		return nil, err
	}
	st := &Status{Dir: dir, Plan: plan, Searches: map[string]*tunas.Result{}}
	searchesDone := true
	for _, s := range plan.Searches {
		j := Job{Name: "search/" + s.Name, Kind: KindSearch, Dir: filepath.Join(SearchesDir, s.Name), Search: &s}
		res, err := readSearch(dir, plan, s)
		if err != nil && !foreign(err) {
			return nil, err
		}
		if res != nil {
			st.Searches[s.Name] = res
		}
		searchesDone = searchesDone && res != nil
		state := jobState(res != nil, filepath.Join(dir, j.Dir, tunas.CheckpointFile))
		st.Jobs = append(st.Jobs, JobStatus{Job: j, State: state, Record: recordOf(dir, j)})
	}
	unitOf := map[string]string{} // architecture key -> unit
	members := map[string][]string{}
	archOf := map[string]*blocks.Arch{}
	var units []string
	for _, m := range plan.Models() {
		ms := ModelStatus{Model: m}
		switch {
		case m.Search == nil:
			if ms.Arch, err = blocks.Model(m.Name); err != nil {
				return nil, fmt.Errorf("study: %w", err)
			}
		case st.Searches[m.Name] != nil:
			ms.Arch = st.Searches[m.Name].Final.Arch
		}
		if ms.Arch != nil && (m.Search == nil || searchesDone) {
			k := archKey(ms.Arch)
			u, ok := unitOf[k]
			if !ok {
				u = m.Name
				unitOf[k] = u
				units = append(units, u)
				archOf[u] = ms.Arch
			}
			ms.Unit = u
			members[u] = append(members[u], m.Name)
		}
		st.Models = append(st.Models, ms)
	}
	for _, seed := range plan.Config.TrainSeeds {
		for _, u := range units {
			j := Job{Name: fmt.Sprintf("train/%s/seed%d", u, seed), Kind: KindTrain, Dir: filepath.Join(TrainDir, u, fmt.Sprintf("seed%d", seed)),
				Unit: u, Models: members[u], Seed: seed, Arch: archOf[u]}
			res, err := readTrain(dir, plan, j)
			if err != nil && !foreign(err) {
				return nil, err
			}
			state := jobState(res != nil, filepath.Join(dir, j.Dir, train.CheckpointsDir))
			st.Jobs = append(st.Jobs, JobStatus{Job: j, State: state, Record: recordOf(dir, j)})
		}
		for _, m := range st.Models {
			if m.Unit == "" {
				j := Job{Name: fmt.Sprintf("train/%s/seed%d", m.Name, seed), Kind: KindTrain, Models: []string{m.Name}, Seed: seed}
				st.Jobs = append(st.Jobs, JobStatus{Job: j, State: StateBlocked})
			}
		}
	}
	return st, nil
}

// jobState is a job's state from its result (done) and the checkpoint a
// started run leaves (started).
func jobState(done bool, checkpoint string) string {
	switch {
	case done:
		return StateDone
	case exists(checkpoint):
		return StateStarted
	}
	return StatePending
}

func recordOf(dir string, j Job) *JobRecord {
	rec := &JobRecord{}
	if err := readJSON(recordPath(dir, j), rec); err != nil || rec.Job != j.Name {
		return nil
	}
	return rec
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func writeText(path, s string) error {
	if err := atomicfile.WriteFile(path, []byte(s), 0o644); err != nil {
		return fmt.Errorf("study: %w", err)
	}
	return nil
}
