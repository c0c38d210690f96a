// Package jsonmut derives malformed variants of a valid JSON document, one
// change each, for tests that every reader of a file format refuses them with
// an error instead of a panic (a null where a pointer was expected, a string
// where a number was, a number past an integer's range, a missing key ...).
// Go's fuzzing mutates bytes and rarely reaches these; the structure of the
// document does, node by node.
package jsonmut

import (
	"bytes"
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"os"
	"slices"
	"strconv"
)

// Replacements are the values put in place of each node. Numbers cover
// zero, negatives, fractions, the ranges of int32 and int64 and overflow
// to infinity in float64 arithmetic.
var Replacements = []string{
	`null`, `{}`, `[]`, `""`, `"x"`, `true`,
	`0`, `-1`, `0.5`, `4294967296`, `9223372036854775807`, `-9223372036854775808`, `1e308`, `-1e308`, `5e-324`,
}

// MaxArrayNodes bounds how many elements of one array are mutated in turn:
// the first two and the last (long arrays of numbers repeat one kind).
const MaxArrayNodes = 3

// Variants yields each one-change variant of doc with a name saying what
// changed (a JSON pointer and the change). doc must be valid JSON.
func Variants(doc []byte) (iter.Seq2[string, []byte], error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("jsonmut: %w", err)
	}
	return func(yield func(string, []byte) bool) {
		walk(root, "", func(path string, replace func(any) any, del func() any) bool {
			for _, r := range Replacements {
				var v any
				_ = json.Unmarshal([]byte(r), &v)
				if !emit(yield, root, path+" = "+r, func() func() { old := replace(v); return func() { replace(old) } }) {
					return false
				}
			}
			if del != nil {
				if !emit(yield, root, path+" deleted", func() func() { return del().(func()) }) {
					return false
				}
			}
			return true
		})
	}, nil
}

// emit applies a change, yields the document and undoes the change.
func emit(yield func(string, []byte) bool, root any, name string, apply func() (undo func())) bool {
	undo := apply()
	out, err := json.Marshal(root)
	undo()
	if err != nil {
		panic(fmt.Sprintf("jsonmut: %s: %v", name, err))
	}
	return yield(name, out)
}

// walk calls visit for every node below v (not v itself) with functions that
// replace it (returning the old value) and, for object members, delete it
// (returning the function that restores it).
func walk(v any, path string, visit func(path string, replace func(any) any, del func() any) bool) bool {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			child := x[k]
			p := path + "/" + k
			if !visit(p, func(n any) any { old := x[k]; x[k] = n; return old },
				func() any { old := x[k]; delete(x, k); return func() { x[k] = old } }) {
				return false
			}
			if !walk(child, p, visit) {
				return false
			}
		}
	case []any:
		for _, i := range arrayIndices(len(x)) {
			p := path + "/" + strconv.Itoa(i)
			if !visit(p, func(n any) any { old := x[i]; x[i] = n; return old }, nil) {
				return false
			}
			if !walk(x[i], p, visit) {
				return false
			}
		}
	}
	return true
}

// arrayIndices are the elements of an n-element array that are mutated.
func arrayIndices(n int) []int {
	if n <= MaxArrayNodes {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	return []int{0, 1, n - 1}
}

// TB is the part of testing.TB that NoPanic and Check use.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatal(args ...any)
	Logf(format string, args ...any)
}

// NoPanic reads every variant of doc with read and fails t for each that
// panics. It returns how many variants read refused and accepted.
func NoPanic(t TB, doc []byte, read func([]byte) error) (refused, accepted int) {
	t.Helper()
	vs, err := Variants(doc)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range vs {
		var p any
		func() {
			defer func() { p = recover() }()
			if read(v) != nil {
				refused++
			} else {
				accepted++
			}
		}()
		if p != nil {
			t.Errorf("%s: panic: %v", name, p)
		}
	}
	return refused, accepted
}

// Check is NoPanic that also logs the counts under name and fails t if no
// variant was refused (a reader that accepts everything checks nothing).
func Check(t TB, name string, doc []byte, read func([]byte) error) {
	t.Helper()
	refused, accepted := NoPanic(t, doc, read)
	t.Logf("%s: %d variants refused, %d read", name, refused, accepted)
	if refused == 0 {
		t.Errorf("%s: no variant refused (%d read)", name, accepted)
	}
}

// CheckFile is Check on the file at path, for readers that take a file:
// each variant is written there and read() called; the file's content is
// restored at the end.
func CheckFile(t TB, name, path string, read func() error) {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	Check(t, name, doc, func(b []byte) error {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return read()
	})
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
}
