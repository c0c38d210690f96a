// Package heapguard works around an over-read in Go 1.27's simd/archsimd that
// kills processes running gomlx's pure-Go backend.
//
// archsimd's Load*Part functions (LoadFloat32x16Part, ...) load a whole vector
// and mask it afterwards, so they read up to 63 bytes past the end of the slice.
// gomlx's Go backend (github.com/gomlx/compute) calls them for the tail of every
// row whose length is not a multiple of the vector width: a BatchNorm scale over
// 24 channels reads 8 floats past its buffer. The read is harmless unless the
// buffer ends exactly where the Go heap's mapped memory ends: the heap grows in
// 4 MiB chunks and the address space after the last one is reserved PROT_NONE,
// so the process dies with SIGSEGV (seen in CI: `hwcost/measure`, in
// simdV2V1MulFloat32 on a [256, 24] tensor; about one run in twenty locally).
//
// Reserve grows the heap's mapped memory once, in 64 MiB pieces, and frees it
// again. Go never unmaps heap memory, so until the heap grows past the reserve
// no object ends at a PROT_NONE boundary. The pieces come from fresh memory,
// which the runtime does not zero, so the reserve costs address space, not RAM
// (plus the runtime's page table for it: about 1 MiB per GiB).
package heapguard

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
)

// piece is the size of one allocation of the reserve: one heap arena.
const piece = 64 << 20

var (
	once     sync.Once
	reserved int64
	skipped  error
)

// Reserve maps size bytes of Go heap (rounded up to 64 MiB) the first time it is
// called in a process and returns what was reserved; later calls return the first
// call's result. It reserves nothing, and says why, where mapping that much
// address space could itself fail: strict overcommit (vm.overcommit_memory=2)
// or an address-space limit (ulimit -v) too small for it.
func Reserve(size int64) (int64, error) {
	once.Do(func() { reserved, skipped = reserve(size) })
	return reserved, skipped
}

func reserve(size int64) (int64, error) {
	if size <= 0 {
		return 0, nil
	}
	if b, err := os.ReadFile("/proc/sys/vm/overcommit_memory"); err == nil && strings.TrimSpace(string(b)) == "2" {
		return 0, errors.New("vm.overcommit_memory=2 (strict): the reserve would count against the commit limit")
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &lim); err == nil && lim.Cur != ^uint64(0) {
		if uint64(size) > lim.Cur/4 {
			size = int64(lim.Cur / 4)
		}
		if size < piece {
			return 0, fmt.Errorf("address-space limit (ulimit -v) of %d bytes leaves no room for the reserve", lim.Cur)
		}
	}
	n := (size + piece - 1) / piece
	// No collection while the pieces are live: each would only find them all
	// reachable.
	old := debug.SetGCPercent(-1)
	pieces := make([][]byte, n)
	for i := range pieces {
		pieces[i] = make([]byte, piece)
	}
	pieces = nil
	debug.SetGCPercent(old)
	runtime.GC()
	return n * piece, nil
}
