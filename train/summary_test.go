package train

import (
	"strings"
	"testing"
)

// TestConfusionTable: each class's accuracy with its Clopper-Pearson
// interval over the class's images (1/2: 1.3-98.7, 3/3: 29.2-100, as R's
// binom.test), "n/a" for a class without images, names cut to 12 bytes at a
// character boundary.
func TestConfusionTable(t *testing.T) {
	r := &EvalResult{Classes: []string{"T-shirt/top long name", "Ankle boot", "Sägetierääää"}, PerClass: []float64{0.5, 1, 0},
		Confusion: [][]int{{1, 1, 0}, {0, 3, 0}, {0, 0, 0}}}
	tb := r.ConfusionTable()
	if got := strings.Join(tb.Header, ","); got != "true\\pred,0,1,2,accuracy,95% CI,class" {
		t.Errorf("header %s", got)
	}
	want := [][]string{{"50.0%", "1.3-98.7", "T-shirt/top_"}, {"100.0%", "29.2-100.0", "Ankle_boot"}, {"n/a", "n/a", "Sägetierä"}}
	for i, w := range want {
		if got := tb.Rows[i][4:]; strings.Join(got, "|") != strings.Join(w, "|") {
			t.Errorf("row %d: %q, want %q", i, got, w)
		}
	}
}

// TestAccuracyText: the accuracy with its Clopper-Pearson interval over the
// split (8467/10000: 83.95-85.37, as R's binom.test), also for a result read
// back from a file written before the interval was stored.
func TestAccuracyText(t *testing.T) {
	r := &EvalResult{N: 10000, Accuracy: 0.8467}
	if got, want := r.AccuracyText(), "84.67% (95% CI 83.95-85.37 over 10000 images)"; got != want {
		t.Errorf("AccuracyText() = %q, want %q", got, want)
	}
}
