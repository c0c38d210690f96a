// Package flaglist parses the comma-separated list values of command-line
// flags ("0.3,0.5", "1,2", "name=dir,name=dir") and tells which flags were
// given, for the packages that bind their configuration to a flag.FlagSet.
package flaglist

import (
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Split splits a comma-separated flag value, dropping blanks.
func Split(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Floats parses a comma-separated list of numbers.
func Floats(s string) ([]float64, error) {
	var out []float64
	for _, v := range Split(s) {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", v)
		}
		out = append(out, x)
	}
	return out, nil
}

// Seeds parses a comma-separated list of seeds of flag flagName.
func Seeds(s, flagName string) ([]uint64, error) {
	var out []uint64
	for _, v := range Split(s) {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--%s: %q is not a seed", flagName, v)
		}
		out = append(out, n)
	}
	return out, nil
}

// Ints parses a comma-separated list of integers of flag flagName.
func Ints(s, flagName string) ([]int, error) {
	var out []int
	for _, v := range Split(s) {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("--%s: %q is not an integer", flagName, v)
		}
		out = append(out, n)
	}
	return out, nil
}

// Repeated returns the first value that occurs twice in vals, and whether
// there is one: lists whose items name rows of a result (budgets, models,
// variants) must not repeat one, which would run and report it twice.
func Repeated[T comparable](vals []T) (T, bool) {
	for i, v := range vals {
		if slices.Contains(vals[:i], v) {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// Pairs parses "name=dir,name=dir" of flag flagName.
func Pairs(s, flagName string) ([][2]string, error) {
	var out [][2]string
	for _, kv := range Split(s) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("--%s: %q is not NAME=DIR", flagName, kv)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// OrEmpty is err, or "empty list" where a list flag parsed to nothing.
func OrEmpty(err error) any {
	if err != nil {
		return err
	}
	return "empty list"
}

// Given returns the names of the flags of the parsed fs that were given on
// the command line (a flag left at its default may differ in meaning from
// one given with the default's value).
func Given(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// Mode ties flags to the mode of a command they configure (an algorithm, a
// report, a variant of the command): they mean something only when Chosen.
// For names the mode in the error.
type Mode struct {
	Flags  []string
	Chosen bool
	For    string
}

// Unused returns an error for the first flag, in the order of modes and
// their lists, that was given on the command line of the parsed fs although
// its mode was not chosen ("--NAME is for FOR"): such a flag would otherwise
// be ignored without a word.
func Unused(fs *flag.FlagSet, modes ...Mode) error {
	set := Given(fs)
	for _, m := range modes {
		for _, name := range m.Flags {
			if set[name] && !m.Chosen {
				return fmt.Errorf("--%s is for %s", name, m.For)
			}
		}
	}
	return nil
}

// Only returns an error for the first flag given on the command line of the
// parsed fs that is not one of names ("--NAME does not apply to WHAT"): a
// mode that takes few of a command's flags lists those instead of the others.
func Only(fs *flag.FlagSet, what string, names ...string) error {
	var bad string
	fs.Visit(func(fl *flag.Flag) {
		if bad == "" && !slices.Contains(names, fl.Name) {
			bad = fl.Name
		}
	})
	if bad != "" {
		return fmt.Errorf("--%s does not apply to %s", bad, what)
	}
	return nil
}

// NotZero returns an error for the first of the named flags of the parsed fs
// that was given on the command line with the value 0. These are flags whose
// zero stands for "not given" (their default is computed elsewhere: from
// other flags, a checkpoint or a library default), so a 0 the user typed
// would otherwise be replaced silently by that default.
func NotZero(fs *flag.FlagSet, names ...string) error {
	var bad error
	fs.Visit(func(f *flag.Flag) {
		if bad != nil || !slices.Contains(names, f.Name) {
			return
		}
		if v, err := strconv.ParseFloat(f.Value.String(), 64); err == nil && v == 0 {
			bad = fmt.Errorf("--%s must be positive, got %s (leave the flag out for its default: %s)", f.Name, f.Value, f.Usage)
		}
	})
	return bad
}
