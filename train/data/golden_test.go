package data

import (
	"slices"
	"testing"
)

// TestStreamGolden pins the order and augmentation of a small stream. If it
// changes, checkpoints of runs in progress would resume on different batches:
// change it only deliberately.
func TestStreamGolden(t *testing.T) {
	sp := idSplit(10, 3, 3, 1)
	s := mustStream(t, sp, 6, 2026, Augment{Pad: 1, Flip: true})
	var labels []int32
	for k := range 3 {
		labels = append(labels, mustBatch(t, s, k).Labels...)
	}
	b := mustBatch(t, s, 0)
	t.Logf("labels %v, first image %v", labels, b.Images[:9])
	wantLabels := []int32{0, 5, 8, 2, 6, 9, 3, 1, 4, 7, 8, 3, 1, 2, 5, 6, 7, 4}
	// Image 0 (rows 0 1 2 / 3 4 5 / 6 7 8) shifted down, mirrored, shifted: a black top row and left column.
	wantImage := []float32{0, 0, 0, 0, 2, 1, 0, 5, 4}
	if !slices.Equal(labels, wantLabels) {
		t.Errorf("labels %v, want %v", labels, wantLabels)
	}
	for i, v := range wantImage {
		if d := b.Images[i] - v; d > 1e-3 || d < -1e-3 {
			t.Fatalf("first image %v, want %v", b.Images[:9], wantImage)
		}
	}
}

func TestDatasetHelpers(t *testing.T) {
	d := mustLoad(t, NewLoader("fashion-mnist:"+fakeFashion(t, 30, 7, 5, 5, true)).Validation(0.2))
	ts, err := d.TrainStream(8, 1)
	if err != nil || ts.Len() != 24 || ts.Shape() != [4]int{8, 5, 5, 1} {
		t.Fatalf("train stream: %v", err)
	}
	vs, err := d.ValidationStream(4, 1)
	if err != nil || vs.Len() != 6 {
		t.Fatalf("validation stream: %v", err)
	}
	ev, err := d.Eval(d.Test, 4)
	if err != nil || ev.NumBatches() != 2 {
		t.Fatalf("eval: %v", err)
	}
	none := mustLoad(t, NewLoader("fashion-mnist:"+fakeFashion(t, 30, 7, 5, 5, true)).Validation(0))
	if _, err := none.ValidationStream(4, 1); err == nil {
		t.Fatal("stream over an empty validation split accepted")
	}
}
