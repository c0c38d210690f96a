package train

import (
	"strings"
	"testing"
)

func TestConfusionTable(t *testing.T) {
	r := &EvalResult{Classes: []string{"T-shirt/top long name", "Ankle boot"}, PerClass: []float64{0.5, 1},
		Confusion: [][]int{{1, 1}, {0, 3}}}
	tb := r.ConfusionTable()
	if got := strings.Join(tb.Header, ","); got != "true\\pred,0,1,accuracy,class" {
		t.Errorf("header %s", got)
	}
	// Class names: at most 12 bytes, blanks as underscores.
	if row := tb.Rows[0]; row[3] != "50.0%" || row[4] != "T-shirt/top " || tb.Rows[1][4] != "Ankle_boot" {
		t.Errorf("rows %q", tb.Rows)
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
