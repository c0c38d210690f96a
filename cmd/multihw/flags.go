package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/multihw/multihw/blocks"
)

// errUsage reports that flag parsing already printed the problem.
var errUsage = errors.New("usage")

// newFlags returns a FlagSet for command name that reports errors instead of exiting.
func newFlags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("multihw "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: multihw %s %s\n\nFlags:\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, rejecting stray positional arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags go before nothing else; see -h)", fs.Arg(0))
	}
	return nil
}

// printJSON writes v as indented JSON to stdout.
func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// archFlags are the flags every command that takes an architecture shares.
type archFlags struct {
	model, spec string
	width       float64
	resolution  int
	classes     int
}

func (a *archFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.model, "model", "", "reference model name (see `multihw models`)")
	fs.StringVar(&a.spec, "spec", "", "architecture spec file (JSON or text form)")
	fs.Float64Var(&a.width, "width", 1, "width multiplier")
	fs.IntVar(&a.resolution, "resolution", 0, "input resolution (default: the architecture's)")
	fs.IntVar(&a.classes, "classes", 0, "number of classes (default: the architecture's)")
}

// load returns the architecture the flags describe.
func (a *archFlags) load() (*blocks.Arch, error) {
	var arch *blocks.Arch
	var err error
	switch {
	case a.model != "" && a.spec != "":
		return nil, fmt.Errorf("give either --model or --spec, not both")
	case a.model != "":
		arch, err = blocks.Model(a.model)
	case a.spec != "":
		arch, err = blocks.Load(a.spec)
	default:
		return nil, fmt.Errorf("missing --model NAME or --spec FILE")
	}
	if err != nil {
		return nil, err
	}
	if a.width <= 0 {
		return nil, fmt.Errorf("--width must be positive, got %g", a.width)
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
