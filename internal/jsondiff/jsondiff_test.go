package jsondiff

import (
	"slices"
	"strings"
	"testing"
)

type recipe struct {
	LR     float64   `json:"lr"`
	Batch  int       `json:"batch_size"`
	Opt    string    `json:"optimizer"`
	Widths []int     `json:"widths"`
	Sub    *sub      `json:"sub,omitempty"`
	Mults  []float64 `json:"mults"`
}

type sub struct {
	Kernels []int `json:"kernels"`
}

func TestDiff(t *testing.T) {
	a := recipe{LR: 0.1, Batch: 128, Opt: "sgd", Widths: []int{1, 2}, Sub: &sub{Kernels: []int{3, 5}}, Mults: []float64{0.5, 1}}
	b := a
	b.Batch, b.Widths, b.Sub, b.Mults = 64, []int{1, 2, 3}, &sub{Kernels: []int{3, 7}}, []float64{0.5, 1}
	got := Diff(a, b)
	want := []string{"batch_size: 128 → 64", "sub/kernels/1: 5 → 7", "widths: 2 items [1,2] → 3 items [1,2,3]"}
	if !slices.Equal(got, want) {
		t.Errorf("Diff = %q, want %q", got, want)
	}
	if d := Diff(a, a); len(d) != 0 {
		t.Errorf("equal values differ: %q", d)
	}
	c := a
	c.Sub = nil
	if d := Diff(a, c); len(d) != 1 || d[0] != `sub: {"kernels":[3,5]} → (absent)` {
		t.Errorf("absent key: %q", d)
	}
	s := Describe(a, b, "checkpoint", "given", 2)
	if !strings.Contains(s, "batch_size is 128 (checkpoint), 64 (given)") || !strings.Contains(s, "and 1 more") {
		t.Errorf("Describe = %q", s)
	}
	// Numbers compare exactly (0.1 vs 0.1000000001 differ).
	d := b
	d.LR = 0.1000000001
	if got := Diff(b, d); len(got) != 1 || got[0] != "lr: 0.1 → 0.1000000001" {
		t.Errorf("close numbers: %q", got)
	}
}
