package conventions

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// module is the module path of the repository.
const module = "github.com/multihw/multihw"

// layers says which project packages the packages under each prefix may
// import in non-test files (besides their own subtree). The first matching
// prefix (longest first) applies; "*" allows every project package. Test
// files may import more (a test cross-checks against other packages).
var layers = map[string][]string{
	"internal":     {"internal"},
	"backend":      {"internal"},
	"report":       {"internal"},
	"blocks":       {"blocks", "backend", "report", "internal"},
	"hwcost":       {"hwcost", "blocks", "backend", "report", "internal"},
	"train":        {"train", "blocks", "backend", "report", "internal"},
	"nas":          {"nas", "blocks", "hwcost", "train", "backend", "report", "internal"},
	"plots":        {"plots", "blocks", "internal"},
	"plots/figset": {"*"},
	"cmd":          {"*"},
	"notebooks":    {"*"},
}

// rules returns the allowed prefixes of package rel ("blocks/convnet").
func rules(rel string) (prefix string, allowed []string) {
	best := ""
	for p := range layers {
		if (rel == p || strings.HasPrefix(rel, p+"/")) && len(p) > len(best) {
			best = p
		}
	}
	return best, layers[best]
}

func within(pkg, prefix string) bool { return pkg == prefix || strings.HasPrefix(pkg, prefix+"/") }

// root returns the repository root (two levels up from this package).
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("repository root not found: %v", err)
	}
	return dir
}

// goFiles calls fn for every Go file of the module, by path relative to the
// root (hidden directories, testdata and other modules' trees skipped).
func goFiles(t *testing.T, fn func(rel string, test bool)) {
	t.Helper()
	base := root(t)
	err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != base && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bin" || name == "out") {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") {
			rel, _ := filepath.Rel(base, path)
			fn(filepath.ToSlash(rel), strings.HasSuffix(name, "_test.go"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLayering: every non-test file imports only the project packages its
// layer allows (the table layers; ARCHITECTURE.md draws it).
func TestLayering(t *testing.T) {
	base := root(t)
	checked := 0
	goFiles(t, func(rel string, test bool) {
		if test {
			return
		}
		pkg := filepath.ToSlash(filepath.Dir(rel))
		prefix, allowed := rules(pkg)
		if prefix == "" {
			t.Errorf("%s: package %s has no layer in the table (add it to layers and ARCHITECTURE.md)", rel, pkg)
			return
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(base, rel), nil, parser.ImportsOnly)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return
		}
		checked++
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			dep, ok := strings.CutPrefix(path, module+"/")
			if !ok || within(dep, pkg) {
				continue
			}
			ok = false
			for _, a := range allowed {
				if a == "*" || within(dep, a) {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s imports %s: the %s layer may import only %v", rel, dep, prefix, allowed)
			}
		}
	})
	if checked < 50 {
		t.Errorf("only %d files checked: the walk missed the module", checked)
	}
}

// TestLayeringRules: the rule table itself (a rule that cannot fail would
// make TestLayering vacuous).
func TestLayeringRules(t *testing.T) {
	for _, c := range []struct {
		pkg, dep string
		ok       bool
	}{
		{"blocks/convnet", "backend", true},
		{"blocks/convnet", "train", false},
		{"blocks", "nas", false},
		{"nas/nb201", "plots", false},
		{"nas/tunas", "train/data", true},
		{"plots/figset", "nas/tunas", true},
		{"internal/rundir", "blocks", false},
		{"hwcost/measure", "blocks/convnet", true},
		{"train/export", "nas", false},
	} {
		_, allowed := rules(c.pkg)
		ok := false
		for _, a := range allowed {
			ok = ok || a == "*" || within(c.dep, a)
		}
		if ok != c.ok {
			t.Errorf("%s importing %s: allowed %v, want %v", c.pkg, c.dep, ok, c.ok)
		}
	}
}

// TestFunctionLength: no function (declared or literal) outside tests is
// longer than MaxFuncLines lines.
func TestFunctionLength(t *testing.T) {
	base := root(t)
	type long struct {
		where string
		n     int
	}
	var over []long
	goFiles(t, func(rel string, test bool) {
		if test {
			return
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, filepath.Join(base, rel), nil, 0)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var name string
			switch d := n.(type) {
			case *ast.FuncDecl:
				if d.Body == nil {
					return true
				}
				name = d.Name.Name
			case *ast.FuncLit:
				name = "func literal"
			default:
				return true
			}
			start, end := fset.Position(n.Pos()), fset.Position(n.End())
			if l := end.Line - start.Line + 1; l > MaxFuncLines {
				over = append(over, long{rel + ":" + strconv.Itoa(start.Line) + " " + name, l})
			}
			return true
		})
	})
	sort.Slice(over, func(i, j int) bool { return over[i].n > over[j].n })
	for _, o := range over {
		t.Errorf("%s: %d lines (at most %d)", o.where, o.n, MaxFuncLines)
	}
}

// TestNoExternalNotes: comments cite the paper, the TuNAS file or the Model
// Garden spec, not notes that are not in the repository.
func TestNoExternalNotes(t *testing.T) {
	base := root(t)
	goFiles(t, func(rel string, test bool) {
		raw, err := os.ReadFile(filepath.Join(base, rel))
		if err != nil {
			t.Fatal(err)
		}
		// The name is split so that this file does not match itself.
		if note := "PAPER_" + "FACTS"; strings.Contains(string(raw), note) {
			t.Errorf("%s cites %s.md, which is not in the repository: cite the primary source", rel, note)
		}
	})
}
