package data

import (
	"fmt"
	"iter"
	"math"
	"sync"
)

// Augment configures training augmentation.
type Augment struct {
	// Pad > 0 enables random cropping: the image is padded by Pad black pixels
	// on each side and a window of the original size is cut at a random offset.
	Pad int `json:"pad"`
	// Flip mirrors the image left-right with probability 1/2.
	Flip bool `json:"flip"`
}

// Batch is one batch of normalised images (NHWC float32) and labels.
type Batch struct {
	Images []float32
	Labels []int32
}

// Stream produces the training batches of a split: batch k is a pure
// function of (split, seed, k); see the package documentation. It is safe for
// concurrent use.
type Stream struct {
	split *Split
	batch int
	seed  uint64
	aug   Augment
	lut   []float32

	mu    sync.Mutex
	perms [2]epochPerm // small cache: a batch touches at most two epochs
	lru   int
}

type epochPerm struct {
	epoch int64
	perm  []int32
}

// NewStream returns the stream of batches of batchSize images of split,
// normalised by norm, shuffled per epoch and augmented from seed.
func NewStream(split *Split, batchSize int, seed uint64, norm Norm, aug Augment) (*Stream, error) {
	if err := split.check(); err != nil {
		return nil, fmt.Errorf("stream: %w", err)
	}
	if split.Len() == 0 {
		return nil, fmt.Errorf("stream: the split is empty")
	}
	if batchSize <= 0 {
		return nil, fmt.Errorf("stream: batch size %d must be positive", batchSize)
	}
	if err := norm.validate(split.Channels); err != nil {
		return nil, fmt.Errorf("stream: %w", err)
	}
	if aug.Pad < 0 || aug.Pad > min(split.Height, split.Width) {
		return nil, fmt.Errorf("stream: crop padding %d not in [0, %d]", aug.Pad, min(split.Height, split.Width))
	}
	s := &Stream{split: split, batch: batchSize, seed: seed, aug: aug, lut: norm.lut()}
	for i := range s.perms {
		s.perms[i].epoch = -1
	}
	return s, nil
}

// BatchSize is the number of images per batch.
func (s *Stream) BatchSize() int { return s.batch }

// Len is the number of images in the split (one epoch).
func (s *Stream) Len() int { return s.split.Len() }

// Shape returns the batch image shape [BatchSize, Height, Width, Channels].
func (s *Stream) Shape() [4]int {
	return [4]int{s.batch, s.split.Height, s.split.Width, s.split.Channels}
}

// Epoch is the (fractional) number of epochs completed before batch step.
func (s *Stream) Epoch(step int) float64 {
	return float64(step) * float64(s.batch) / float64(s.split.Len())
}

// StepsFor returns the number of batches that cover epochs epochs: ceil(epochs*Len/BatchSize).
func (s *Stream) StepsFor(epochs float64) int {
	return int(math.Ceil(epochs * float64(s.split.Len()) / float64(s.batch)))
}

// perm returns the example order of epoch e, cached.
func (s *Stream) perm(e int64) []int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.perms {
		if p.epoch == e {
			return p.perm
		}
	}
	p := permutation(s.split.Len(), key(s.seed, tagEpochOrder, uint64(e)))
	s.lru ^= 1
	s.perms[s.lru] = epochPerm{epoch: e, perm: p}
	return p
}

// Fill writes batch step into images (BatchSize*Height*Width*Channels
// values, NHWC) and labels (BatchSize values). It allocates nothing once the
// epoch order is cached.
func (s *Stream) Fill(step int, images []float32, labels []int32) error {
	if step < 0 {
		return fmt.Errorf("stream: negative step %d", step)
	}
	n := s.split.ImageSize()
	if len(images) != s.batch*n || len(labels) != s.batch {
		return fmt.Errorf("stream: buffers hold %d image values and %d labels, want %d and %d", len(images), len(labels), s.batch*n, s.batch)
	}
	size := int64(s.split.Len())
	first := int64(step) * int64(s.batch)
	if first/int64(s.batch) != int64(step) || first > math.MaxInt64-int64(s.batch) {
		return fmt.Errorf("stream: step %d overflows", step)
	}
	var curEpoch int64 = -1
	var perm []int32
	for j := 0; j < s.batch; j++ {
		p := first + int64(j)
		if e := p / size; e != curEpoch {
			curEpoch, perm = e, s.perm(e)
		}
		idx := int(perm[p%size])
		labels[j] = s.split.Labels[idx]
		dst := images[j*n : (j+1)*n]
		if s.aug.Pad == 0 && !s.aug.Flip {
			copyPlain(s.split.Image(idx), s.split.Channels, s.lut, dst)
		} else {
			s.copyAugmented(idx, key(s.seed, tagAugment, uint64(p)), dst)
		}
	}
	return nil
}

// Batch returns batch step in newly allocated buffers (see Fill).
func (s *Stream) Batch(step int) (Batch, error) {
	b := Batch{Images: make([]float32, s.batch*s.split.ImageSize()), Labels: make([]int32, s.batch)}
	if err := s.Fill(step, b.Images, b.Labels); err != nil {
		return Batch{}, err
	}
	return b, nil
}

// Range returns an iterator over batches from, from+1, ..., to-1 (to < 0:
// forever). The yielded Batch reuses one pair of buffers: copy what must
// outlive the iteration step.
func (s *Stream) Range(from, to int) (iter.Seq2[int, Batch], error) {
	if from < 0 {
		return nil, fmt.Errorf("stream: negative start step %d", from)
	}
	return func(yield func(int, Batch) bool) {
		b := Batch{Images: make([]float32, s.batch*s.split.ImageSize()), Labels: make([]int32, s.batch)}
		for k := from; to < 0 || k < to; k++ {
			_ = s.Fill(k, b.Images, b.Labels) // cannot fail: k >= 0 and the buffers fit
			if !yield(k, b) {
				return
			}
		}
	}, nil
}

// copyPlain normalises one image through the lookup table.
func copyPlain(src []uint8, channels int, lut []float32, dst []float32) {
	if channels == 1 {
		for i, v := range src {
			dst[i] = lut[v]
		}
		return
	}
	for i := 0; i+2 < len(src); i += 3 {
		dst[i] = lut[src[i]]
		dst[i+1] = lut[256+int(src[i+1])]
		dst[i+2] = lut[512+int(src[i+2])]
	}
}

// copyAugmented writes the random crop (of the image padded with black) and
// flip drawn from the 64-bit key h.
func (s *Stream) copyAugmented(idx int, h uint64, dst []float32) {
	H, W, C := s.split.Height, s.split.Width, s.split.Channels
	src := s.split.Image(idx)
	pad := s.aug.Pad
	dy, dx := 0, 0
	if pad > 0 {
		span := uint64(2*pad + 1)
		dy = int(h%span) - pad
		dx = int((h>>21)%span) - pad
	}
	flip := s.aug.Flip && (h>>63) == 1
	lut := s.lut
	for y := 0; y < H; y++ {
		sy := y + dy
		row := dst[y*W*C : (y+1)*W*C]
		if sy < 0 || sy >= H {
			for x := 0; x < W; x++ {
				for c := 0; c < C; c++ {
					row[x*C+c] = lut[c*256] // black padding, normalised
				}
			}
			continue
		}
		srow := src[sy*W*C : (sy+1)*W*C]
		for x := 0; x < W; x++ {
			sx := x
			if flip {
				sx = W - 1 - x
			}
			sx += dx
			if sx < 0 || sx >= W {
				for c := 0; c < C; c++ {
					row[x*C+c] = lut[c*256]
				}
				continue
			}
			for c := 0; c < C; c++ {
				row[x*C+c] = lut[c*256+int(srow[sx*C+c])]
			}
		}
	}
}

// Eval walks a split in stored order in batches of a fixed size for
// evaluation: no shuffling, no augmentation.
type Eval struct {
	split *Split
	batch int
	lut   []float32
}

// EvalBatch is one evaluation batch. Only the first Valid rows are real
// images: the last batch of a split is padded with zero images and label 0.
type EvalBatch struct {
	Index  int // batch number, 0..NumBatches()-1
	Images []float32
	Labels []int32
	Valid  int
}

// NewEval returns an evaluator over split with batches of batchSize images normalised by norm.
func NewEval(split *Split, batchSize int, norm Norm) (*Eval, error) {
	if err := split.check(); err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	if split.Len() == 0 {
		return nil, fmt.Errorf("eval: the split is empty")
	}
	if batchSize <= 0 {
		return nil, fmt.Errorf("eval: batch size %d must be positive", batchSize)
	}
	if err := norm.validate(split.Channels); err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	return &Eval{split: split, batch: batchSize, lut: norm.lut()}, nil
}

// BatchSize is the number of rows per batch (the last one padded).
func (e *Eval) BatchSize() int { return e.batch }

// Len is the number of images in the split.
func (e *Eval) Len() int { return e.split.Len() }

// NumBatches is ceil(Len/BatchSize).
func (e *Eval) NumBatches() int { return (e.split.Len() + e.batch - 1) / e.batch }

// Shape returns the batch image shape [BatchSize, Height, Width, Channels].
func (e *Eval) Shape() [4]int {
	return [4]int{e.batch, e.split.Height, e.split.Width, e.split.Channels}
}

// Fill writes batch i into full-size buffers, padding the rows past the end
// of the split with zeros (label 0), and returns the number of real rows.
func (e *Eval) Fill(i int, images []float32, labels []int32) (valid int, err error) {
	if i < 0 || i >= e.NumBatches() {
		return 0, fmt.Errorf("eval: batch %d not in [0, %d)", i, e.NumBatches())
	}
	n := e.split.ImageSize()
	if len(images) != e.batch*n || len(labels) != e.batch {
		return 0, fmt.Errorf("eval: buffers hold %d image values and %d labels, want %d and %d", len(images), len(labels), e.batch*n, e.batch)
	}
	valid = e.fillRows(i, images, labels)
	clear(images[valid*n:])
	clear(labels[valid:])
	return valid, nil
}

// fillRows writes the real rows of batch i and returns their count.
func (e *Eval) fillRows(i int, images []float32, labels []int32) int {
	n := e.split.ImageSize()
	first := i * e.batch
	valid := min(e.batch, e.split.Len()-first)
	for j := 0; j < valid; j++ {
		labels[j] = e.split.Labels[first+j]
		copyPlain(e.split.Image(first+j), e.split.Channels, e.lut, images[j*n:(j+1)*n])
	}
	return valid
}

// All yields every batch in order. The yielded EvalBatch reuses one pair of
// buffers: copy what must outlive the iteration step.
func (e *Eval) All() iter.Seq[EvalBatch] {
	return func(yield func(EvalBatch) bool) {
		b := EvalBatch{Images: make([]float32, e.batch*e.split.ImageSize()), Labels: make([]int32, e.batch)}
		for i := 0; i < e.NumBatches(); i++ {
			b.Index = i
			b.Valid, _ = e.Fill(i, b.Images, b.Labels) // cannot fail: i and buffers are in range
			if !yield(b) {
				return
			}
		}
	}
}
