package train

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/multihw/multihw/internal/stats"
)

func TestTrainTiny(t *testing.T) {
	ds, _ := toyDataset(t)
	out := t.TempDir()
	res, err := New(tinyArch(t), ds).Recipe(tinyRecipe()).Seed(3).Out(out).EvalEvery(20).
		Backend(goBackend(t)).Progress(os.Stderr).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("test acc %.3f val acc %.3f steps %d step %.1f ms", res.Test.Accuracy, res.Validation.Accuracy, res.Steps, res.StepMS)
	if res.Steps != 40 || res.Test.N != 100 || res.Validation.N != 40 {
		t.Errorf("steps %d, test n %d, validation n %d; want 40, 100, 40", res.Steps, res.Test.N, res.Validation.N)
	}
	if res.Test.Accuracy < 0.5 {
		t.Errorf("test accuracy %.3f on a trivially learnable toy set, want >= 0.5", res.Test.Accuracy)
	}
	// The interval over the 100 test images: Clopper-Pearson of the same
	// count, the accuracy inside it.
	k := int(math.Round(res.Test.Accuracy * 100))
	if ci := res.Test.AccuracyCI95; ci != stats.BinomialInterval(k, 100, 0.95) || !ci.Contains(res.Test.Accuracy) {
		t.Errorf("test accuracy %.2f: interval %v", res.Test.Accuracy, ci)
	}
	for _, f := range []string{MetricsFile, ResultFile} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}
