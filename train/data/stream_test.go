package data

import (
	"slices"
	"sync"
	"testing"
)

// idSplit returns n images whose label is their index and whose pixels are
// (i*13 + position) % 251, so any image and any shift of it is recognisable.
func idSplit(n, h, w, c int) *Split {
	s := &Split{Height: h, Width: w, Channels: c, Pixels: make([]uint8, n*h*w*c), Labels: make([]int32, n)}
	for i := range n {
		s.Labels[i] = int32(i)
		for p := range h * w * c {
			s.Pixels[i*h*w*c+p] = uint8((i*13 + p) % 251)
		}
	}
	return s
}

func unitNorm(c int) Norm {
	n := Norm{Mean: make([]float32, c), Std: make([]float32, c)}
	for i := range c {
		n.Mean[i], n.Std[i] = 0, 1.0/255 // value = pixel
	}
	return n
}

func mustStream(t *testing.T, s *Split, b int, seed uint64, aug Augment) *Stream {
	t.Helper()
	st, err := NewStream(s, b, seed, unitNorm(s.Channels), aug)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func mustBatch(t *testing.T, s *Stream, k int) Batch {
	t.Helper()
	b, err := s.Batch(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestStreamIsPureFunctionOfSeedAndStep(t *testing.T) {
	sp := idSplit(37, 6, 5, 3)
	aug := Augment{Pad: 2, Flip: true}
	a, b := mustStream(t, sp, 8, 42, aug), mustStream(t, sp, 8, 42, aug)
	// a visits steps sequentially, b in a scrambled order (as after restarts).
	want := map[int]Batch{}
	for k := range 30 {
		want[k] = mustBatch(t, a, k)
	}
	for _, k := range []int{17, 0, 29, 5, 5, 12, 28, 1} {
		got := mustBatch(t, b, k)
		if !slices.Equal(got.Labels, want[k].Labels) || !slices.Equal(got.Images, want[k].Images) {
			t.Fatalf("batch %d differs between sequential and random access", k)
		}
	}
	// Concurrent use gives the same batches.
	var wg sync.WaitGroup
	errs := make(chan string, 30)
	for k := range 30 {
		wg.Go(func() {
			got, err := b.Batch(k)
			if err != nil || !slices.Equal(got.Images, want[k].Images) {
				errs <- "concurrent batch differs"
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	// Another seed: another order and other augmentation.
	c := mustStream(t, sp, 8, 43, aug)
	if slices.Equal(mustBatch(t, c, 0).Labels, want[0].Labels) {
		t.Fatal("seed does not change the order")
	}
}

func TestStreamEpochs(t *testing.T) {
	sp := idSplit(10, 2, 2, 1)
	s := mustStream(t, sp, 4, 7, Augment{})
	var labels []int32
	for k := range 10 { // 40 positions = 4 epochs
		labels = append(labels, mustBatch(t, s, k).Labels...)
	}
	var epochs [][]int32
	for e := range 4 {
		ep := slices.Clone(labels[e*10 : (e+1)*10])
		epochs = append(epochs, slices.Clone(ep))
		slices.Sort(ep)
		if !slices.Equal(ep, []int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
			t.Fatalf("epoch %d is not a permutation: %v", e, labels[e*10:(e+1)*10])
		}
	}
	if slices.Equal(epochs[0], epochs[1]) && slices.Equal(epochs[1], epochs[2]) {
		t.Fatal("every epoch has the same order")
	}
	if s.Epoch(5) != 2 || s.StepsFor(1) != 3 || s.StepsFor(2) != 5 {
		t.Fatalf("Epoch(5)=%v StepsFor(1)=%d StepsFor(2)=%d", s.Epoch(5), s.StepsFor(1), s.StepsFor(2))
	}
	// Batch larger than the split: still full batches, epochs chained.
	big := mustStream(t, sp, 25, 7, Augment{})
	if got := mustBatch(t, big, 0).Labels; !slices.Equal(got[:20], labels[:20]) {
		t.Fatalf("batch of 25 over 10 images: %v, want prefix %v", got, labels[:20])
	}
}

func TestStreamNormalisation(t *testing.T) {
	sp := idSplit(3, 2, 2, 3)
	norm := Norm{Mean: []float32{0.5, 0, 1}, Std: []float32{0.25, 1, 0.5}}
	s, err := NewStream(sp, 3, 1, norm, Augment{})
	if err != nil {
		t.Fatal(err)
	}
	b := mustBatch(t, s, 0)
	for j, l := range b.Labels {
		img := sp.Image(int(l))
		for p, v := range img {
			c := p % 3
			want := (float32(v)/255 - norm.Mean[c]) / norm.Std[c]
			if d := b.Images[j*12+p] - want; d > 1e-5 || d < -1e-5 {
				t.Fatalf("row %d value %d = %v, want %v", j, p, b.Images[j*12+p], want)
			}
		}
	}
}

// shiftOf finds the (dy, dx, flip) that maps src to got (values = pixels,
// padding = 0 under unitNorm), or ok=false.
func shiftOf(src []uint8, got []float32, h, w, c, pad int) (dy, dx int, flip, ok bool) {
	for _, f := range []bool{false, true} {
		for dy := -pad; dy <= pad; dy++ {
		next:
			for dx := -pad; dx <= pad; dx++ {
				for y := range h {
					for x := range w {
						sx := x
						if f {
							sx = w - 1 - x
						}
						sy, sx := y+dy, sx+dx
						for ch := range c {
							want := float32(0)
							if sy >= 0 && sy < h && sx >= 0 && sx < w {
								want = float32(src[(sy*w+sx)*c+ch])
							}
							if d := got[(y*w+x)*c+ch] - want; d > 1e-3 || d < -1e-3 {
								continue next
							}
						}
					}
				}
				return dy, dx, f, true
			}
		}
	}
	return 0, 0, false, false
}

func TestStreamAugmentation(t *testing.T) {
	const h, w, c, pad = 6, 7, 3, 2
	sp := idSplit(20, h, w, c)
	s := mustStream(t, sp, 20, 3, Augment{Pad: pad, Flip: true})
	offsets := map[[2]int]bool{}
	flips := 0
	for k := range 4 {
		b := mustBatch(t, s, k)
		for j, l := range b.Labels {
			dy, dx, f, ok := shiftOf(sp.Image(int(l)), b.Images[j*h*w*c:(j+1)*h*w*c], h, w, c, pad)
			if !ok {
				t.Fatalf("step %d row %d is not a padded crop/flip of image %d", k, j, l)
			}
			offsets[[2]int{dy, dx}] = true
			if f {
				flips++
			}
		}
	}
	if len(offsets) < 12 || flips < 20 || flips > 60 {
		t.Fatalf("augmentation not varied enough: %d offsets of 25, %d flips of 80", len(offsets), flips)
	}
	// Flip only: rows are the image or its mirror, never shifted.
	fo := mustStream(t, sp, 20, 3, Augment{Flip: true})
	b := mustBatch(t, fo, 0)
	for j, l := range b.Labels {
		dy, dx, _, ok := shiftOf(sp.Image(int(l)), b.Images[j*h*w*c:(j+1)*h*w*c], h, w, c, 0)
		if !ok || dy != 0 || dx != 0 {
			t.Fatalf("flip-only row %d shifted or altered", j)
		}
	}
}

func TestStreamErrors(t *testing.T) {
	sp := idSplit(4, 2, 2, 1)
	n := unitNorm(1)
	if _, err := NewStream(sp, 0, 1, n, Augment{}); err == nil {
		t.Error("batch size 0 accepted")
	}
	if _, err := NewStream(&Split{Height: 2, Width: 2, Channels: 1}, 2, 1, n, Augment{}); err == nil {
		t.Error("empty split accepted")
	}
	if _, err := NewStream(sp, 2, 1, unitNorm(3), Augment{}); err == nil {
		t.Error("3-channel norm for 1-channel images accepted")
	}
	if _, err := NewStream(sp, 2, 1, Norm{Mean: []float32{0}, Std: []float32{0}}, Augment{}); err == nil {
		t.Error("zero std accepted")
	}
	if _, err := NewStream(sp, 2, 1, n, Augment{Pad: 3}); err == nil {
		t.Error("padding larger than the image accepted")
	}
	s := mustStream(t, sp, 2, 1, Augment{})
	if err := s.Fill(0, make([]float32, 7), make([]int32, 2)); err == nil {
		t.Error("short image buffer accepted")
	}
	if err := s.Fill(-1, make([]float32, 8), make([]int32, 2)); err == nil {
		t.Error("negative step accepted")
	}
	if _, err := s.Range(-1, 3); err == nil {
		t.Error("negative range start accepted")
	}
	seq, err := s.Range(3, 6)
	if err != nil {
		t.Fatal(err)
	}
	var steps []int
	for k, b := range seq {
		if !slices.Equal(b.Images, mustBatch(t, s, k).Images) {
			t.Fatalf("Range batch %d differs from Batch", k)
		}
		steps = append(steps, k)
	}
	if !slices.Equal(steps, []int{3, 4, 5}) {
		t.Fatalf("Range steps %v", steps)
	}
}

func TestEval(t *testing.T) {
	sp := idSplit(10, 2, 3, 1)
	e, err := NewEval(sp, 4, unitNorm(1))
	if err != nil {
		t.Fatal(err)
	}
	if e.NumBatches() != 3 || e.Shape() != [4]int{4, 2, 3, 1} {
		t.Fatalf("batches %d shape %v", e.NumBatches(), e.Shape())
	}
	var labels []int32
	var valid []int
	for b := range e.All() {
		valid = append(valid, b.Valid)
		labels = append(labels, b.Labels...)
		for j := range b.Valid {
			img := sp.Image(int(b.Labels[j]))
			for p, v := range img {
				if d := b.Images[j*6+p] - float32(v); d > 1e-3 || d < -1e-3 {
					t.Fatalf("batch %d row %d differs from the image", b.Index, j)
				}
			}
		}
		for _, v := range b.Images[b.Valid*6:] {
			if v != 0 {
				t.Fatal("padding rows are not zero")
			}
		}
	}
	if !slices.Equal(valid, []int{4, 4, 2}) || !slices.Equal(labels, []int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0}) {
		t.Fatalf("valid %v labels %v", valid, labels)
	}
	if _, err := e.Fill(3, make([]float32, 24), make([]int32, 4)); err == nil {
		t.Error("batch past the end accepted")
	}
	if _, err := NewEval(sp, -1, unitNorm(1)); err == nil {
		t.Error("negative batch size accepted")
	}
}
