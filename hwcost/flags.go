package hwcost

import (
	"flag"
	"fmt"
	"strings"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/flaglist"
)

// MetricFlags bind a Metric to the command-line flags of `multihw cost`:
// targets, reference model (and its resolution), weights and parameters.
type MetricFlags struct {
	hardware, reference, weights, Params string
	refResolution                        int
	fs                                   *flag.FlagSet // Register's, parsed when Metric is called
}

// Register defines the flags in fs.
func (f *MetricFlags) Register(fs *flag.FlagSet) {
	f.fs = fs
	fs.StringVar(&f.hardware, "hardware", "paper", "comma-separated targets or groups (paper, mnv4, all); valid targets: "+strings.Join(TargetNames(), ", "))
	fs.StringVar(&f.reference, "reference", DefaultReference, "reference model latencies are normalised to (see `multihw models`)")
	fs.IntVar(&f.refResolution, "reference-resolution", 0, "input resolution of the reference (default: its own, 224 for mobilenet_v2)")
	fs.StringVar(&f.weights, "weights", "", "comma-separated weights of the weighted average, one per target (default equal)")
	fs.StringVar(&f.Params, "params", "", "hardware parameters: a JSON file, \"prior\", or empty for the fitted defaults")
}

// Metric returns the metric the flags describe.
func (f *MetricFlags) Metric() (*Metric, error) {
	if f.fs != nil {
		if err := flaglist.NotZero(f.fs, "reference-resolution"); err != nil {
			return nil, err
		}
	}
	ps, refArch, err := LoadBasis(f.Params, f.reference)
	if err != nil {
		return nil, err
	}
	if f.refResolution < 0 {
		return nil, fmt.Errorf("--reference-resolution must be positive, got %d", f.refResolution)
	} else if f.refResolution > 0 {
		refArch.Resolution = f.refResolution
		refArch.Name = fmt.Sprintf("%s/%d", refArch.Name, f.refResolution)
	}
	cfg := NewMetric().Targets(strings.Split(f.hardware, ",")...).Params(ps).Reference(refArch)
	if f.weights != "" {
		w, err := flaglist.Floats(f.weights)
		if err != nil {
			return nil, fmt.Errorf("--weights: %w", err)
		}
		cfg = cfg.Weights(w...)
	}
	return cfg.Done()
}

// LoadBasis loads the parameters of --params (a file, "prior", or empty for
// the fitted ones) and the reference model of --reference.
func LoadBasis(params, ref string) (*ParamSet, *blocks.Arch, error) {
	ps, err := LoadParams(params)
	if err != nil {
		return nil, nil, err
	}
	refArch, err := blocks.Model(ref)
	if err != nil {
		return nil, nil, fmt.Errorf("--reference: %w", err)
	}
	return ps, refArch, nil
}
