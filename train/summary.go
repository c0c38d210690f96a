package train

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/multihw/multihw/internal/stats"
	"github.com/multihw/multihw/report"
)

// Summary describes a finished run in a few lines: what was trained on what,
// for how long, and its accuracy.
func (res *Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (trained as %s, adaptation %q) on %s\n", res.Arch.Name, res.TrainArch.Name, res.Adapt, res.Dataset.Spec())
	fmt.Fprintf(&b, "  steps %d (%.2f epochs, batch %d), %.1f min of training, %.0f ms/step, %d parameters\n",
		res.Steps, res.Epochs, res.Recipe.BatchSize, res.TrainSeconds/60, res.StepMS, res.Params)
	if res.Stopped != "" {
		fmt.Fprintf(&b, "  stopped early: %s\n", res.Stopped)
	}
	if res.Validation != nil {
		fmt.Fprintf(&b, "  validation accuracy %s\n", res.Validation.AccuracyText())
	}
	fmt.Fprintf(&b, "  test accuracy       %s\n", res.Test.AccuracyText())
	if res.Checkpoint != "" {
		fmt.Fprintf(&b, "  checkpoint %s\n", res.Checkpoint)
	}
	return b.String()
}

// AccuracyText is the accuracy with its 95% interval over the split's
// images: "84.67% (95% CI 83.95-85.37 over 10000 images)". The interval is
// computed from N and Accuracy, so results written before it had a field of
// their own read back with it too.
func (r *EvalResult) AccuracyText() string {
	k := int(math.Round(r.Accuracy * float64(r.N)))
	ci := stats.BinomialInterval(k, r.N, 0.95)
	return fmt.Sprintf("%.2f%% (95%% CI %.2f-%.2f over %d images)", 100*r.Accuracy, 100*ci.Lo, 100*ci.Hi, r.N)
}

// ConfusionTable is the confusion matrix (rows: true class, columns:
// predicted) with each class's accuracy, its 95% Clopper-Pearson interval
// over the class's images (about ±2 points at Fashion-MNIST's 1000 test
// images a class: closer per-class differences are not resolved) and the
// (shortened) class name. A class without images has no accuracy ("n/a"),
// not 0%.
func (r *EvalResult) ConfusionTable() *report.Table {
	header := []string{"true\\pred"}
	for i := range r.Classes {
		header = append(header, fmt.Sprint(i))
	}
	tb := report.NewTable(append(header, "accuracy", "95% CI", "class")...).RightFrom(0).Left(len(header) + 2)
	for i, row := range r.Confusion {
		cells := []string{fmt.Sprint(i)}
		n := 0
		for _, v := range row {
			cells = append(cells, fmt.Sprint(v))
			n += v
		}
		acc, ci := "n/a", "n/a"
		if n > 0 && i < len(row) {
			iv := stats.BinomialInterval(row[i], n, 0.95)
			acc = fmt.Sprintf("%.1f%%", 100*float64(row[i])/float64(n))
			ci = fmt.Sprintf("%.1f-%.1f", 100*iv.Lo, 100*iv.Hi)
		}
		label := ""
		if i < len(r.Classes) {
			label = classLabel(r.Classes[i])
		}
		tb.Row(append(cells, acc, ci, label)...)
	}
	return tb
}

// classLabel shortens a class name for a table column: at most 12 bytes,
// cut at a character boundary, blanks as underscores.
func classLabel(s string) string {
	if len(s) > 12 {
		cut := 12
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return strings.ReplaceAll(s, " ", "_")
}
