package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/multihw/multihw/blocks"
)

// TestArchOutputParses: `multihw arch`'s output (text form, then the layer
// table and totals as comments) is itself a spec file that reads back as the
// same architecture, for every reference model and with the size flags; its
// JSON is refused as a spec with a pointer to the "arch" field.
func TestArchOutputParses(t *testing.T) {
	for _, name := range blocks.ReferenceNames() {
		want, err := blocks.Model(name)
		if err != nil {
			t.Fatal(err)
		}
		code, out := runCaptured(t, "arch", "--model", name)
		if code != 0 {
			t.Fatalf("arch --model %s: exit %d", name, code)
		}
		if !strings.Contains(string(out), "# "+want.Name+" at ") {
			t.Fatalf("arch --model %s: no totals line in\n%s", name, out)
		}
		got, err := blocks.Parse(string(out))
		if err != nil {
			t.Fatalf("arch --model %s: its output does not parse: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("arch --model %s reads back as\n%s\nwant\n%s", name, got, want)
		}
	}
	args := []string{"arch", "--model", "multi_avg", "--width", "0.75", "--resolution", "160", "--classes", "10"}
	_, full := runCaptured(t, args...)
	_, text := runCaptured(t, append(args, "--text")...)
	a, err := blocks.Parse(string(full))
	if err != nil {
		t.Fatal(err)
	}
	b, err := blocks.Parse(string(text))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) || a.Resolution != 160 || a.Classes != 10 {
		t.Fatalf("arch with size flags reads back as\n%s\n--text as\n%s", a, b)
	}
	_, js := runCaptured(t, "arch", "--model", "multi_avg", "--json")
	if _, err := blocks.ParseJSON(js); err == nil || !strings.Contains(err.Error(), `its "arch" field`) {
		t.Fatalf("arch --json output as a spec: %v", err)
	}
	if code, _ := runCaptured(t, "arch", "--model", "multi_avg", "--json", "--text"); code == 0 {
		t.Fatal("arch --json --text accepted")
	}
}
