package blocks

import "fmt"

// Adapt names how an ImageNet-shaped architecture (224 px, downsampling 32×)
// is turned into the proxy trained on small images (28-32 px). The
// architecture being searched and costed stays the given one: its deployment
// cost is always computed at its own resolution (224 px); only the strides
// listed below change for training, so every block, kernel, expansion and
// width is trained as published.
type Adapt string

// Adaptations, from the cheapest proxy to the costliest (each keeps more
// resolution than the one before: TestProxyArch checks the order of their
// MACs). ProxyArch implements them, in one place.
const (
	// AdaptNone keeps every stride: a 28 px input ends on a 1×1 map after
	// the stem and the first stride-2 block have already reduced it to 7×7.
	// Cheapest, least accurate.
	AdaptNone Adapt = "none"
	// AdaptLast keeps the stem's and the early blocks' strides but gives the
	// last stride-2 block stride 1, so the last stage runs on 2×2 instead of
	// 1×1 (28 px: 14, 7, 4, 2).
	AdaptLast Adapt = "last"
	// AdaptStem gives the stem stride 1 (28 px: 28, 14, 7, 4, 2).
	AdaptStem Adapt = "stem"
	// AdaptSmallInput is Arch.ForSmallInput: the stem and the first
	// stride-2 block keep stride 1, so the network downsamples 8× (28 px:
	// 28, 14, 7, 4), the classic CIFAR adaptation.
	AdaptSmallInput Adapt = "small-input"
)

// DefaultAdapt is the adaptation used unless configured otherwise.
const DefaultAdapt = AdaptLast

// Adapts lists the adaptations.
var Adapts = []Adapt{AdaptNone, AdaptLast, AdaptStem, AdaptSmallInput}

// ProxyArch returns the architecture trained on images of height×width×
// channels with the given number of classes: a copy of a with that input and
// classifier, and the strides changed as mode says (see Adapt). The input is
// square in the description (Resolution = height); the graph accepts any
// width.
func ProxyArch(a *Arch, mode Adapt, height, width, channels, classes int) (*Arch, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if height <= 0 || width <= 0 || channels <= 0 || classes <= 0 {
		return nil, fmt.Errorf("proxy architecture: invalid input %dx%dx%d or %d classes", height, width, channels, classes)
	}
	var p *Arch
	switch mode {
	case AdaptSmallInput:
		p = a.ForSmallInput(height, channels, classes)
	case AdaptNone, AdaptLast, AdaptStem:
		p = a.Clone()
		p.Resolution, p.Channels, p.Classes = height, channels, classes
		switch mode {
		case AdaptStem:
			p.Stem.Stride = 1
		case AdaptLast:
			for i := len(p.Blocks) - 1; i >= 0; i-- {
				if p.Blocks[i].Stride == 2 {
					p.Blocks[i].Stride = 1
					break
				}
			}
		}
	default:
		return nil, fmt.Errorf("unknown adaptation %q (valid: %v)", mode, Adapts)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("proxy architecture: %w", err)
	}
	return p, nil
}
