package jsonmut

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVariants: every node of a small document is replaced by each
// replacement and every member deleted, one change at a time, and the
// document is restored between variants.
func TestVariants(t *testing.T) {
	doc := []byte(`{"a": 1, "b": {"c": [true, "s"]}, "d": [1, 2, 3, 4, 5]}`)
	vs, err := Variants(doc)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	n := 0
	for name, v := range vs {
		n++
		names[name] = true
		var x map[string]any
		if err := json.Unmarshal(v, &x); err != nil {
			t.Fatalf("%s: not JSON: %v", name, err)
		}
		// One change: the other members stay as they were.
		if !strings.HasPrefix(name, "/a") && x["a"] != 1.0 {
			t.Errorf("%s: /a changed to %v", name, x["a"])
		}
	}
	// Nodes: /a, /b, /b/c, /b/c/0, /b/c/1, /d, /d/0, /d/1, /d/4 (long arrays:
	// first two and last) = 9; members deletable: /a, /b, /b/c, /d = 4.
	if want := 9*len(Replacements) + 4; n != want {
		t.Errorf("%d variants, want %d", n, want)
	}
	for _, want := range []string{"/b/c/1 = null", "/d/4 = 1e308", "/b deleted", "/a = \"x\""} {
		if !names[want] {
			t.Errorf("no variant %q", want)
		}
	}
	if names["/d/2 = null"] {
		t.Error("a middle element of a long array was mutated")
	}
	if _, err := Variants([]byte(`{"a":`)); err == nil {
		t.Error("invalid document: no error")
	}
}

// TestNoPanic counts refusals and catches a reader's panic.
func TestNoPanic(t *testing.T) {
	doc := []byte(`{"p": {"v": 1}}`)
	type file struct {
		P *struct{ V int } `json:"p"`
	}
	ft := &recorder{}
	refused, accepted := NoPanic(ft, doc, func(b []byte) error {
		var f file
		if err := json.Unmarshal(b, &f); err != nil {
			return err
		}
		_ = f.P.V // panics on "p": null or a deleted "p"
		return nil
	})
	if len(ft.errs) != 2 || !strings.Contains(ft.errs[0], "/p = null: panic") || !strings.Contains(ft.errs[1], "/p deleted: panic") {
		t.Errorf("a reader that panics on null and on a missing member: %q", ft.errs)
	}
	if refused == 0 || accepted == 0 {
		t.Errorf("refused %d, accepted %d", refused, accepted)
	}
}

// recorder is a TB that keeps the errors.
type recorder struct{ errs []string }

func (r *recorder) Helper()                      {}
func (r *recorder) Errorf(f string, args ...any) { r.errs = append(r.errs, fmt.Sprintf(f, args...)) }
func (r *recorder) Fatal(args ...any)            { panic(fmt.Sprint(args...)) }
func (r *recorder) Logf(string, ...any)          {}

// TestCheck: a reader that refuses nothing fails the check; CheckFile puts
// the file's content back.
func TestCheck(t *testing.T) {
	r := &recorder{}
	Check(r, "lenient", []byte(`{"a": 1}`), func([]byte) error { return nil })
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "lenient: no variant refused") {
		t.Errorf("a reader that accepts everything: %q", r.errs)
	}
	path := filepath.Join(t.TempDir(), "f.json")
	if err := os.WriteFile(path, []byte(`{"a": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	seen := 0
	r = &recorder{}
	CheckFile(r, "file", path, func() error {
		seen++
		b, _ := os.ReadFile(path)
		var x struct{ A int }
		return json.Unmarshal(b, &x)
	})
	if b, _ := os.ReadFile(path); string(b) != `{"a": 1}` || seen != len(Replacements)+1 || len(r.errs) != 0 {
		t.Errorf("CheckFile: file %q after, %d reads, errors %q", b, seen, r.errs)
	}
}
