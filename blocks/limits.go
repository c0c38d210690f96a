package blocks

import (
	"fmt"

	"github.com/multihw/multihw/internal/checked"
)

// Size bounds of an architecture, enforced by Arch.Validate. They are far
// above any mobile network (MobileNetV2 at 224 px: widths ≤ 1280, kernels ≤
// 3, 17 blocks, 0.3 G MACs; EfficientNet-B7 at 600 px: widths ≤ 3840,
// kernels ≤ 5, 37 G MACs), and they keep every figure the analysis derives
// (MACs, parameters, activation elements, and the bytes and latencies the
// cost models compute from them) finite, non-negative and exact in an int64:
// a size that overflowed would come out negative, and a search would rank
// such a network the cheapest.
const (
	// MaxResolution is the largest input resolution (pixels per side).
	MaxResolution = 8192
	// MaxWidth is the largest channel count anywhere: input channels, stem,
	// block outputs, expanded widths, head conv and hidden layer.
	MaxWidth = 1 << 16
	// MaxClasses is the largest classifier width.
	MaxClasses = 1 << 20
	// MaxKernel is the largest kernel side.
	MaxKernel = 31
	// MaxExpand is the largest expansion ratio.
	MaxExpand = 64.0
	// MaxBlocks is the largest number of blocks (after repeats).
	MaxBlocks = 1024
	// MaxMACs, MaxParams and MaxElems bound what an architecture may cost
	// at its resolution: MACs, parameters, and activation elements read and
	// written per image. Validate computes them from the op plan with
	// overflow-checked arithmetic; with them every total fits an int64 with
	// a margin of 900× and every float64 derived from them is finite.
	MaxMACs   = 1e16
	MaxParams = 1e12
	MaxElems  = 1e14
)

// checkSize reports an architecture (whose fields are valid) that overflows
// or exceeds MaxMACs, MaxParams or MaxElems at the given resolution: its
// analysis, with checked arithmetic, from its op plan (the one description of
// its structure, so new block kinds are covered as they are planned).
func (a *Arch) checkSize(resolution int) error {
	if resolution > MaxResolution {
		return fmt.Errorf("architecture %q: resolution %d is above the maximum %d", a.Name, resolution, MaxResolution)
	}
	an := a.analyze(a.plan(), resolution)
	var elems int64
	for _, l := range an.Layers {
		elems = an.ck.add(elems, l.InElems, l.OutElems)
	}
	for _, c := range []struct {
		what  string
		got   int64
		limit float64
	}{{"MACs", an.MACs, MaxMACs}, {"parameters", an.Params, MaxParams}, {"activation elements", elems, MaxElems}} {
		if an.ck.overflow || float64(c.got) > c.limit {
			got := fmt.Sprintf("%.3g", float64(c.got))
			if an.ck.overflow {
				got = "more than an int64 holds"
			}
			return fmt.Errorf("architecture %q is too large at %d px: its %s are %s, above the supported %.0e",
				a.Name, resolution, c.what, got, c.limit)
		}
	}
	return nil
}

// checkBound reports a field above its bound.
func checkBound(field string, v, limit int) error {
	if v > limit {
		return fmt.Errorf("field %s: %d is above the maximum %d", field, v, limit)
	}
	return nil
}

// sizeCheck computes products and sums of sizes with internal/checked and
// remembers whether any overflowed (the analysis then fails).
type sizeCheck struct{ overflow bool }

func (c *sizeCheck) mul(vals ...int) int64 {
	v := make([]int64, len(vals))
	for i, x := range vals {
		v[i] = int64(x)
	}
	p, ok := checked.Mul(v...)
	c.overflow = c.overflow || !ok
	return p
}

func (c *sizeCheck) add(vals ...int64) int64 {
	s, ok := checked.Add(vals...)
	c.overflow = c.overflow || !ok
	return s
}
