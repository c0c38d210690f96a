package tunas

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

const (
	helperEnv   = "MULTIHW_TUNAS_RESUME_HELPER"
	resumeSteps = 24
	stallAfter  = 13 // steps; the last checkpoint before is at step 10
)

func resumeSearch(t testing.TB, dir string) *Search {
	return New(tinySearchConfig(resumeSteps)).Dataset(tinyDataset(t)).Out(dir).Backend(goBackend(t)).CheckpointEvery(5, 0)
}

// TestResumeHelper is the subprocess of TestResumeAfterKill: it runs the
// search and stalls after step stallAfter, announcing it with a file.
func TestResumeHelper(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("subprocess of TestResumeAfterKill")
	}
	s := resumeSearch(t, dir).OnStep(func(rec Record) {
		if rec.Step+1 == stallAfter {
			if err := os.WriteFile(filepath.Join(dir, "stalled"), nil, 0o644); err != nil {
				panic(err)
			}
			select {} // wait for SIGKILL
		}
	})
	if _, err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestResumeAfterKill kills a search with SIGKILL after its second
// checkpoint and three more steps, resumes it, and checks that it ends
// exactly as an uninterrupted search: same final architecture, same
// per-step samples, accuracies and rewards.
func TestResumeAfterKill(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestResumeHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(dir, "stalled")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("the helper search never reached the stall step")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if _, err := os.Stat(filepath.Join(dir, ResultFile)); err == nil {
		t.Fatal("the killed search wrote its result")
	}
	ck, err := loadCheckpoint(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if ck.Step != 10 {
		t.Fatalf("the killed search's checkpoint is at step %d, want 10", ck.Step)
	}
	resumed, err := resumeSearch(t, dir).Resume(true).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	whole, err := resumeSearch(t, t.TempDir()).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Final.Text != whole.Final.Text {
		t.Fatalf("final architectures differ:\nresumed:\n%s\nuninterrupted:\n%s", resumed.Final.Text, whole.Final.Text)
	}
	if resumed.Stats.Resumes != 1 || len(resumed.History) != resumeSteps {
		t.Fatalf("resumed search: %d resumes, %d records", resumed.Stats.Resumes, len(resumed.History))
	}
	for i, a := range resumed.History {
		b := whole.History[i]
		if a.Q != b.Q || a.Reward != b.Reward || a.TrainLoss != b.TrainLoss || !slices.Equal(a.Point, b.Point) {
			t.Fatalf("step %d differs: resumed %+v, uninterrupted %+v", i, a, b)
		}
	}
	for d := range resumed.Probs {
		for i := range resumed.Probs[d] {
			if resumed.Probs[d][i] != whole.Probs[d][i] {
				t.Fatalf("final probabilities of decision %d differ", d)
			}
		}
	}
}
