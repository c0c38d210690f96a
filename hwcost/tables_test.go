package hwcost

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/multihw/multihw/blocks"
)

// TestLatencyTable: the reference is 1.000 on every target (it is normalised
// to itself), the table renders the same cells in markdown and text, and its
// JSON names the targets once.
func TestLatencyTable(t *testing.T) {
	m, err := NewMetric().Done()
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := blocks.Model("mobilenet_v2")
	avg, _ := blocks.Model("multi_avg")
	tbl, err := m.Table(v2, avg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Table(v2, nil); err == nil || !strings.Contains(err.Error(), "architecture 1: architecture is nil") {
		t.Errorf("nil architecture: %v", err)
	}
	ref := tbl.Row("mobilenet_v2")
	for i, v := range ref.Normalized {
		if v != 1 {
			t.Errorf("reference on %s: %v, want 1", tbl.Targets[i], v)
		}
	}
	if v, ok := tbl.Normalized(tbl.Row("multi_avg"), "pixel4-cpu"); !ok || v <= 0 {
		t.Errorf("multi_avg on pixel4-cpu: %v %v", v, ok)
	}
	md := tbl.Markdown()
	want := "| model | MACs (M) | pixel4-cpu | pixel4-gpu | pixel4-dsp | pixel4-edgetpu | AVG | MAX |\n|---|---:|---:|---:|---:|---:|---:|---:|\n| mobilenet_v2 | 300.8 | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 |\n"
	if !strings.HasPrefix(md, want) {
		t.Errorf("markdown:\n%s\nwant prefix:\n%s", md, want)
	}
	lines := strings.Split(tbl.Text(), "\n")
	if f := strings.Fields(lines[1]); len(lines) != 4 || strings.Join(f, " ") != "mobilenet_v2 300.8 1.000 1.000 1.000 1.000 1.000 1.000" {
		t.Errorf("text:\n%s", tbl.Text())
	}
	raw, _ := json.Marshal(tbl)
	if !strings.Contains(string(raw), `"targets":["pixel4-cpu","pixel4-gpu","pixel4-dsp","pixel4-edgetpu"]`) {
		t.Errorf("JSON %s", raw)
	}
}

func TestResultAndBreakdownTables(t *testing.T) {
	m, err := NewMetric().Done()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := blocks.Model("multi_max")
	res, err := m.Evaluate(a)
	if err != nil {
		t.Fatal(err)
	}
	if tb := res.Table(); len(tb.Rows) != 4 || tb.Rows[0][0] != "pixel4-cpu" || tb.Rows[0][4] != "0.250" {
		t.Errorf("result table rows %v", tb.Rows)
	}
	bds, err := m.Breakdowns(a)
	if err != nil {
		t.Fatal(err)
	}
	an, _ := blocks.Analyze(a, 0)
	// One row per layer, then fixed overhead, weight streaming and total.
	if tb := BreakdownTable(bds); len(tb.Rows) != len(an.Layers)+3 || len(tb.Header) != 2+4 || tb.Rows[len(tb.Rows)-1][0] != "total" {
		t.Errorf("breakdown: %d rows for %d layers, header %v", len(tb.Rows), len(an.Layers), tb.Header)
	}
	// The costing's text: the header line, the result table, the scores, and
	// the layers only when there are some.
	c := &Costing{Result: res, Params: ParamsLabel("")}
	head := "multi_max at 224 px: "
	if s := c.Summary(); !strings.HasPrefix(s, head) || !strings.Contains(s, "parameters: fitted (embedded params.json)\n\n"+res.Table().Text()) ||
		!strings.HasSuffix(s, "weighted "+fmt.Sprintf("%.3f", res.Weighted)+"\n") {
		t.Errorf("summary without layers:\n%s", s)
	}
	c.Layers = bds
	if s := c.Summary(); !strings.HasSuffix(s, "\n"+BreakdownTable(bds).Text()+"(m: memory-bound layer)\n") {
		t.Errorf("summary with layers:\n%s", s)
	}
	for path, want := range map[string]string{"": "fitted (embedded params.json)", "default": "fitted (embedded params.json)", "prior": "priors", "p.json": "p.json"} {
		if got := ParamsLabel(path); got != want {
			t.Errorf("ParamsLabel(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestSensitivityTables(t *testing.T) {
	v2, _ := blocks.Model("mobilenet_v2")
	avg, _ := blocks.Model("multi_avg")
	res, err := Sensitivity(SensitivityConfig{Targets: []string{"paper"}, Archs: []*blocks.Arch{v2, avg}, Draws: 20, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if tb := res.SpreadTable(); len(tb.Rows) != 2 || !strings.HasPrefix(tb.Rows[0][1], "1.000 [") {
		t.Errorf("spread table %v", tb.Rows)
	}
	if tb := res.OrderingTable(); len(tb.Rows) != 1 || tb.Rows[0][0] != "mobilenet_v2" {
		t.Errorf("ordering table %v", tb.Rows)
	}
	// P(A < B) and P(B < A) add up to 1 in the matrix.
	mx := res.OrderingMatrix()
	if len(mx.Rows) != 2 || mx.Rows[0][1] != "" || mx.Rows[0][2] == "" {
		t.Errorf("ordering matrix %v", mx.Rows)
	}
}
