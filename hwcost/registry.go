package hwcost

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Targets that live outside this package (e.g. "local", the per-segment lookup
// table measured on this machine by package hwcost/measure, which needs gomlx)
// register an opener here, so that NewMetric().Targets("local") and
// `multihw cost --hardware local` find them by name without this package
// depending on them.
var (
	registryMu sync.RWMutex
	registry   = map[string]registered{}
)

type registered struct {
	description string
	open        func() (Target, error)
}

// RegisterTarget makes a target selectable by name in MetricConfig.Targets.
// open is called each time a metric is built with that name and returns an
// error when the target is unavailable (e.g. not measured yet); the error
// should say how to make it available. Built-in names, group names and names
// registered twice are errors.
func RegisterTarget(name, description string, open func() (Target, error)) error {
	if name == "" || strings.ContainsAny(name, ", \t\n") {
		return fmt.Errorf("register target %q: name must be non-empty, without commas or spaces", name)
	}
	if open == nil {
		return fmt.Errorf("register target %q: nil opener", name)
	}
	if _, err := LookupSpec(name); err == nil || name == "paper" || name == "mnv4" || name == "all" {
		return fmt.Errorf("register target %q: name taken by a built-in target or group", name)
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[name]; dup {
		return fmt.Errorf("register target %q: already registered", name)
	}
	registry[name] = registered{description: description, open: open}
	return nil
}

// RegisteredTargets returns the names of the registered (non built-in)
// targets, sorted, with their descriptions.
func RegisteredTargets() (names, descriptions []string) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		descriptions = append(descriptions, registry[n].description)
	}
	return names, descriptions
}

// resolveTargets turns target names (built-in, groups, registered) into
// targets, in order, without duplicates.
func resolveTargets(names []string, ps *ParamSet) ([]Target, error) {
	var ts []Target
	var seen []string
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if IsTargetFile(n) {
			tf, err := LoadTargetFile(n)
			if err != nil {
				return nil, err
			}
			if slices.Contains(seen, tf.Target) {
				return nil, fmt.Errorf("target %s (%s) given twice", tf.Target, n)
			}
			t, err := tf.Analytic()
			if err != nil {
				return nil, err
			}
			seen = append(seen, tf.Target)
			ts = append(ts, t)
			continue
		}
		registryMu.RLock()
		r, ok := registry[n]
		registryMu.RUnlock()
		if ok {
			if slices.Contains(seen, n) {
				continue
			}
			t, err := r.open()
			if err != nil {
				return nil, fmt.Errorf("target %s: %w", n, err)
			}
			if t == nil || t.Name() != n {
				return nil, fmt.Errorf("target %s: the registered opener returned a target named %q", n, nameOf(t))
			}
			seen = append(seen, n)
			ts = append(ts, t)
			continue
		}
		expanded, err := ExpandTargets([]string{n})
		if err != nil {
			if reg, _ := RegisteredTargets(); len(reg) > 0 {
				err = fmt.Errorf("%w; or a registered target: %s", err, strings.Join(reg, ", "))
			}
			// A target file is recognised by its name (IsTargetFile); an
			// existing file of another name would otherwise look like a typo.
			if st, serr := os.Stat(n); serr == nil && st.Mode().IsRegular() {
				err = fmt.Errorf("%w; %q is a file, read as a target file only when its name ends in .json or holds a '/' (./%s)", err, n, n)
			}
			return nil, err
		}
		for _, e := range expanded {
			if slices.Contains(seen, e) {
				continue
			}
			t, err := Lookup(e, ps)
			if err != nil {
				return nil, err
			}
			seen = append(seen, e)
			ts = append(ts, t)
		}
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("no hardware targets given (valid targets: %s)", strings.Join(TargetNames(), ", "))
	}
	return ts, nil
}

func nameOf(t Target) string {
	if t == nil {
		return "<nil>"
	}
	return t.Name()
}
