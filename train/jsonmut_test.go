package train

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/ml/model"

	"github.com/multihw/multihw/internal/jsonmut"
	"github.com/multihw/multihw/internal/stats"
)

// frameCheckpoint returns the file bytes of a checkpoint with header hdr and
// data body (see the format at the top of checkpoint.go): the sizes and the
// checksum are right, so a reader gets past them to the header.
func frameCheckpoint(hdr, body []byte) []byte {
	out := make([]byte, checkpointPrefix2, checkpointPrefix2+len(hdr)+len(body))
	copy(out, checkpointMagic)
	binary.LittleEndian.PutUint64(out[8:], uint64(len(hdr)))
	binary.LittleEndian.PutUint64(out[16:], uint64(len(body)))
	out = append(out, hdr...)
	out = append(out, body...)
	sum := sha256.Sum256(out[checkpointPrefix2:])
	copy(out[24:], sum[:])
	return out
}

// TestCheckpointRefusesMalformed: a checkpoint whose header is changed in one
// node at a time (null, another type, numbers past their ranges, a member
// deleted), framed with the right sizes and checksum, is refused when loaded
// or loads and restores its variables, never a panic.
func TestCheckpointRefusesMalformed(t *testing.T) {
	ck, err := InitCheckpoint(tinyArch(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	hdr, err := json.Marshal(ck)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), checkpointName(1))
	if err := os.WriteFile(path, frameCheckpoint(hdr, ck.data), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpoint(path); err != nil {
		t.Fatalf("the unchanged checkpoint: %v", err)
	}
	jsonmut.Check(t, "checkpoint header", hdr, func(h []byte) error {
		if err := os.WriteFile(path, frameCheckpoint(h, ck.data), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := LoadCheckpoint(path)
		if err != nil {
			return err
		}
		_ = c.Dataset.ValidationFraction()
		store := model.NewStore()
		defer store.Finalize()
		return c.Restore(store, nil)
	})
}

// TestReadRunRefusesMalformed: a run's result file and a metrics log line,
// each changed in one node at a time, are refused or read, never a panic.
func TestReadRunRefusesMalformed(t *testing.T) {
	arch := tinyArch(t)
	ev := &EvalResult{Split: "test", N: 4, Accuracy: 0.5, AccuracyCI95: stats.Interval{Lo: 0.1, Hi: 0.9}, Loss: 1.2,
		Classes: []string{"a", "b"}, PerClass: []float64{0.5, 0.5}, ClassCount: []int{2, 2}, Confusion: [][]int{{1, 1}, {1, 1}}}
	res := &Result{Arch: arch, TrainArch: arch.Clone(), Recipe: DefaultRecipe(), Seed: 1,
		Dataset: DatasetInfo{Kind: "none", Classes: []string{"a", "b"}, Height: 12, Width: 12, Channels: 1},
		Backend: "go", Steps: 10, Epochs: 1, ResumedFrom: -1, Validation: ev, Test: ev, Notes: []string{"a note"}}
	resJSON, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	rec := Record{Step: 10, Epoch: 1, LearningRate: 0.1, TrainLoss: 1, TrainAccuracy: 0.5,
		Validation: &EvalSummary{N: 4, Accuracy: 0.5, Loss: 1}, Test: &EvalSummary{N: 4, Accuracy: 0.5, Loss: 1}, Final: true, Event: "time budget"}
	recJSON, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	metrics := func(line []byte) []byte { return []byte(`{"step": 1}` + "\n" + strings.TrimSpace(string(line)) + "\n") }
	write(ResultFile, resJSON)
	write(MetricsFile, metrics(recJSON))
	if _, err := ReadRun(dir); err != nil {
		t.Fatalf("the unchanged run: %v", err)
	}
	for _, tc := range []struct {
		name string
		doc  []byte
		read func([]byte) error
	}{
		{ResultFile, resJSON, func(b []byte) error {
			write(ResultFile, b)
			write(MetricsFile, metrics(recJSON))
			_, err := ReadRun(dir)
			return err
		}},
		{MetricsFile + " line", recJSON, func(b []byte) error {
			write(ResultFile, resJSON)
			write(MetricsFile, metrics(b))
			_, err := ReadRun(dir)
			return err
		}},
	} {
		jsonmut.Check(t, tc.name, tc.doc, tc.read)
	}
}
