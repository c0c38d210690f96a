// Package backend chooses the gomlx compute backend, in one place, and answers
// the capability questions the rest of the project asks of a backend (which
// convolution ops to build, whether execution is asynchronous).
//
// The choice honours GOMLX_BACKEND and otherwise uses gomlx's pure-Go backend
// ("go"), which is embedded and needs nothing installed. XLA ("xla:cpu",
// "xla:cuda") needs a PJRT plugin that gomlx downloads from the internet; when it
// is asked for but cannot be installed, New prints one line saying so and falls
// back to "go" instead of dying. ONNX Runtime ("onnx") needs the build tag onnx
// (the Makefile always sets it) and libonnxruntime.so.1 (`make setup` unpacks it
// into .deps/onnxruntime; ONNXRUNTIME_SHARED_LIBRARY_PATH overrides).
package backend

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/go-xla/compute/xla"
	"github.com/gomlx/go-xla/pjrt"
	_ "github.com/gomlx/gomlx/backends/default"
	"github.com/multihw/multihw/internal/heapguard"
	"github.com/multihw/multihw/internal/memlimit"
)

// EnvVar is the environment variable that selects the backend.
const EnvVar = compute.ConfigEnvVar

// DefaultConfig is the backend used when EnvVar is not set.
const DefaultConfig = "go"

// Notices receives the one-line fallback notices. Tests may redirect it.
var Notices io.Writer = os.Stderr

// Config returns the requested backend configuration: $GOMLX_BACKEND or "go".
func Config() string {
	if c := strings.TrimSpace(os.Getenv(EnvVar)); c != "" {
		return c
	}
	return DefaultConfig
}

var (
	defaultOnce    sync.Once
	defaultBackend compute.Backend
	defaultErr     error
)

// Default returns the process-wide backend for Config(), created once.
func Default() (compute.Backend, error) {
	defaultOnce.Do(func() { defaultBackend, defaultErr = New(Config()) })
	return defaultBackend, defaultErr
}

// New creates the backend for config ("go", "go:parallelism=2", "xla:cpu",
// "onnx", ...). When XLA or ONNX Runtime is unavailable it falls back to "go"
// with a one-line notice on Notices. It never panics.
func New(config string) (b compute.Backend, err error) {
	name, opts, _ := strings.Cut(config, ":")
	switch name {
	case "xla", "stablehlo":
		if reason := xlaUnavailable(opts); reason != "" {
			fmt.Fprintf(Notices, "multihw: XLA backend %q unavailable (%s); install a PJRT plugin (with internet access GOMLX_BACKEND=xla:cpu installs it automatically, see github.com/gomlx/go-xla) -- falling back to the pure-Go backend\n", config, reason)
			return newGo("")
		}
	case "onnx", "onnxruntime":
		if !slices.Contains(compute.List(), "onnx") {
			fmt.Fprintf(Notices, "multihw: ONNX Runtime backend not compiled in (build with -tags onnx, as the Makefile does) -- falling back to the pure-Go backend\n")
			return newGo("")
		}
		if opts == "" || opts == "cpu" {
			lib, lerr := ONNXRuntimeLibrary()
			if lerr != nil {
				fmt.Fprintf(Notices, "multihw: ONNX Runtime backend unavailable (%v) -- falling back to the pure-Go backend\n", lerr)
				return newGo("")
			}
			opts = lib
		}
		config = "onnx:" + opts
	case "go":
		return newGo(opts)
	default:
		return nil, fmt.Errorf("unknown backend %q in %s (valid: go, xla:cpu, xla:cuda, onnx)", config, EnvVar)
	}
	b, err = safeNew(config)
	if err != nil {
		fmt.Fprintf(Notices, "multihw: backend %q failed to start (%v) -- falling back to the pure-Go backend\n", config, firstLine(err))
		return newGo("")
	}
	return b, nil
}

func newGo(opts string) (compute.Backend, error) {
	guardHeap()
	config := "go"
	if opts != "" {
		config += ":" + opts
	}
	return safeNew(config)
}

// guardHeap maps as much Go heap as the project lets a process use (the memlimit
// limit) before the Go backend runs, so that the backend's vector over-reads
// cannot fault at the heap's end (see internal/heapguard). When the reserve is
// not possible it says so once: the backend may then die with SIGSEGV.
func guardHeap() {
	limit, _ := memlimit.Limit()
	if _, err := heapguard.Reserve(limit); err != nil {
		heapNotice.Do(func() {
			fmt.Fprintf(Notices, "multihw: no heap reserve for the Go backend (%v): it may die with SIGSEGV where a tensor ends at the heap's end (internal/heapguard)\n", err)
		})
	}
}

var heapNotice sync.Once

// safeNew calls compute.NewWithConfig, turning its panics into errors.
func safeNew(config string) (b compute.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("creating backend %q: %v", config, r)
		}
	}()
	b, err = compute.NewWithConfig(config)
	if err != nil {
		return nil, fmt.Errorf("creating backend %q: %w", config, err)
	}
	return b, nil
}

// xlaUnavailable returns why the XLA plugin named in opts cannot be used, or ""
// when it is installed (or could be installed now).
func xlaUnavailable(opts string) (reason string) {
	plugin, _, _ := strings.Cut(opts, ",")
	if plugin == "" {
		plugin = "cpu"
	}
	if _, ok := pjrt.AvailablePlugins()[plugin]; ok {
		return ""
	}
	defer func() {
		if r := recover(); r != nil {
			reason = fmt.Sprintf("plugin %q not installed and auto-install failed: %v", plugin, firstLine(fmt.Errorf("%v", r)))
		}
	}()
	if err := xla.AutoInstallPlugin(plugin); err != nil {
		return fmt.Sprintf("plugin %q not installed and auto-install failed: %v", plugin, firstLine(err))
	}
	if _, ok := pjrt.AvailablePlugins()[plugin]; !ok {
		return fmt.Sprintf("plugin %q not installed", plugin)
	}
	return ""
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// ONNXRuntimeLibrary locates libonnxruntime.so.1: $ONNXRUNTIME_SHARED_LIBRARY_PATH,
// else .deps/onnxruntime/libonnxruntime.so.1 in this repository (searched
// upwards from the working directory and from the executable), as `make setup`
// installs it.
func ONNXRuntimeLibrary() (string, error) {
	if p := os.Getenv("ONNXRUNTIME_SHARED_LIBRARY_PATH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("ONNXRUNTIME_SHARED_LIBRARY_PATH: %w", err)
		}
		return p, nil
	}
	rel := filepath.Join(".deps", "onnxruntime", "libonnxruntime.so.1")
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, dir := range starts {
		for {
			p := filepath.Join(dir, rel)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", fmt.Errorf("libonnxruntime.so.1 not found (run `make setup`, or set ONNXRUNTIME_SHARED_LIBRARY_PATH)")
}
