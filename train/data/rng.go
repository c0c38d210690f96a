package data

import "math/bits"

// Our own generator (SplitMix64, Steele et al. 2014) so that shuffles and
// augmentation are fixed by this file alone, whatever the Go version.

// mix64 is SplitMix64's finaliser: a bijective 64-bit hash.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Domain tags keep the streams drawn from one user seed independent.
const (
	tagEpochOrder uint64 = 0x6f72646572 // "order"
	tagAugment    uint64 = 0x6175676d   // "augm"
	tagHoldout    uint64 = 0x686f6c64   // "hold"
	tagTestSplit  uint64 = 0x74657374   // "test"
)

// key derives a 64-bit key from a seed, a domain tag and further values.
func key(seed, tag uint64, vals ...uint64) uint64 {
	h := mix64(seed ^ 0x9e3779b97f4a7c15)
	h = mix64(h ^ tag)
	for _, v := range vals {
		h = mix64(h ^ v)
	}
	return h
}

// rng is SplitMix64: a counter-based sequential generator.
type rng struct{ state uint64 }

func newRNG(k uint64) *rng { return &rng{state: k} }

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	return mix64(r.state)
}

// intn returns a uniform integer in [0, n), n > 0, by Lemire's multiply-shift
// with rejection (no modulo bias).
func (r *rng) intn(n uint64) uint64 {
	hi, lo := bits.Mul64(r.next(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(r.next(), n)
		}
	}
	return hi
}

// permutation returns a uniformly shuffled 0..n-1 (Fisher-Yates) keyed by k.
func permutation(n int, k uint64) []int32 {
	p := make([]int32, n)
	for i := range p {
		p[i] = int32(i)
	}
	r := newRNG(k)
	for i := n - 1; i > 0; i-- {
		j := r.intn(uint64(i + 1))
		p[i], p[j] = p[j], p[i]
	}
	return p
}
