package export

import (
	"strings"
	"testing"
)

func TestSummaries(t *testing.T) {
	rep := &Report{Path: "m.onnx", Bytes: 2048, Input: "images", InputShape: []int{-1, 28, 28, 1}, Output: "logits",
		Classes: make([]string, 10), Graph: &Summary{IRVersion: 8, Opset: 13, Nodes: 3, Ops: map[string]int{"Conv": 3}}, CheckImages: 4}
	s := rep.Summary()
	// A symbolic batch (-1) is shown by its name.
	if !strings.Contains(s, "wrote m.onnx (2.0 KB)") || !strings.Contains(s, "["+BatchDim+" 28 28 1]") || strings.Count(s, "\n") != 3 {
		t.Errorf("export summary:\n%s", s)
	}
	cr := &ConsistencyResult{PerBackend: []BackendStats{{Name: "go", Accuracy: 0.5}}, Skipped: map[string]string{"xla": "no plugin"}}
	if s := cr.Summary(); !strings.Contains(s, "accuracy 50.00%") || !strings.Contains(s, "xla    skipped: no plugin") {
		t.Errorf("consistency summary:\n%s", s)
	}
}
