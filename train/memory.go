package train

import (
	"fmt"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/blocks/convnet"
	"github.com/multihw/multihw/internal/memlimit"
)

// CheckMemory returns an error naming the estimate when running arch on
// batches of batch images (training or inference) would exceed the memory
// limit (internal/memlimit: --memory-limit, MULTIHW_MEMORY_LIMIT or 90% of
// the machine's memory).
func CheckMemory(what string, arch *blocks.Arch, batch int, training bool) error {
	if batch <= 0 {
		return fmt.Errorf("%s: batch size must be positive, got %d", what, batch)
	}
	est, err := convnet.MemoryEstimate(arch, batch, training)
	if err != nil {
		return err
	}
	return memlimit.Check(fmt.Sprintf("%s with batches of %d", what, batch), est)
}
