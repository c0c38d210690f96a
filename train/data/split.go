package data

import (
	"fmt"
	"math"
	"slices"
)

// Split is a set of labelled images kept as uint8 pixels in memory.
// Treat it as read-only once built: streams and evaluators share its slices.
type Split struct {
	Height, Width, Channels int
	// Pixels holds Len() images in NHWC order, Height*Width*Channels bytes each.
	Pixels []uint8
	// Labels holds one class index in [0, number of classes) per image.
	Labels []int32
}

// Len is the number of images.
func (s *Split) Len() int {
	if s == nil {
		return 0
	}
	return len(s.Labels)
}

// ImageSize is the number of values per image: Height*Width*Channels.
func (s *Split) ImageSize() int { return s.Height * s.Width * s.Channels }

// Image returns the pixels of image i (a sub-slice, not a copy).
func (s *Split) Image(i int) []uint8 {
	n := s.ImageSize()
	return s.Pixels[i*n : (i+1)*n : (i+1)*n]
}

// check verifies the split's internal consistency (used by constructors and
// streams, so that a hand-built Split gets an error instead of a panic).
func (s *Split) check() error {
	if s == nil {
		return fmt.Errorf("nil split")
	}
	if s.Height <= 0 || s.Width <= 0 || (s.Channels != 1 && s.Channels != 3) {
		return fmt.Errorf("split has invalid image shape %dx%dx%d (want positive sizes and 1 or 3 channels)", s.Height, s.Width, s.Channels)
	}
	if want := len(s.Labels) * s.ImageSize(); len(s.Pixels) != want {
		return fmt.Errorf("split has %d pixel bytes for %d images of %dx%dx%d (want %d)", len(s.Pixels), len(s.Labels), s.Height, s.Width, s.Channels, want)
	}
	return nil
}

// Subset returns a new Split holding copies of the images at idx, in that order.
func (s *Split) Subset(idx []int) *Split {
	n := s.ImageSize()
	out := &Split{Height: s.Height, Width: s.Width, Channels: s.Channels,
		Pixels: make([]uint8, len(idx)*n), Labels: make([]int32, len(idx))}
	for j, i := range idx {
		copy(out.Pixels[j*n:(j+1)*n], s.Pixels[i*n:(i+1)*n])
		out.Labels[j] = s.Labels[i]
	}
	return out
}

// Holdout carves n images out of the split, chosen by a permutation keyed by
// seed alone. Both parts keep the original relative order of their images, so
// the result depends only on (split, n, seed).
func (s *Split) Holdout(n int, seed uint64) (rest, held *Split, err error) {
	if err := s.check(); err != nil {
		return nil, nil, err
	}
	if n < 0 || n > s.Len() {
		return nil, nil, fmt.Errorf("holdout of %d images from a split of %d", n, s.Len())
	}
	perm := permutation(s.Len(), key(seed, tagHoldout, uint64(s.Len())))
	heldIdx := make([]int, n)
	for i := range heldIdx {
		heldIdx[i] = int(perm[i])
	}
	slices.Sort(heldIdx)
	restIdx := make([]int, 0, s.Len()-n)
	h := 0
	for i := 0; i < s.Len(); i++ {
		if h < n && heldIdx[h] == i {
			h++
			continue
		}
		restIdx = append(restIdx, i)
	}
	return s.Subset(restIdx), s.Subset(heldIdx), nil
}

// ClassCounts returns the number of images per class for classes 0..k-1.
// Labels outside that range are not counted.
func (s *Split) ClassCounts(k int) []int {
	c := make([]int, k)
	for _, l := range s.Labels {
		if l >= 0 && int(l) < k {
			c[l]++
		}
	}
	return c
}

// Norm is a per-channel normalisation: a pixel v (0..255) of channel c becomes
// (v/255 - Mean[c]) / Std[c].
type Norm struct {
	Mean []float32 `json:"mean"`
	Std  []float32 `json:"std"`
}

// minStd keeps constant channels (e.g. an all-black test image set) from
// dividing by zero; such a channel is only centred.
const minStd = 1e-3

// Stats returns the per-channel mean and (population) standard deviation of
// the split's pixels in [0, 1] units. A (nearly) constant channel, std below
// 1e-3, gets Std 1: it is only centred, so the result is always a valid Norm.
func (s *Split) Stats() (Norm, error) {
	if err := s.check(); err != nil {
		return Norm{}, err
	}
	if s.Len() == 0 {
		return Norm{}, fmt.Errorf("normalisation statistics of an empty split")
	}
	// Exact histogram per channel; float64 sums of 256 bins avoid rounding drift.
	c := s.Channels
	hist := make([]int64, c*256)
	px := s.Pixels
	if c == 1 {
		for _, v := range px {
			hist[v]++
		}
	} else {
		for i := 0; i+2 < len(px); i += 3 {
			hist[px[i]]++
			hist[256+int(px[i+1])]++
			hist[512+int(px[i+2])]++
		}
	}
	norm := Norm{Mean: make([]float32, c), Std: make([]float32, c)}
	for ch := 0; ch < c; ch++ {
		var n, sum, sq float64
		for v, cnt := range hist[ch*256 : (ch+1)*256] {
			x := float64(v) / 255
			f := float64(cnt)
			n += f
			sum += f * x
			sq += f * x * x
		}
		mean := sum / n
		std := math.Sqrt(math.Max(0, sq/n-mean*mean))
		if std < minStd {
			std = 1
		}
		norm.Mean[ch], norm.Std[ch] = float32(mean), float32(std)
	}
	return norm, nil
}

// validate checks the normalisation fits images with c channels.
func (n Norm) validate(c int) error {
	if len(n.Mean) != c || len(n.Std) != c {
		return fmt.Errorf("normalisation has %d means and %d stds for %d-channel images (use Split.Stats)", len(n.Mean), len(n.Std), c)
	}
	for i := range n.Std {
		if !(n.Std[i] > 0) || math.IsInf(float64(n.Std[i]), 0) || math.IsNaN(float64(n.Mean[i])) || math.IsInf(float64(n.Mean[i]), 0) {
			return fmt.Errorf("normalisation of channel %d is invalid (mean %g, std %g)", i, n.Mean[i], n.Std[i])
		}
	}
	return nil
}

// lut returns the table value = lut[c*256+v] of the normalised pixel v of channel c.
func (n Norm) lut() []float32 {
	c := len(n.Mean)
	t := make([]float32, c*256)
	for ch := 0; ch < c; ch++ {
		for v := 0; v < 256; v++ {
			t[ch*256+v] = float32((float64(v)/255 - float64(n.Mean[ch])) / float64(n.Std[ch]))
		}
	}
	return t
}
