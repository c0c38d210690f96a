package memlimit

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"123": 123, "1KiB": 1024, "1.5 GiB": 3 << 29, "2gb": 2e9, "500MB": 5e8, "8g": 8 << 30} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "-1GiB", "0", "NaN", "Inf", "1e30 TiB", "12 parsecs"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}

func TestCheckAndLimit(t *testing.T) {
	t.Setenv(Env, "1MiB")
	if n, src := Limit(); n != 1<<20 || src != Env {
		t.Fatalf("limit %d from %s", n, src)
	}
	if err := Check("a small thing", 1000); err != nil {
		t.Error(err)
	}
	err := Check("a batch of 1000000 images", 3<<30)
	var tl *TooLargeError
	if !errors.As(err, &tl) || !strings.Contains(err.Error(), "a batch of 1000000 images needs an estimated 3.0 GiB") ||
		!strings.Contains(err.Error(), "limit of 1.0 MiB") {
		t.Errorf("got %v", err)
	}
	if err := Check("an overflowed estimate", math.MaxInt64); err == nil || !strings.Contains(err.Error(), "more than 8 EiB") {
		t.Errorf("got %v", err)
	}
	SetLimit(4 << 30)
	defer SetLimit(0)
	if err := Check("3 GiB", 3<<30); err != nil {
		t.Errorf("explicit limit not used: %v", err)
	}
	SetLimit(0)
	t.Setenv(Env, "")
	if n, _ := Limit(); n < 64<<20 {
		t.Errorf("machine default %d is implausibly small", n)
	}
	if err := CheckEnv(); err != nil {
		t.Errorf("unset: %v", err)
	}
	// A malformed value: CheckEnv refuses it; Limit keeps the machine's and
	// says the value was ignored.
	t.Setenv(Env, "lots")
	if err := CheckEnv(); err == nil || !strings.Contains(err.Error(), `$MULTIHW_MEMORY_LIMIT: bad memory size "lots"`) {
		t.Errorf("CheckEnv: %v", err)
	}
	if n, src := Limit(); n < 64<<20 || !strings.Contains(src, `MULTIHW_MEMORY_LIMIT="lots" is not a size and was ignored`) {
		t.Errorf("Limit: %d from %q", n, src)
	}
}

// TestReadFile: a device, a directory and a file above the size bound are
// refused before anything is read (reading /dev/zero would never end).
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(p, "spec", 5); err != nil || string(b) != "hello" {
		t.Errorf("ReadFile = %q, %v", b, err)
	}
	if _, err := ReadFile(p, "spec", 4); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("oversized file: %v", err)
	}
	for _, bad := range []string{"/dev/zero", dir} {
		if _, err := ReadFile(bad, "spec", 1<<20); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("%s: %v", bad, err)
		}
		if f, _, err := OpenRegular(bad); err == nil || !strings.Contains(err.Error(), bad+" is not a regular file") {
			t.Errorf("OpenRegular(%s): %v", bad, err)
			if f != nil {
				f.Close()
			}
		}
	}
}
