package blocks

import (
	"math"
	"testing"
)

func TestReferenceFigures(t *testing.T) {
	exact := map[string]bool{"mobilenet_v2": true, "multi_avg": true, "multi_max": true}
	for _, r := range References {
		a := r.Arch()
		an, err := Analyze(a, r.PublishedResolution)
		if err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		tolM, tolP := r.Tolerance(r.PublishedMACs), r.Tolerance(r.PublishedParams)
		if exact[r.Name] {
			tolM, tolP = 0.005, 0.005
		}
		dm := float64(an.MACs)/r.PublishedMACs - 1
		dp := float64(an.Params)/r.PublishedParams - 1
		t.Logf("%-24s MACs %8.1f M (published %8.1f M, %+.2f%%)  params %9d (published %9.0f, %+.2f%%)",
			r.Name, float64(an.MACs)/1e6, r.PublishedMACs/1e6, 100*dm, an.Params, r.PublishedParams, 100*dp)
		if math.Abs(dm) > tolM || math.Abs(dp) > tolP {
			t.Errorf("%s: MACs %d / params %d off the published %.0f / %.0f by more than %.1f%% / %.1f%%",
				r.Name, an.MACs, an.Params, r.PublishedMACs, r.PublishedParams, 100*tolM, 100*tolP)
		}
	}
}

func TestModelRows(t *testing.T) {
	rows, err := ModelRows()
	if err != nil || len(rows) != len(References) {
		t.Fatalf("%d rows for %d references: %v", len(rows), len(References), err)
	}
	tb := ModelTable(rows)
	if len(tb.Rows) != len(rows) || tb.Rows[0][0] != References[0].Name {
		t.Errorf("table rows %v", tb.Rows[:1])
	}
}

// TestPublishedTable: one row per reference; MobileNetV2 at 224 px is counted
// at the figures the zoo records as published (300.8 M MACs, 3,540,265
// parameters: rounded 301 and 3.54 on both sides) and has a published top-1.
func TestPublishedTable(t *testing.T) {
	tb, err := PublishedTable()
	if err != nil || len(tb.Rows) != len(References) {
		t.Fatalf("%v rows for %d references: %v", tb, len(References), err)
	}
	for _, r := range tb.Rows {
		if r[0] == "mobilenet_v2" && (r[1] != "224" || r[2] != "301" || r[3] != "301" || r[4] != "3.54" || r[6] == "-") {
			t.Errorf("mobilenet_v2 row %v", r)
		}
	}
}

func TestModels(t *testing.T) {
	archs, err := Models("multi_avg", "mobilenet_v2")
	if err != nil || len(archs) != 2 || archs[1].Name != "mobilenet_v2" {
		t.Errorf("Models: %v, %v", archs, err)
	}
	if _, err := Models("multi_avg", "nope"); err == nil {
		t.Error("unknown model accepted")
	}
}
