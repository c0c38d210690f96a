package measure

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomlx/compute"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/hwcost"
)

// TargetName is the name of the measured target of this machine, usable as
// `multihw cost --hardware local` and hwcost.NewMetric().Targets("local") in
// any program that imports this package.
const TargetName = "local"

// EnvTable names the environment variable that overrides the table file of
// the "local" target (default: DefaultPath for the current backend).
const EnvTable = "MULTIHW_LOCAL_TABLE"

func init() {
	if err := hwcost.RegisterTarget(TargetName, "per-segment latency table measured on this machine (multihw cost measure)", OpenLocal); err != nil {
		panic(err)
	}
}

// BackendKey returns the name tables of a backend configuration are filed
// under: "go" (with its options, which change timings, e.g.
// "go_parallelism=1"), "onnx" (the library path left out), "xla-cpu",
// "xla-cuda".
func BackendKey(config string) string {
	name, opts, _ := strings.Cut(strings.TrimSpace(config), ":")
	switch name {
	case "", "go":
		if opts == "" {
			return "go"
		}
		return sanitize("go_" + opts)
	case "onnx", "onnxruntime":
		return "onnx"
	case "xla", "stablehlo":
		plugin, _, _ := strings.Cut(opts, ",")
		if plugin == "" {
			plugin = "cpu"
		}
		return sanitize("xla-" + plugin)
	}
	return sanitize(config)
}

// KeyOf is BackendKey of config, corrected when package backend fell back to
// another backend than config asked for (the timings are the fallback's).
func KeyOf(config string, be compute.Backend) string {
	k := BackendKey(config)
	switch {
	case backend.IsGo(be) && !strings.HasPrefix(k, "go"):
		return "go"
	case backend.IsONNX(be) && k != "onnx":
		return "onnx"
	}
	return k
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '=', r == '.':
			return r
		}
		return '_'
	}, s)
}

// DefaultPath returns the table file of a backend key: $MULTIHW_LOCAL_TABLE
// when set, else <user cache dir>/multihw/local-<key>.json
// (~/.cache/multihw/local-go.json on Linux).
func DefaultPath(key string) (string, error) {
	if p := os.Getenv(EnvTable); p != "" {
		return p, nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locating the measured table: %w (set %s)", err, EnvTable)
	}
	return filepath.Join(dir, "multihw", "local-"+key+".json"), nil
}

// OpenLocal loads the table of the current backend configuration
// (backend.Config(), i.e. $GOMLX_BACKEND or "go") from DefaultPath and returns
// it as the "local" target. It does not create a backend.
func OpenLocal() (hwcost.Target, error) {
	cfg := backend.Config()
	path, err := DefaultPath(BackendKey(cfg))
	if err != nil {
		return nil, err
	}
	t, err := Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no latency table measured for backend %q (%s does not exist): run `multihw cost measure --model mobilenet_v2` (and the models you want to cost) first", cfg, path)
	}
	if err != nil {
		return nil, err
	}
	if err := t.checkCurrent(path); err != nil {
		return nil, err
	}
	return t.Target(TargetName)
}

// checkCurrent refuses a table of the Go backend made before `cost measure`
// timed staged inference: its timings are of single graphs, 4-4.5x slower
// than what train.Inference runs there, with other relative costs, so as
// this machine's target it would cost a path nobody runs.
func (t *Table) checkCurrent(path string) error {
	if !strings.HasPrefix(t.Backend, "go") || t.Ops == "" || strings.HasSuffix(t.Ops, stagedMode) || len(t.Segments)+len(t.Models) == 0 {
		return nil
	}
	return fmt.Errorf("%s holds the Go backend's timings of single graphs (ops %q), made before `multihw cost measure` timed the staged inference that train.Inference runs there (4-4.5x faster, other relative costs): measure again into a new table (`multihw cost measure --table NEW --model ...`, then %s=NEW), or remove this file", path, t.Ops, EnvTable)
}
