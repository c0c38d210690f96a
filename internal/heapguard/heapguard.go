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
// Reserve grows the heap's mapped memory once, in 64 MiB pieces that end
// exactly at the mapped end, and frees them. Go never unmaps heap memory, and
// it allocates from the lowest free address that fits, so the memory next to
// the mapped end is handed out only once the heap has used about the whole
// reserve. (Pieces that left a gap below the mapped end let a span allocated
// while they were live end at the boundary: one run in about 300 of the
// package's test faulted.) The pieces come from fresh memory, which the
// runtime does not zero, so the reserve costs address space, not RAM (plus the
// runtime's page table for it: about 1 MiB per GiB).
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
	"unsafe"
)

const (
	// piece is the size of one allocation of the reserve: one heap arena.
	piece = 64 << 20
	// chunk is the unit in which the runtime maps heap memory
	// (pallocChunkBytes): the mapped end is a multiple of it.
	chunk = 4 << 20
	// fillSize is the space the last piece leaves below a chunk boundary, for
	// an object that fills it: above 32 KiB, so that it is a large object,
	// which the runtime places by address (the lowest free run that fits).
	fillSize = 1 << 20
	// fillTries bounds the allocations that land below the reserve's end
	// (in free runs of the heap as it was) before one lands on it.
	fillTries = 64
)

var (
	once     sync.Once
	reserved int64
	skipped  error
)

// Reserve maps size bytes of Go heap (rounded up to 64 MiB) the first time it is
// called in a process and returns what was reserved; later calls return the first
// call's result. It reserves nothing, and says why, where mapping that much
// address space could itself fail: strict overcommit (vm.overcommit_memory=2)
// or an address-space limit (ulimit -v) too small for it; and it says when the
// reserve could not be made to end at the mapped end (it is then made, with a
// gap that allocations during the reserve may have used).
func Reserve(size int64) (int64, error) {
	once.Do(func() { reserved, skipped = reserve(size) })
	return reserved, skipped
}

// pieces returns how many pieces make a reserve of size bytes.
func pieces(size int64) int64 {
	if size <= 0 {
		return 0
	}
	return (size + piece - 1) / piece
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
	n := pieces(size)
	// No collection while the pieces are live: each would only find them all
	// reachable.
	old := debug.SetGCPercent(-1)
	live := make([][]byte, 0, n+fillTries+1)
	var top uintptr
	total := int64(0)
	alloc := func(sz int) uintptr {
		b := make([]byte, sz)
		live = append(live, b)
		total += int64(sz)
		p := uintptr(unsafe.Pointer(&b[0]))
		top = max(top, p+uintptr(sz))
		return p
	}
	for range n {
		alloc(piece)
	}
	// One more piece, ending fillSize below a chunk boundary (the heap maps
	// whole chunks, so it maps up to that boundary), and right away (before
	// anything else can take that space) an object that fills the rest: while
	// the pieces are live no free memory touches the mapped end, so nothing
	// allocated meanwhile can end there.
	last := piece - int((top%chunk+fillSize)%chunk)
	end := alloc(last) + uintptr(last)
	mapped := (end + chunk - 1) &^ (chunk - 1)
	err := fillTo(end, int(mapped-end), func(b []byte) { live = append(live, b) })
	live = nil
	debug.SetGCPercent(old)
	runtime.GC()
	if err != nil {
		return total, fmt.Errorf("heap reserve of %d bytes made, but %w", total, err)
	}
	return total, nil
}

// fillTo allocates an object of gap bytes at address end and hands it to
// keep, as it does the objects that land lower (in free runs of the heap as
// it was) before one lands at end.
func fillTo(end uintptr, gap int, keep func([]byte)) error {
	var first uintptr
	for range fillTries {
		b := make([]byte, gap)
		keep(b)
		p := uintptr(unsafe.Pointer(&b[0]))
		if p == end {
			return nil
		}
		if first == 0 {
			first = p
		}
	}
	return fmt.Errorf("no object of %d bytes landed at %#x, the reserve's end, in %d tries (the first at %#x)", gap, end, fillTries, first)
}
