package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStudyBadInput(t *testing.T) {
	empty := t.TempDir()
	for _, tc := range []struct {
		run  func([]string) error
		args []string
		want string
	}{
		{runStudyPlan, nil, "needs --dir DIR"},
		{runStudyPlan, []string{"--dir", empty, "--t0", "0.9,toaster"}, "neither a number nor a reference model"},
		{runStudyPlan, []string{"--dir", empty, "--objectives", "median"}, `"median" must be avg or max`},
		{runStudyPlan, []string{"--dir", empty, "--single-targets", "abacus"}, `single target "abacus"`},
		{runStudyPlan, []string{"--dir", empty, "--train-seeds", "0"}, "at least 1"},
		{runStudyPlan, []string{"--dir", empty, "--search-seeds", "1,x"}, `"x" is not a seed`},
		{runStudyPlan, []string{"--dir", empty, "--pilot", empty}, "pilot.json"},
		{runStudyRun, []string{"--dir", empty}, "holds no study"},
		{runStudyRun, []string{"--dir", empty, "--only", "bake"}, "want search or train"},
		{runStudyStatus, []string{"--dir", empty}, "holds no study"},
		{runStudyReport, nil, "needs --dir DIR"},
		{runStudyPilot, []string{"--out", empty, "--seeds", "1"}, "at least 2 seeds"},
		{runStudyPilot, []string{"--out", empty, "--models", "resnet9000"}, "resnet9000"},
		{runSearchReport, []string{"--study", empty}, "holds no study"},
	} {
		if err := tc.run(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
	// Planning twice with the same flags is fine; with others it is refused.
	dir := filepath.Join(t.TempDir(), "s")
	if err := runStudyPlan([]string{"--dir", dir, "--quick"}); err != nil {
		t.Fatal(err)
	}
	if err := runStudyPlan([]string{"--dir", dir, "--quick"}); err != nil {
		t.Fatal(err)
	}
	if err := runStudyPlan([]string{"--dir", dir, "--quick", "--train-seeds", "5"}); err == nil || !strings.Contains(err.Error(), "another configuration") {
		t.Errorf("replanning with other flags: %v", err)
	}
}

// TestStudyCommands: plan, status and report of a planned study that has not
// run: the status counts its jobs pending, the report says the searches are
// not finished (figset's tests cover a finished study).
func TestStudyCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	if err := runStudyPlan([]string{"--dir", dir, "--quick"}); err != nil {
		t.Fatal(err)
	}
	if err := runStudyStatus([]string{"--dir", dir}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "report.md")
	if err := runStudyReport([]string{"--dir", dir, "--out", out}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if md := string(raw); !strings.Contains(md, "## Reproduction study: settings and size") || !strings.Contains(md, "(not finished)") {
		t.Errorf("report of an unrun study:\n%.2000s", md)
	}
}
