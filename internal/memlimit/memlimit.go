// Package memlimit checks an estimate of the memory a step needs before the
// step allocates it. A huge --batch, a network of enormous widths, a file
// that announces gigabytes, or an image that declares 10⁵×10⁵ pixels would
// otherwise make the process allocate until the Go runtime dies with "out of
// memory" (or the kernel kills it): an error naming the estimate is better.
//
// The limit is, in order: SetLimit (the CLI's --memory-limit), the
// MULTIHW_MEMORY_LIMIT environment variable ("12GiB", "500MB", bytes), or
// 90% of the machine's memory (the smaller of /proc/meminfo's MemTotal and
// the cgroup's memory.max), 16 GiB when neither can be read. Estimates are
// deliberately rough (within a small factor of the real peak): they catch
// sizes that cannot work, not tight budgets.
package memlimit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/multihw/multihw/internal/atomicfile"
)

// Env is the environment variable that sets the limit.
const Env = "MULTIHW_MEMORY_LIMIT"

var (
	explicit     atomic.Int64 // set by SetLimit; 0: not set
	defaultOnce  sync.Once
	defaultLimit int64
	defaultWhy   string
)

// SetLimit sets the limit in bytes (0 restores the default).
func SetLimit(bytes int64) { explicit.Store(max(bytes, 0)) }

// Limit returns the limit in bytes and where it comes from. A malformed
// MULTIHW_MEMORY_LIMIT (CheckEnv's error) leaves the machine's limit, and
// the "where" says so.
func Limit() (int64, string) {
	if n := explicit.Load(); n > 0 {
		return n, "--memory-limit"
	}
	bad := ""
	if s := os.Getenv(Env); s != "" {
		if n, err := ParseSize(s); err == nil && n > 0 {
			return n, Env
		}
		bad = fmt.Sprintf("; %s=%q is not a size and was ignored", Env, s)
	}
	defaultOnce.Do(func() { defaultLimit, defaultWhy = machineLimit() })
	return defaultLimit, defaultWhy + bad
}

// CheckEnv returns an error if MULTIHW_MEMORY_LIMIT is set to something
// ParseSize rejects (commands refuse to start with it rather than use
// another limit than the one asked for).
func CheckEnv() error {
	if s := os.Getenv(Env); s != "" {
		if _, err := ParseSize(s); err != nil {
			return fmt.Errorf("$%s: %w", Env, err)
		}
	}
	return nil
}

// machineLimit is 90% of the machine's (or the cgroup's) memory.
func machineLimit() (int64, string) {
	total := int64(0)
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				if err == nil && kb > 0 {
					total = kb << 10
				}
			}
		}
		_ = f.Close()
	}
	if raw, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			total = n
		}
	}
	if total == 0 {
		return 16 << 30, "default (machine memory unknown)"
	}
	return total / 10 * 9, "90% of the machine's memory"
}

// ParseSize parses a byte size: an integer with an optional unit B, KB, MB,
// GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), case-insensitive.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') && t[i-1] != '.' {
		i--
	}
	num, unit := strings.TrimSpace(t[:i]), strings.ToLower(strings.TrimSpace(t[i:]))
	mult := map[string]float64{"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[unit]
	v, err := strconv.ParseFloat(num, 64)
	if mult == 0 || err != nil || !(v > 0) || v*mult >= math.MaxInt64 {
		return 0, fmt.Errorf("bad memory size %q (want e.g. 12GiB, 500MB or a number of bytes)", s)
	}
	return int64(v * mult), nil
}

// Format prints a byte count with a binary unit.
func Format(n int64) string {
	switch {
	case n == math.MaxInt64:
		return "more than 8 EiB"
	case n >= 1<<40:
		return fmt.Sprintf("%.1f TiB", float64(n)/(1<<40))
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// TooLargeError reports an estimate above the limit.
type TooLargeError struct {
	What            string
	Estimate, Limit int64
	Source          string // where the limit comes from
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s needs an estimated %s of memory, above the limit of %s (%s; set %s or --memory-limit to change it)",
		e.What, Format(e.Estimate), Format(e.Limit), e.Source, Env)
}

// Check returns a *TooLargeError when estimate (bytes; math.MaxInt64 for
// "overflowed") exceeds the limit. what says what would be allocated.
func Check(what string, estimate int64) error {
	limit, src := Limit()
	if estimate > limit || estimate < 0 {
		if estimate < 0 {
			estimate = math.MaxInt64
		}
		return &TooLargeError{What: what, Estimate: estimate, Limit: limit, Source: src}
	}
	return nil
}

// ReadFile reads a whole regular file of at most max bytes (and within the
// limit) after checking its size: a device, a FIFO or a directory is an
// error, and so is a size above max (what names the kind of file in errors).
func ReadFile(path, what string, max int64) ([]byte, error) {
	f, size, err := OpenRegular(path)
	if err != nil {
		if errors.Is(err, errNotRegular) {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		return nil, err
	}
	defer f.Close()
	if size > max {
		return nil, fmt.Errorf("%s: %s has %s, more than the %s such a file can have", what, path, Format(size), Format(max))
	}
	if err := Check(fmt.Sprintf("reading %s %s", what, path), size); err != nil {
		return nil, err
	}
	// The file may grow while it is read: read at most max+1 bytes.
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: %s grew past %s while being read", what, path, Format(max))
	}
	return data, nil
}

var errNotRegular = errors.New("is not a regular file")

// OpenRegular opens path for reading and returns it with its size, if it is
// a regular file: a device (/dev/zero), a FIFO or a directory given where a
// file is read would be read forever or fail obscurely. Errors other than
// the open's own name path.
func OpenRegular(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s %w (it is %s)", path, errNotRegular, atomicfile.FileKind(st.Mode()))
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}
