package hwcost

import (
	"fmt"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/report"
)

// LatencyTable is the model × target table of normalised latencies: one row
// per architecture with its MACs, its latency on each target relative to the
// reference, and AVG and MAX. It is the one writer of that table for the
// command line (Text), the reports (Markdown, Report) and JSON.
type LatencyTable struct {
	Reference string   `json:"reference"`
	Targets   []string `json:"targets"`
	// ReferenceMs is the reference's latency on each target, in order.
	ReferenceMs []float64         `json:"reference_latency_ms"`
	Rows        []LatencyTableRow `json:"rows"`
}

// LatencyTableRow is one architecture of a LatencyTable.
type LatencyTableRow struct {
	Model  string `json:"model"`
	MACs   int64  `json:"macs"`
	Params int64  `json:"params"`
	// Normalized is the latency relative to the reference, per target in the
	// table's order.
	Normalized []float64 `json:"normalized"`
	Avg        float64   `json:"avg"`
	Max        float64   `json:"max"`
}

// Table evaluates archs under m and returns their latency table.
func (m *Metric) Table(archs ...*blocks.Arch) (*LatencyTable, error) {
	t := &LatencyTable{Reference: m.Reference(), Targets: m.TargetNames(), ReferenceMs: m.ReferenceLatencies()}
	for i, a := range archs {
		res, err := m.Evaluate(a)
		if err != nil {
			name := fmt.Sprintf("architecture %d", i)
			if a != nil {
				name = a.Name
			}
			return nil, fmt.Errorf("latency table: %s: %w", name, err)
		}
		row := LatencyTableRow{Model: a.Name, MACs: res.MACs, Params: res.Params, Avg: res.Avg, Max: res.Max}
		for _, n := range t.Targets {
			row.Normalized = append(row.Normalized, res.Normalized[n])
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// Row returns the row of model, or nil.
func (t *LatencyTable) Row(model string) *LatencyTableRow {
	for i := range t.Rows {
		if t.Rows[i].Model == model {
			return &t.Rows[i]
		}
	}
	return nil
}

// Normalized returns row's normalised latency on target, and whether the
// table has that target.
func (t *LatencyTable) Normalized(row *LatencyTableRow, target string) (float64, bool) {
	for i, n := range t.Targets {
		if n == target {
			return row.Normalized[i], true
		}
	}
	return 0, false
}

// Report returns the table's cells: model, MACs (M) with one decimal, the
// normalised latency on each target, AVG and MAX with three.
func (t *LatencyTable) Report() *report.Table {
	header := append([]string{"model", "MACs (M)"}, t.Targets...)
	tb := report.NewTable(append(header, "AVG", "MAX")...).RightFrom(1)
	for _, r := range t.Rows {
		cells := []string{r.Model, fmt.Sprintf("%.1f", float64(r.MACs)/1e6)}
		for _, v := range r.Normalized {
			cells = append(cells, fmt.Sprintf("%.3f", v))
		}
		tb.Row(append(cells, fmt.Sprintf("%.3f", r.Avg), fmt.Sprintf("%.3f", r.Max))...)
	}
	return tb
}

// Markdown renders the table in markdown.
func (t *LatencyTable) Markdown() string { return t.Report().Markdown() }

// Text renders the table as aligned plain text.
func (t *LatencyTable) Text() string { return t.Report().Text() }
