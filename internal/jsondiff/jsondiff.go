// Package jsondiff names the fields in which two configurations differ, by
// their JSON paths: an error that says "recipe: batch_size is 128 in the
// checkpoint, 64 given" is read; two whole configurations printed one above
// the other are not.
package jsondiff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Diff returns one line per differing leaf of the JSON forms of a and b:
// "path: A → B" (path like "space/stages/2/kernels"; "(absent)" for a
// missing key; arrays of different length are one difference). Values that
// cannot be marshalled compare as their %v text.
func Diff(a, b any) []string {
	var out []string
	walk("", decode(a), decode(b), &out)
	return out
}

// Describe joins Diff's lines, at most max of them (the rest counted), with
// the labels of a and b: "batch_size: 128 (checkpoint) → 64 (given)".
func Describe(a, b any, labelA, labelB string, max int) string {
	d := Diff(a, b)
	if len(d) == 0 {
		return "no difference in their JSON forms"
	}
	shown := d
	if len(shown) > max {
		shown = shown[:max]
	}
	parts := make([]string, len(shown))
	for i, line := range shown {
		path, vals, _ := strings.Cut(line, ": ")
		av, bv, _ := strings.Cut(vals, " → ")
		parts[i] = fmt.Sprintf("%s is %s (%s), %s (%s)", path, av, labelA, bv, labelB)
	}
	s := strings.Join(parts, "; ")
	if len(d) > len(shown) {
		s += fmt.Sprintf("; and %d more", len(d)-len(shown))
	}
	return s
}

func decode(v any) any {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return string(raw)
	}
	return out
}

func show(v any) string {
	if v == nil {
		return "null"
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	if len(raw) > 60 {
		return string(raw[:57]) + "..."
	}
	return string(raw)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "/" + key
}

func walk(path string, a, b any, out *[]string) {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := make([]string, 0, len(av)+len(bv))
		for k := range av {
			keys = append(keys, k)
		}
		for k := range bv {
			if _, dup := av[k]; !dup {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			x, okA := av[k]
			y, okB := bv[k]
			switch {
			case !okA:
				*out = append(*out, fmt.Sprintf("%s: (absent) → %s", join(path, k), show(y)))
			case !okB:
				*out = append(*out, fmt.Sprintf("%s: %s → (absent)", join(path, k), show(x)))
			default:
				walk(join(path, k), x, y, out)
			}
		}
		return
	case []any:
		bv, ok := b.([]any)
		if !ok {
			break
		}
		if len(av) != len(bv) {
			*out = append(*out, fmt.Sprintf("%s: %d items %s → %d items %s", path, len(av), show(av), len(bv), show(bv)))
			return
		}
		for i := range av {
			walk(join(path, fmt.Sprint(i)), av[i], bv[i], out)
		}
		return
	}
	if show(a) != show(b) {
		if path == "" {
			path = "(value)"
		}
		*out = append(*out, fmt.Sprintf("%s: %s → %s", path, show(a), show(b)))
	}
}
