package figset

import (
	"flag"
	"io"
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
