package blocks

import (
	"flag"
	"fmt"
	"strings"
)

// ArchFlags bind the choice of an architecture to command-line flags: a
// reference model (--model) or a spec file (--spec), its width multiplier and
// optionally its input resolution and number of classes.
type ArchFlags struct {
	Model, Spec         string
	width               float64
	resolution, classes int
}

// Register defines --model, --spec and --width in fs, and with shape
// --resolution and --classes.
func (a *ArchFlags) Register(fs *flag.FlagSet, shape bool) {
	fs.StringVar(&a.Model, "model", "", "reference model name (see `multihw models`)")
	fs.StringVar(&a.Spec, "spec", "", "architecture spec file (JSON or text form)")
	fs.Float64Var(&a.width, "width", 1, "width multiplier")
	if shape {
		fs.IntVar(&a.resolution, "resolution", 0, "input resolution (default: the architecture's)")
		fs.IntVar(&a.classes, "classes", 0, "number of classes (default: the architecture's)")
	}
}

// Given reports whether --model or --spec was given.
func (a *ArchFlags) Given() bool { return a.Model != "" || a.Spec != "" }

// Load returns the validated architecture the flags describe.
func (a *ArchFlags) Load() (*Arch, error) {
	var arch *Arch
	var err error
	switch {
	case a.Model != "" && a.Spec != "":
		return nil, fmt.Errorf("give either --model or --spec, not both")
	case a.Model != "":
		arch, err = Model(a.Model)
	case a.Spec != "":
		arch, err = Load(a.Spec)
	default:
		return nil, fmt.Errorf("missing --model NAME or --spec FILE")
	}
	if err != nil {
		return nil, err
	}
	if !(a.width > 0 && a.width <= MaxWidthFactor) {
		return nil, fmt.Errorf("--width must be in (0, %d], got %g", MaxWidthFactor, a.width)
	}
	arch = arch.WithWidth(a.width)
	if a.resolution < 0 || a.classes < 0 {
		return nil, fmt.Errorf("--resolution and --classes must be positive")
	}
	if a.resolution > 0 {
		arch.Resolution = a.resolution
	}
	if a.classes > 0 {
		arch.Classes = a.classes
	}
	return arch, arch.Validate()
}

// ModelsAll is the --model value LoadList reads as every reference model.
const ModelsAll = "all"

// LoadList loads --spec, or every model of a comma-separated --model (each
// once; "all": every reference model), with the shared width, resolution and
// classes.
func (a *ArchFlags) LoadList() ([]*Arch, error) {
	names := a.Model
	if names == ModelsAll && a.Spec == "" {
		names = strings.Join(ReferenceNames(), ",")
	}
	if a.Spec != "" || !strings.Contains(names, ",") {
		arch, err := a.Load()
		if err != nil {
			return nil, err
		}
		return []*Arch{arch}, nil
	}
	var archs []*Arch
	seen := map[string]bool{}
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		one := *a
		one.Model = n
		arch, err := one.Load()
		if err != nil {
			return nil, err
		}
		archs = append(archs, arch)
	}
	return archs, nil
}
