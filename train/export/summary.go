package export

import (
	"fmt"
	"strings"

	"github.com/multihw/multihw/report"
)

// Summary describes the written file: its graph, input and output, and the
// check of the reloaded file against the Go backend.
func (rep *Report) Summary() string {
	g := rep.Graph
	batchDim := fmt.Sprint(rep.InputShape[0])
	if rep.InputShape[0] < 0 {
		batchDim = BatchDim
	}
	var b strings.Builder
	fmt.Fprintf(&b, "wrote %s (%.1f KB): ONNX IR %d, opset %d, %d nodes (%s)\n", rep.Path, float64(rep.Bytes)/1024, g.IRVersion, g.Opset, g.Nodes, g.Histogram())
	fmt.Fprintf(&b, "input %q float32 [%s %d %d %d] (raw pixels 0..255, NHWC), output %q [%s %d]\n",
		rep.Input, batchDim, rep.InputShape[1], rep.InputShape[2], rep.InputShape[3], rep.Output, batchDim, len(rep.Classes))
	fmt.Fprintf(&b, "reloaded with ONNX Runtime: %d random images in batches of %v, max |logit difference| vs the Go backend %.3g, top-1 agreement %.4f\n",
		rep.CheckImages, rep.CheckBatches, rep.MaxAbsLogitDiff, rep.Top1Agreement)
	return b.String()
}

// Summary lists each backend's accuracy and agreement with the reference
// (the first backend), and the backends skipped.
func (res *ConsistencyResult) Summary() string {
	var b strings.Builder
	for _, s := range res.PerBackend {
		fmt.Fprintf(&b, "  %-6s %-14s lowered=%-5v accuracy %.2f%%  max |logit diff| %.3g  top-1 agreement %.4f  (%.1f s)\n",
			s.Name, s.Backend, s.Lowered, 100*s.Accuracy, s.MaxAbsLogitDiff, s.Top1Agreement, s.Seconds)
	}
	for name, why := range res.Skipped {
		fmt.Fprintf(&b, "  %-6s skipped: %s\n", name, why)
	}
	return b.String()
}

// Summary describes the comparison: both medians, their ratio and the
// export check.
func (res *BenchResult) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s batch 1, %dx%d, median of %d runs (alternating blocks of %d) after %d warm-up:\n", res.Model, res.Resolution, res.Resolution, res.Runs, benchBlock, res.Warmup)
	fmt.Fprintf(&b, "  Go backend (lowered ops):      %8.1f ms\n", res.GoMS)
	fmt.Fprintf(&b, "  ONNX Runtime (exported model): %8.1f ms\n", res.ONNXMS)
	fmt.Fprintf(&b, "  ratio go/onnx:                 %8.2fx  (95%% interval over this run's timings %s-%s)\n", res.Ratio, res.RatioCI.Lo, res.RatioCI.Hi)
	fmt.Fprintf(&b, "  export check: max |logit difference| %.3g\n", res.Export.MaxAbsLogitDiff)
	return b.String()
}

// BenchTable lists several BenchInfer results, one model a row: both
// medians, the ratio with its interval, and how many of them are above
// twice ONNX Runtime's time (the speed target of the Go backend, issue 13).
func BenchTable(results []*BenchResult) string {
	t := report.NewTable("model", "input", "go ms", "onnx ms", "ratio", "95% interval", "max |logit diff|").RightFrom(1)
	over := 0
	for _, r := range results {
		t.Row(r.Model, fmt.Sprint(r.Resolution), fmt.Sprintf("%.2f", r.GoMS), fmt.Sprintf("%.2f", r.ONNXMS), fmt.Sprintf("%.2f", r.Ratio),
			fmt.Sprintf("%.2f-%.2f", r.RatioCI.Lo, r.RatioCI.Hi), fmt.Sprintf("%.3g", r.Export.MaxAbsLogitDiff))
		if r.Ratio > 2 {
			over++
		}
	}
	var b strings.Builder
	if len(results) > 0 {
		r := results[0]
		fmt.Fprintf(&b, "batch 1, median of %d runs per engine (alternating blocks of %d) after %d warm-up; ratio = go/onnx\n", r.Runs, benchBlock, r.Warmup)
	}
	b.WriteString(t.Text())
	fmt.Fprintf(&b, "%d of %d models above a ratio of 2\n", over, len(results))
	return b.String()
}
