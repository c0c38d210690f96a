package train

import (
	"strings"
	"testing"

	"github.com/multihw/multihw/train/optim"
)

// TestBenchTrain runs the training benchmark on a tiny batch: both variants
// train on the Go backend, and the speedup is the ratio of their medians.
func TestBenchTrain(t *testing.T) {
	res, err := BenchTrain(goBackend(t), optim.SGD, 2, 1, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Model != "multi_avg@0.5" || res.Batch != 2 || len(res.FastStepsMS) != 2 || !(res.FastStepMS > 0) {
		t.Errorf("unexpected result %+v", res)
	}
	if res.StockStepMS == nil || res.Speedup == nil || *res.Speedup != *res.StockStepMS/res.FastStepMS {
		t.Errorf("stock time or speedup missing or inconsistent on the Go backend: %+v (error %q)", res, res.StockError)
	}
	if ci := res.SpeedupCI; ci == nil || !(ci.Lo > 0 && ci.Lo <= ci.Hi) || !strings.Contains(res.Summary(), "95% interval") {
		t.Errorf("speedup interval %+v", ci)
	}
	if !(res.FastStepCPUMS > 0) || res.StockStepCPUMS == nil || res.CPUSpeedup == nil || *res.CPUSpeedup != *res.StockStepCPUMS/res.FastStepCPUMS {
		t.Errorf("CPU times or their ratio missing or inconsistent: %+v", res)
	}
	if !strings.HasPrefix(res.Optimizer, "sgd, Nesterov momentum 0.9, weight decay 5e-05, label smoothing 0.1") {
		t.Errorf("optimizer %q, want the default recipe's", res.Optimizer)
	}
	if s := res.Summary(); !strings.Contains(s, "speedup:") || !strings.Contains(s, "1024³ MatMul") || !strings.Contains(s, "CPU time per step") || !strings.Contains(s, res.Optimizer) {
		t.Errorf("summary:\n%s", s)
	}
	if _, err := BenchTrain(goBackend(t), optim.SGD, 0, 1, 2, nil); err == nil {
		t.Error("0 steps accepted")
	}
	if _, err := BenchTrain(goBackend(t), "lbfgs", 1, 1, 2, nil); err == nil || !strings.Contains(err.Error(), "lbfgs") {
		t.Errorf("unknown optimizer: error %v", err)
	}
}
