package tunas

import (
	"context"
	"strings"
	"testing"

	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/nas/supernet"
)

// TestSupernetBench: one random path and the masked graph, timed once: the
// rows are the path, the mean, the masked graph and the two ratios, and the
// masked graph (both kinds at the largest options) costs more MACs than a
// random path.
func TestSupernetBench(t *testing.T) {
	rows, err := SupernetBench(0.25, 2, 1, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || rows[2].What != "masked graph (mixed maximal path)" || !strings.HasPrefix(rows[3].What, "ratio") {
		t.Fatalf("rows %+v", rows)
	}
	if !(rows[2].MMACs > rows[0].MMACs) || !(rows[0].MS > 0) || rows[3].MS != rows[2].MS/rows[1].MS {
		t.Errorf("masked %.1f vs random %.1f MMACs; ratio %v", rows[2].MMACs, rows[0].MMACs, rows[3].MS)
	}
	if txt := BenchText(rows); strings.Count(txt, "\n") != 5 || !strings.Contains(txt, "ms/step") {
		t.Errorf("text:\n%s", txt)
	}
	if _, err := SupernetBench(0.25, 0, 1, 1, 1); err == nil {
		t.Error("batch 0 accepted")
	}
}

func TestAblationVariants(t *testing.T) {
	cfg := AblationConfig{Steps: 10, Batch: 8, Width: 0.25}
	c, err := cfg.search("project/omit/uniform")
	if err != nil {
		t.Fatal(err)
	}
	if c.Sharing != supernet.ShareProject || c.Space.ExpandOne != nas.ExpandOneOmit || c.OpWarmup != 0 || c.ValidationBatch != 256 {
		t.Errorf("variant config: sharing %s, expand-one %s, op warm-up %g", c.Sharing, c.Space.ExpandOne, c.OpWarmup)
	}
	for _, bad := range []string{"project/keep", "project/sometimes/warmup", "project/keep/late"} {
		cfg.Variants = []string{"none/keep/warmup", bad}
		if _, err := Ablation(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: %v, want an error naming it before any training", bad, err)
		}
	}
	// No variants ran nothing and printed an empty table; a variant given
	// twice trained twice.
	for want, vs := range map[string][]string{"no variants": nil, `variant "none/keep/warmup" given twice`: {"none/keep/warmup", "project/keep/warmup", "none/keep/warmup"}} {
		cfg.Variants = vs
		if _, err := Ablation(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("variants %q: %v, want %q", vs, err, want)
		}
	}
	tb := AblationTable([]AblationRow{{Variant: "none/keep/warmup", Mean: 0.5, Min: 0.4, Max: 0.6, Seconds: 3}})
	if got := tb.Rows[0]; got[1] != "0.500" || got[4] != "3" {
		t.Errorf("table row %v", got)
	}
}
