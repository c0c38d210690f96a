package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/multihw/multihw/internal/jsonsafe"
	"github.com/multihw/multihw/internal/memlimit"
)

// errUsage reports that flag parsing already printed the problem.
var errUsage = errors.New("usage")

// memoryLimitFlag is the name of the flag every command has.
const memoryLimitFlag = "memory-limit"

// newFlags returns a FlagSet for command name that reports errors instead of
// exiting. Every command gets --memory-limit.
func newFlags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("multihw "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: multihw %s %s\n\nFlags:\n", name, usage)
		fs.PrintDefaults()
	}
	fs.String(memoryLimitFlag, "", "refuse work whose memory estimate exceeds this (e.g. 8GiB; default $"+memlimit.Env+" or 90% of the machine's memory)")
	return fs
}

// parse parses args, rejecting stray positional arguments, numbers that are
// not finite (strconv accepts "NaN" and "Inf", which no flag means), and a
// bad --memory-limit, which it applies.
func parse(fs *flag.FlagSet, args []string) error {
	counts, err := parseCounting(fs, args)
	if err != nil {
		return errUsage // the flag package printed the problem
	}
	if rep := counts.repeated(); len(rep) > 0 {
		name := rep[0]
		err := fmt.Errorf("--%s given %d times: give it once", name, counts[name])
		if g, ok := fs.Lookup(name).Value.(flag.Getter); ok && isString(g.Get()) {
			err = fmt.Errorf("%w (lists are comma-separated, e.g. --%s a,b)", err, name)
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags go before nothing else; see -h)", fs.Arg(0))
	}
	var bad error
	fs.Visit(func(f *flag.Flag) {
		if g, ok := f.Value.(flag.Getter); ok && bad == nil {
			if v, ok := g.Get().(float64); ok && (math.IsNaN(v) || math.IsInf(v, 0)) {
				bad = fmt.Errorf("--%s must be a finite number, got %s", f.Name, f.Value)
			}
		}
	})
	if bad != nil {
		return bad
	}
	memlimit.SetLimit(0)
	if f := fs.Lookup(memoryLimitFlag); f != nil && f.Value.String() != "" {
		n, err := memlimit.ParseSize(f.Value.String())
		if err != nil {
			return fmt.Errorf("--%s: %w", memoryLimitFlag, err)
		}
		memlimit.SetLimit(n)
		return nil
	}
	return memlimit.CheckEnv() // the limit when no flag is given
}

func isString(v any) bool { _, ok := v.(string); return ok }

// flagCounts counts how often each flag was set.
type flagCounts map[string]int

// repeated returns the flags set more than once, sorted.
func (c flagCounts) repeated() []string {
	var names []string
	for name, n := range c {
		if n > 1 {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// parseCounting is fs.Parse(args) counting each flag's occurrences: the
// flag package lets a repeated flag silently overwrite the earlier value
// (`--model a --model b` would cost b alone).
func parseCounting(fs *flag.FlagSet, args []string) (flagCounts, error) {
	counts := flagCounts{}
	orig := map[string]flag.Value{}
	fs.VisitAll(func(f *flag.Flag) {
		orig[f.Name] = f.Value
		f.Value = &countedValue{Value: f.Value, n: counts, name: f.Name}
	})
	restore := func() { fs.VisitAll(func(f *flag.Flag) { f.Value = orig[f.Name] }) }
	// -h prints the defaults from the original values' types.
	usage := fs.Usage
	fs.Usage = func() { restore(); usage() }
	defer func() { restore(); fs.Usage = usage }()
	return counts, fs.Parse(args)
}

// countedValue is a flag.Value that counts its Set calls.
type countedValue struct {
	flag.Value
	n    flagCounts
	name string
}

func (v *countedValue) Set(s string) error {
	v.n[v.name]++
	return v.Value.Set(s)
}

// IsBoolFlag keeps boolean flags valid without a value (-json).
func (v *countedValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// interruptible returns a context cancelled by an interrupt or SIGTERM: long
// jobs stop at their next checkpoint.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// emit prints v as JSON with asJSON, else text.
func emit(asJSON bool, v any, text func() string) error {
	if asJSON {
		return printJSON(v)
	}
	printf("%s", text())
	return nil
}

// printJSON writes v as indented JSON to stdout; a statistic that is
// undefined for the input (NaN, e.g. a rank correlation of a constant
// column) is null (internal/jsonsafe), not a failure after the work.
func printJSON(v any) error {
	b, err := jsonsafe.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = stdout.Write(append(b, '\n'))
	return err
}

// stdout is where commands print their results. It writes to os.Stdout (as
// set at the time of the write) and remembers the first error, so that run
// can fail a command whose output could not be written (a full disk, a
// closed pipe, /dev/full) even where a print's error was not checked.
var stdout = &outputWriter{}

type outputWriter struct{ err error }

func (w *outputWriter) Write(p []byte) (int, error) {
	n, err := os.Stdout.Write(p)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// printf and printLine write to stdout (errors are kept by stdout).
func printf(format string, args ...any) { _, _ = fmt.Fprintf(stdout, format, args...) }
func printLine(args ...any)             { _, _ = fmt.Fprintln(stdout, args...) }
