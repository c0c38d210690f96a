package hwcost

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/multihw/multihw/internal/atomicfile"
	"github.com/multihw/multihw/internal/memlimit"
	"github.com/multihw/multihw/internal/strictjson"
)

// TargetFile is an analytic target saved as JSON: what `multihw cost adapt
// --out` writes. Wherever a target name is accepted (MetricConfig.Targets,
// `multihw cost --hardware`, `multihw search --targets`, the notebooks), a
// path to such a file is accepted too (see IsTargetFile).
type TargetFile struct {
	// Target is the target's name; it must differ from the built-in ones.
	Target    string    `json:"target"`
	Device    string    `json:"device,omitempty"`
	Runtime   string    `json:"runtime,omitempty"`
	Precision Precision `json:"precision"`
	Params    Params    `json:"params"`
	// Posterior is the parameters' uncertainty, for `multihw cost sensitivity`.
	Posterior *Posterior `json:"posterior,omitempty"`
	// Note says how the file was made.
	Note string `json:"note,omitempty"`
}

// GroupFile is the Spec.Group of a target read from a target file.
const GroupFile = "file"

// IsTargetFile reports whether a target name is a path to a target file: it
// ends in ".json" or contains a path separator.
func IsTargetFile(name string) bool {
	return strings.HasSuffix(name, ".json") || strings.ContainsRune(name, '/') || strings.ContainsRune(name, filepath.Separator)
}

// ParseTargetFile decodes and validates a target file, strictly (see
// internal/strictjson: unknown, duplicated or wrongly-cased keys and trailing
// data are errors; a byte-order mark is accepted).
func ParseTargetFile(data []byte) (*TargetFile, error) {
	tf := &TargetFile{}
	if err := strictjson.Unmarshal(data, tf); err != nil {
		return nil, fmt.Errorf("parsing target file: %w", err)
	}
	if err := tf.Validate(); err != nil {
		return nil, err
	}
	return tf, nil
}

// Validate checks the name, precision, parameters and posterior.
func (tf *TargetFile) Validate() error {
	if err := CheckTargetName(tf.Target); err != nil {
		return fmt.Errorf("target file: %w", err)
	}
	if _, err := tf.Precision.Bytes(); err != nil {
		return fmt.Errorf("target file %s: %w", tf.Target, err)
	}
	if err := tf.Params.Validate(); err != nil {
		return fmt.Errorf("target file %s: %w", tf.Target, err)
	}
	if tf.Posterior != nil {
		if err := tf.Posterior.Validate(); err != nil {
			return fmt.Errorf("target file %s: %w", tf.Target, err)
		}
		if err := tf.Posterior.Matches(tf.Params); err != nil {
			return fmt.Errorf("target file %s: %w", tf.Target, err)
		}
	}
	return nil
}

// CheckTargetName reports a name a target file cannot carry: one that target
// lists would split or read as a path, or a built-in target's or group's.
func CheckTargetName(name string) error {
	if name == "" || strings.ContainsAny(name, ", \t\n/") || IsTargetFile(name) {
		return fmt.Errorf("target name %q must be non-empty, without commas, spaces or '/', and not end in .json", name)
	}
	if _, err := LookupSpec(name); err == nil || name == "paper" || name == "mnv4" || name == "all" {
		return fmt.Errorf("name %q is taken by a built-in target or group", name)
	}
	return nil
}

// LoadTargetFile reads a target file.
func LoadTargetFile(path string) (*TargetFile, error) {
	data, err := memlimit.ReadFile(path, "target file", 16<<20)
	if err != nil {
		return nil, fmt.Errorf("reading target file: %w", err)
	}
	tf, err := ParseTargetFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return tf, nil
}

// JSON returns the indented JSON form.
func (tf *TargetFile) JSON() []byte { return indentJSON(tf) }

// indentJSON is the indented JSON form of a value made of plain values.
func indentJSON(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil { // plain values only
		panic(err)
	}
	return append(b, '\n')
}

// Save writes the file atomically. An existing file at path is replaced only
// if it is a target file: `cost adapt --out` must not destroy another file.
func (tf *TargetFile) Save(path string) error {
	if err := tf.Validate(); err != nil { // a file LoadTargetFile would refuse
		return err
	}
	return atomicfile.WriteOwned(path, tf.JSON(), 0o644, "a target file", isTargetFile)
}

// isTargetFile reports whether head is a JSON object naming a target and its
// parameters (leniently: a target file of another version is one too).
func isTargetFile(head []byte) bool {
	var v struct {
		Target *string        `json:"target"`
		Params map[string]any `json:"params"`
	}
	return json.Unmarshal(head, &v) == nil && v.Target != nil && v.Params != nil
}

// Spec returns the target's description.
func (tf *TargetFile) Spec() Spec {
	return Spec{Name: tf.Target, Device: tf.Device, Runtime: tf.Runtime, Precision: tf.Precision, Group: GroupFile, Prior: tf.Params}
}

// Analytic returns the target's model (with its posterior).
func (tf *TargetFile) Analytic() (*Analytic, error) {
	t, err := NewAnalytic(tf.Spec(), tf.Params)
	if err == nil {
		t.post = tf.Posterior
	}
	return t, err
}
