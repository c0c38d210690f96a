package measure

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/hwcost"
)

// Adapt fits an analytic target (hwcost.AdaptArchs) to the whole-model
// timings of the measured table at path; "local" is the current backend's
// table (DefaultPath). Without cfg.Name the target is adapted-local-BACKEND.
func Adapt(path string, cfg hwcost.AdaptConfig) (*hwcost.AdaptResult, error) {
	if path == "local" {
		var err error
		if path, err = DefaultPath(BackendKey(backend.Config())); err != nil {
			return nil, err
		}
	}
	t, err := Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no measured table at %s: run `multihw cost measure --model mobilenet_v2,multi_avg,...` (whole models) first", path)
	}
	if err != nil {
		return nil, err
	}
	archs, ms := t.Measurements()
	if cfg.Name == "" {
		cfg.Name = "adapted-local-" + t.Backend
	}
	return hwcost.AdaptArchs("local:"+t.Backend, archs, ms, cfg)
}
