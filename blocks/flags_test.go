package blocks

import (
	"flag"
	"io"
	"testing"
)

func parseArchFlags(t *testing.T, shape bool, args ...string) *ArchFlags {
	t.Helper()
	fs := flag.NewFlagSet("arch", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var a ArchFlags
	a.Register(fs, shape)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return &a
}

func TestArchFlagsLoad(t *testing.T) {
	a := parseArchFlags(t, true, "--model", "multi_avg", "--width", "0.5", "--resolution", "32", "--classes", "10")
	arch, err := a.Load()
	if err != nil {
		t.Fatal(err)
	}
	want, err := Model("multi_avg")
	if err != nil {
		t.Fatal(err)
	}
	want = want.WithWidth(0.5)
	want.Resolution, want.Classes = 32, 10
	if arch.String() != want.String() || arch.Resolution != 32 || arch.Classes != 10 {
		t.Errorf("Load() = %s at %d px, %d classes; want %s", arch, arch.Resolution, arch.Classes, want)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "missing --model NAME or --spec FILE"},
		{[]string{"--model", "multi_avg", "--spec", "x.json"}, "give either --model or --spec, not both"},
		{[]string{"--model", "multi_avg", "--width", "0"}, "--width must be in (0, 64], got 0"},
		{[]string{"--model", "multi_avg", "--classes", "-1"}, "--resolution and --classes must be positive"},
	} {
		if _, err := parseArchFlags(t, true, tc.args...).Load(); err == nil || err.Error() != tc.want {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestArchFlagsLoadList(t *testing.T) {
	archs, err := parseArchFlags(t, false, "--model", "multi_avg, mobilenet_v2,multi_avg,").LoadList()
	if err != nil {
		t.Fatal(err)
	}
	if len(archs) != 2 || archs[0].Name != "multi_avg" || archs[1].Name != "mobilenet_v2" {
		t.Errorf("LoadList() = %d archs %v, want multi_avg and mobilenet_v2 once each", len(archs), archs)
	}
	if _, err := parseArchFlags(t, false, "--model", "multi_avg,nosuch").LoadList(); err == nil {
		t.Error("an unknown model in the list: no error")
	}
	all, err := parseArchFlags(t, true, "--model", ModelsAll, "--resolution", "96").LoadList()
	if err != nil {
		t.Fatal(err)
	}
	names := ReferenceNames()
	if len(all) != len(names) || len(names) < 2 {
		t.Fatalf("--model all: %d archs, want the %d reference models", len(all), len(names))
	}
	for i, a := range all {
		if a.Name != names[i] || a.Resolution != 96 {
			t.Errorf("--model all: arch %d is %s at %d px, want %s at 96", i, a.Name, a.Resolution, names[i])
		}
	}
	if _, err := parseArchFlags(t, false, "--model", ModelsAll, "--spec", "x.txt").LoadList(); err == nil {
		t.Error("--model all with --spec: no error")
	}
}
