//go:build goexperiment.simd && amd64

package heapguard

import (
	"os"
	"os/exec"
	"simd/archsimd"
	"strings"
	"testing"
)

// childEnv makes the test binary run overRead instead of the tests.
const childEnv = "HEAPGUARD_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "guarded":
		if _, err := Reserve(1 << 30); err != nil {
			os.Stderr.WriteString("reserve: " + err.Error() + "\n")
			os.Exit(3)
		}
		overRead()
		os.Exit(0)
	case "unguarded":
		overRead()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// keep holds every slice, so the heap only grows.
var keep [][]float32

// overRead does what gomlx's Go backend does on the tail of a [256, 24]
// tensor: a part-load of the last 8 floats of a 24 KiB buffer (a size class
// with one object per span), 20,000 times (480 MiB of heap). Spans end on a 4
// MiB chunk boundary every 512 allocations or so; without the reserve the heap's
// mapped end is such a boundary whenever the heap has just grown.
func overRead() {
	var sum float32
	for range 20000 {
		s := make([]float32, 6144)
		keep = append(keep, s)
		sum += partLoad(s[len(s)-8:])
	}
	if sum != 0 {
		os.Exit(4)
	}
}

// partLoad is the part-load gomlx's backend uses on this CPU (16 floats with
// AVX-512, else 8 with AVX2) of a tail of 8 floats, summed.
func partLoad(tail []float32) float32 {
	var out [16]float32
	if archsimd.X86.AVX512() {
		v, _ := archsimd.LoadFloat32x16Part(tail)
		v.Store(out[:])
	} else {
		// With 8 floats of a tail of 8 the AVX2 load is a whole load:
		// take 7 so that it is a part-load too.
		v, _ := archsimd.LoadFloat32x8Part(tail[1:])
		v.Store(out[:8])
	}
	var s float32
	for _, x := range out {
		s += x
	}
	return s
}

func runChild(t *testing.T, mode string) (string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestReserveStopsOverReadFault: the same allocations and part-loads die with
// SIGSEGV without the reserve and run through with it. If the unguarded run
// stops faulting, archsimd's part-loads no longer over-read (a newer Go): then
// this package can go.
func TestReserveStopsOverReadFault(t *testing.T) {
	if !archsimd.X86.AVX512() && !archsimd.X86.AVX2() {
		t.Fatal("this CPU has neither AVX-512 nor AVX2: gomlx's Go backend has no vector part-loads here; the test's over-read cannot run")
	}
	out, err := runChild(t, "guarded")
	if err != nil {
		t.Fatalf("with the reserve the over-reads still failed (%v):\n%s", err, firstLines(out, 5))
	}
	out, err = runChild(t, "unguarded")
	if err == nil {
		t.Fatalf("without the reserve 20,000 part-loads at heap-chunk ends did not fault: archsimd's Load*Part no longer reads past the slice; remove internal/heapguard")
	}
	if !strings.Contains(out, "SIGSEGV") || !strings.Contains(out, "Part(") {
		t.Fatalf("the unguarded run failed, but not with the over-read fault (%v):\n%s", err, firstLines(out, 12))
	}
}

func TestReserveSizes(t *testing.T) {
	for _, c := range []struct{ size, want int64 }{{0, 0}, {-5, 0}, {1, 1}, {piece, 1}, {piece + 1, 2}} {
		if got := pieces(c.size); got != c.want {
			t.Errorf("pieces(%d) = %d, want %d", c.size, got, c.want)
		}
	}
	if n, err := reserve(0); n != 0 || err != nil {
		t.Errorf("reserve(0) = %d, %v; want 0, nil", n, err)
	}
	// 3 pieces and the last one, which with the object after it ends at a
	// chunk boundary: the heap's mapped end.
	n1, err1 := Reserve(3 * piece)
	n2, err2 := Reserve(10 * piece)
	if err1 != nil || n1 <= 3*piece || n1 > 4*piece || n2 != n1 || err2 != nil {
		t.Errorf("Reserve twice = (%d, %v), (%d, %v); want the first call's (3, 4] pieces both times", n1, err1, n2, err2)
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
