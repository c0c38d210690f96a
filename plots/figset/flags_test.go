package figset

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestSearchReportFlags(t *testing.T) {
	parse := func(args ...string) *SearchReportFlags {
		fs := flag.NewFlagSet("report", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var f SearchReportFlags
		f.Register(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return &f
	}
	in, err := parse("--search", "a=s1,b=s2", "--trained", "t=d", "--ablation", "x.json, y.json", "--out", filepath.Join("r", "REPORT.md"), "--figures", filepath.Join("r", "fig")).Input()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in.Searches, []NamedDir{{"a", "s1"}, {"b", "s2"}}) || !reflect.DeepEqual(in.Trained, []NamedDir{{"t", "d"}}) || in.Ranks != nil {
		t.Errorf("runs: searches %v trained %v ranks %v", in.Searches, in.Trained, in.Ranks)
	}
	// Figures are linked relative to the report.
	if !reflect.DeepEqual(in.AblationFiles, []string{"x.json", "y.json"}) || in.FigureRel != "fig" {
		t.Errorf("ablation files %v, figure link %q; want [x.json y.json] and fig", in.AblationFiles, in.FigureRel)
	}
	if _, err := parse("--rank", "r").Input(); err == nil || err.Error() != `--rank: "r" is not NAME=DIR` {
		t.Errorf("--rank r: error %v", err)
	}
}

func TestFlagsSet(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f.png")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{nil, "missing --out DIR"},
		{[]string{"--out", "d", "--scale", "9"}, "--scale must be in [0.25, 8], got 9"},
		{[]string{"--out", "d", "--scale", "0"}, "--scale must be in [0.25, 8], got 0"},
		{[]string{"--out", "d", "--scale", "5e-324"}, "--scale must be in [0.25, 8], got 5e-324"}, // wrote 1×1-pixel images
		{[]string{"--out", "d", "--only", "a,b"}, ""},
		{[]string{"--out", file}, "--out " + file + " exists and is not a directory"}, // refused before the figures are made
	} {
		fs := flag.NewFlagSet("figures", flag.ContinueOnError)
		var f Flags
		f.Register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		set, err := f.Set(io.Discard)
		if tc.err == "" {
			if err != nil || set == nil {
				t.Errorf("%v: Set() = %v, %v", tc.args, set, err)
			}
		} else if err == nil || err.Error() != tc.err {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.err)
		}
	}
}
