package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/nas/tunas"
)

// TestSearchBadInput checks that bad flags give clear errors before any
// training starts.
func TestSearchBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--space", "nope"}, `unknown search space "nope"`},
		{[]string{"--objective", "toaster", "--dataset", "folder:/nonexistent"}, `unknown objective "toaster"`},
		{[]string{"--targets", "pixel4-cpu,abacus"}, `unknown hardware target "abacus"`},
		{[]string{"--reward", "gold"}, `unknown reward "gold"`},
		{[]string{"--t0", "0"}, "T0 must be positive"},
		{[]string{"--objective", "weighted"}, "needs weights"},
		{[]string{"--weights", "1,x"}, `"x" is not a number`},
		{[]string{"--algo", "annealing"}, `unknown --algo "annealing"`},
		{[]string{"--algo", "random"}, "needs --supernet DIR"},
		{[]string{"--resume"}, "--resume needs --out DIR"},
		{[]string{"--supernet", "/tmp"}, "--supernet is for --algo random|evolution"},
		{[]string{"--algo", "evolution", "--supernet", "/nonexistent"}, "holds no search checkpoint"},
	} {
		err := runSearch(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("multihw search %s: got %v, want an error containing %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}

func TestSearchReportErrors(t *testing.T) {
	if err := runSearchReport([]string{"--search", "x"}); err == nil || !strings.Contains(err.Error(), "is not NAME=DIR") {
		t.Errorf("bad --search: got %v", err)
	}
	dir := t.TempDir()
	if err := runSearchReport([]string{"--search", "a=" + dir}); err == nil || !strings.Contains(err.Error(), "search.json") {
		t.Errorf("missing search.json: got %v", err)
	}
	// A missing training result is reported in the table, not fatal.
	out := filepath.Join(dir, "r.md")
	if err := runSearchReport([]string{"--trained", "m=" + dir, "--out", out}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "| m | (not finished") {
		t.Errorf("report without the unfinished run:\n%s", raw)
	}
}

func TestSearchRankBadInput(t *testing.T) {
	synthetic := t.TempDir()
	cfg := tunas.DefaultConfig()
	cfg.Steps, cfg.Snapshots = 4, 0
	if _, err := tunas.New(cfg).Out(synthetic).SyntheticQuality(func(nas.Point) float64 { return 0.5 }).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "needs --supernet DIR"},
		{[]string{"--supernet", "/nonexistent", "--archs", "3"}, "at least 4 architectures"},
		{[]string{"--supernet", "/nonexistent", "--seeds", "0"}, "seeds must be at least 1"},
		{[]string{"--supernet", "/nonexistent", "--seeds", "9223372036854775807"}, "seeds must be at most 1000"},
		{[]string{"--supernet", "/nonexistent", "--archs", "6", "--repeated", "7"}, "repeated architectures must be in [0, 6]"},
		{[]string{"--supernet", "/nonexistent", "--quick"}, "holds no search checkpoint"},
		{[]string{"--supernet", synthetic, "--quick", "--out", t.TempDir()}, "synthetic-quality search without a supernet"},
	} {
		err := runSearchRank(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("multihw search rank %s: got %v, want an error containing %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}
