package figset

import (
	"fmt"
	"strings"
	"testing"

	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/nas/nb201"
)

// TestAvgVsMax: one point per sample and per marked model; a target ranks the
// samples exactly as itself (ρ = 1 on the diagonal); the same seed draws the
// same samples.
func TestAvgVsMax(t *testing.T) {
	m, err := hwcost.NewMetric().Targets(hwcost.PaperTargets()...).Done()
	if err != nil {
		t.Fatal(err)
	}
	fig, tb, err := AvgVsMax(m, nas.MultiHWSpace(), 20, 1, []string{"mobilenet_v2", "multi_avg"})
	if err != nil {
		t.Fatal(err)
	}
	if fig == nil || len(tb.Rows) != 4 || tb.Rows[0][1] != "1.000" || tb.Rows[3][4] != "1.000" {
		t.Errorf("figure %v, table %v", fig, tb.Rows)
	}
	_, again, err := AvgVsMax(m, nas.MultiHWSpace(), 20, 1, []string{"multi_max"})
	if err != nil {
		t.Fatal(err)
	}
	if again.Text() != tb.Text() {
		t.Errorf("seed 1 drew other samples:\n%s\nvs\n%s", again.Text(), tb.Text())
	}
	if _, _, err := AvgVsMax(m, nas.MultiHWSpace(), 1, 1, []string{"no_such_model"}); err == nil {
		t.Error("an unknown model was accepted")
	}
}

// TestNB201Devices: the reference cell is at most as slow as itself on every
// device, so the counts are at least 1 and at most the cells measured; the
// all-four count is at most each device's.
func TestNB201Devices(t *testing.T) {
	d, err := NB201DevicesOf(nb201.AllConv3x3)
	if err != nil {
		t.Fatal(err)
	}
	if d.Cells < 1000 || d.AllWithin < 1 || d.Figure == nil || len(d.Spearman.Rows) != 4 {
		t.Fatalf("%d cells, %d within on all four", d.Cells, d.AllWithin)
	}
	for k, n := range d.Within {
		if n < d.AllWithin || n > d.Cells {
			t.Errorf("%s: %d within, all four %d, cells %d", d.Labels[k], n, d.AllWithin, d.Cells)
		}
	}
	if s := d.Summary(); !strings.Contains(s, "on the CPU ") || !strings.HasSuffix(s, "cells (MAX ≤ 1)\n") {
		t.Errorf("summary:\n%s", s)
	}
	if _, err := NB201DevicesOf("|bogus~0|"); err == nil {
		t.Error("a bad reference cell was accepted")
	}
}

// TestSpaceSize: the quantile line is ordered (5% ≤ median ≤ 95%); no
// samples is an error.
func TestSpaceSize(t *testing.T) {
	fig, text, err := SpaceSize(nas.MultiHWSpace(), 40, 1, SpaceSizeModels)
	if err != nil || fig == nil {
		t.Fatal(err)
	}
	var lo, mid, hi float64
	if _, err := fmt.Sscanf(text, "MACs of the samples: 5%% %f M, median %f M, 95%% %f M\n", &lo, &mid, &hi); err != nil || !(lo <= mid && mid <= hi && lo > 0) {
		t.Errorf("quantiles %q (%v)", text, err)
	}
	if _, _, err := SpaceSize(nas.MultiHWSpace(), 0, 1, nil); err == nil {
		t.Error("no samples accepted")
	}
}
