package export

import (
	"flag"
	"fmt"
	"os"

	"github.com/multihw/multihw/internal/flaglist"
)

// Flags bind an export to the command-line flags of `multihw export`:
// Register defines them, Options checks them.
type Flags struct {
	Checkpoint, Path    string
	opset, batch, check int
	lowered             bool
}

// Register defines the flags in fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Checkpoint, "checkpoint", "", "checkpoint file, or a run directory (its newest checkpoint)")
	fs.StringVar(&f.Path, "onnx", "", "ONNX file to write")
	fs.IntVar(&f.opset, "opset", DefaultOpset, fmt.Sprintf("ONNX opset of the deployment graph (%d to %d)", MinOpset, MaxOpset))
	fs.BoolVar(&f.lowered, "lowered", false, "write instead the Go backend's MatMul/window lowering as gomlx converts it (a diagnostic: BatchNorm at run time, fixed batch, the converter's opset)")
	fs.IntVar(&f.batch, "batch", 1, "with --lowered: the graph's fixed batch size (the deployment graph's batch is dynamic)")
	fs.IntVar(&f.check, "check", 0, "random images compared between the reloaded file and the Go backend (default 4)")
}

// Options checks the flags of the parsed fs (and that --onnx, if it exists,
// is a regular file) and returns the export's options.
func (f *Flags) Options(fs *flag.FlagSet) (Options, error) {
	set := flaglist.Given(fs)
	if f.Checkpoint == "" || f.Path == "" {
		return Options{}, fmt.Errorf("missing --checkpoint or --onnx")
	}
	opts := Options{CheckImages: f.check, Lowered: f.lowered}
	if err := flaglist.NotZero(fs, "check"); err != nil { // the export is always checked
		return opts, err
	}
	switch {
	case f.check < 0:
		return opts, fmt.Errorf("--check must be >= 0, got %d", f.check)
	case f.lowered && set["opset"]:
		return opts, fmt.Errorf("--opset applies to the deployment graph; the --lowered graph has the opset of gomlx's converter")
	case !f.lowered && set["batch"]:
		return opts, fmt.Errorf("--batch applies to --lowered only: the deployment graph's batch dimension is dynamic")
	case f.lowered && f.batch < 1:
		return opts, fmt.Errorf("--batch must be positive, got %d", f.batch)
	case f.lowered:
		opts.Batch = f.batch
	default:
		if err := CheckOpset(f.opset); err != nil {
			return opts, fmt.Errorf("--opset: %w", err)
		}
		opts.Opset = f.opset
	}
	if st, err := os.Lstat(f.Path); err == nil && !st.Mode().IsRegular() {
		return opts, fmt.Errorf("--onnx %s exists and is not a regular file: refusing to replace it", f.Path)
	}
	return opts, nil
}
