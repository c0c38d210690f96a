package measure

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
)

// Adapt fits an analytic target (hwcost.AdaptArchs) to the whole-model
// timings of the measured table at path; "local" is the current backend's
// table (DefaultPath). Without cfg.Name the target is adapted-local-BACKEND.
func Adapt(path string, cfg hwcost.AdaptConfig) (*hwcost.AdaptResult, error) {
	source, archs, ms, err := measurements(path, &cfg)
	if err != nil {
		return nil, err
	}
	return hwcost.AdaptArchs(source, archs, ms, cfg)
}

// AdaptCurve is hwcost.AdaptArchsCurve on the table at path (see Adapt): how
// the fit's test-set figures grow with the number of measured models.
func AdaptCurve(path string, cfg hwcost.AdaptConfig, sizes []int, seeds []uint64) (*hwcost.Curve, error) {
	source, archs, ms, err := measurements(path, &cfg)
	if err != nil {
		return nil, err
	}
	return hwcost.AdaptArchsCurve(source, archs, ms, cfg, sizes, seeds)
}

// measurements returns the whole-model timings of the table at path and
// their source name, and names cfg's target after the backend if unnamed.
func measurements(path string, cfg *hwcost.AdaptConfig) (string, []*blocks.Arch, []float64, error) {
	local := path == "local" // this machine's table: what runs here
	if local {
		var err error
		if path, err = DefaultPath(BackendKey(backend.Config())); err != nil {
			return "", nil, nil, err
		}
	}
	t, err := Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, nil, fmt.Errorf("no measured table at %s: run `multihw cost measure --model mobilenet_v2,multi_avg,...` (whole models) first", path)
	}
	if err != nil {
		return "", nil, nil, err
	}
	if local {
		if err := t.checkCurrent(path); err != nil {
			return "", nil, nil, err
		}
	}
	archs, ms := t.Measurements()
	if cfg.Name == "" {
		cfg.Name = "adapted-local-" + t.Backend
	}
	return "local:" + t.Backend, archs, ms, nil
}
