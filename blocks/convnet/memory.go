package convnet

import (
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/checked"
)

// MemoryEstimate returns a rough estimate, in bytes, of the memory needed to
// run arch (at its resolution) on batches of batch images: the variables (for
// training with their gradients and two optimizer slots, besides a working
// copy) and, per image, every layer's input and output activations (kept for
// the backward pass and doubled by its gradients when training, plus the
// lowering's im2col and window buffers). It is meant to
// be within a small factor of the peak (it errs high), so that a size that
// cannot work is refused before anything is allocated. Sizes that overflow
// give math.MaxInt64.
func MemoryEstimate(arch *blocks.Arch, batch int, training bool) (int64, error) {
	an, err := blocks.Analyze(arch, 0)
	if err != nil {
		return 0, err
	}
	var act int64
	for _, l := range an.Layers {
		act = checked.SatAdd(act, l.InElems, l.OutElems)
	}
	paramCopies, actCopies := int64(2), int64(2)
	if training {
		paramCopies, actCopies = 5, 4
	}
	input := checked.SatMul(int64(batch), int64(arch.Resolution), int64(arch.Resolution), int64(arch.Channels))
	return checked.SatMul(4, checked.SatAdd(
		checked.SatMul(an.Params, paramCopies),
		checked.SatMul(int64(batch), act, actCopies),
		checked.SatMul(input, 2))), nil
}
