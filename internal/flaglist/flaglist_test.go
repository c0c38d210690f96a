package flaglist

import (
	"errors"
	"flag"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestRepeated(t *testing.T) {
	if v, dup := Repeated([]float64{0.3, 0.5, 0.3}); !dup || v != 0.3 {
		t.Errorf("Repeated(0.3, 0.5, 0.3) = %v, %v", v, dup)
	}
	if v, dup := Repeated([]string{"a", "b", "c", "b", "a"}); !dup || v != "b" { // the first repeat found
		t.Errorf("Repeated(a, b, c, b, a) = %q, %v", v, dup)
	}
	if _, dup := Repeated([]string{"a", "b"}); dup {
		t.Error("Repeated(a, b) found a repeat")
	}
	if _, dup := Repeated[int](nil); dup {
		t.Error("Repeated(nil) found a repeat")
	}
}

func TestSplit(t *testing.T) {
	if got := Split(" a, ,b,, c "); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("Split = %q, want [a b c]", got)
	}
	if got := Split(" , "); got != nil {
		t.Errorf("Split of blanks = %q, want nil", got)
	}
}

func TestFloats(t *testing.T) {
	got, err := Floats("0.3, 1e-2,7")
	if err != nil || !reflect.DeepEqual(got, []float64{0.3, 0.01, 7}) {
		t.Errorf("Floats = %v, %v", got, err)
	}
	if _, err := Floats("1,x"); err == nil || err.Error() != `"x" is not a number` {
		t.Errorf("Floats(1,x) error = %v", err)
	}
}

func TestSeeds(t *testing.T) {
	got, err := Seeds("1,18446744073709551615", "seeds")
	if err != nil || !reflect.DeepEqual(got, []uint64{1, 1<<64 - 1}) {
		t.Errorf("Seeds = %v, %v", got, err)
	}
	for _, bad := range []string{"-1", "1.5", "x"} {
		if _, err := Seeds(bad, "seeds"); err == nil || err.Error() != fmt.Sprintf("--seeds: %q is not a seed", bad) {
			t.Errorf("Seeds(%q) error = %v", bad, err)
		}
	}
}

func TestInts(t *testing.T) {
	got, err := Ints(" 5,10, -3 ,", "curve")
	if err != nil || !reflect.DeepEqual(got, []int{5, 10, -3}) {
		t.Errorf("Ints = %v, %v", got, err)
	}
	for _, bad := range []string{"1.5", "x", "99999999999999999999"} {
		if _, err := Ints(bad, "curve"); err == nil || err.Error() != fmt.Sprintf("--curve: %q is not an integer", bad) {
			t.Errorf("Ints(%q) error = %v", bad, err)
		}
	}
}

func TestPairs(t *testing.T) {
	got, err := Pairs("a=x/y, b=z", "search")
	if err != nil || !reflect.DeepEqual(got, [][2]string{{"a", "x/y"}, {"b", "z"}}) {
		t.Errorf("Pairs = %v, %v", got, err)
	}
	for _, bad := range []string{"a", "=x", "a="} {
		if _, err := Pairs(bad, "search"); err == nil || err.Error() != fmt.Sprintf("--search: %q is not NAME=DIR", bad) {
			t.Errorf("Pairs(%q) error = %v", bad, err)
		}
	}
}

func TestOrEmpty(t *testing.T) {
	if got := fmt.Sprint(OrEmpty(nil)); got != "empty list" {
		t.Errorf("OrEmpty(nil) = %q", got)
	}
	e := errors.New("bad")
	if got := OrEmpty(e); got != e {
		t.Errorf("OrEmpty(err) = %v", got)
	}
}

func TestGiven(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Int("a", 1, "")
	fs.Int("b", 1, "")
	if err := fs.Parse([]string{"-b", "1"}); err != nil {
		t.Fatal(err)
	}
	// -b given with its default value counts; -a left alone does not.
	if got := Given(fs); !reflect.DeepEqual(got, map[string]bool{"b": true}) {
		t.Errorf("Given = %v, want only b", got)
	}
}

func TestNotZero(t *testing.T) {
	for _, tc := range []struct {
		args []string
		bad  string // the flag named in the error; "" for none
	}{
		{nil, ""}, // nothing given: the defaults apply
		{[]string{"-n", "3"}, ""},
		{[]string{"-x", "0.5"}, ""},
		{[]string{"-free", "0"}, ""}, // not one of the named flags: 0 is a value
		{[]string{"-n", "0"}, "--n"},
		{[]string{"-x", "0.0"}, "--x"},
		{[]string{"-x", "-0"}, "--x"},
		{[]string{"-n", "2", "-x", "0"}, "--x"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.Int("n", 0, "count (default: computed)")
		fs.Float64("x", 0, "rate (default: computed)")
		fs.Int("free", 0, "0 means none")
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		err := NotZero(fs, "n", "x")
		switch {
		case tc.bad == "" && err != nil:
			t.Errorf("%v: unexpected error %v", tc.args, err)
		case tc.bad != "" && (err == nil || !strings.Contains(err.Error(), tc.bad+" must be positive")):
			t.Errorf("%v: error %v, want one naming %s", tc.args, err, tc.bad)
		}
	}
}

func TestUnusedAndOnly(t *testing.T) {
	parse := func(args ...string) *flag.FlagSet {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		for _, name := range []string{"a", "b", "c"} {
			fs.Int(name, 1, "")
		}
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return fs
	}
	modes := func(chosen bool) []Mode {
		return []Mode{{Flags: []string{"a"}, Chosen: true, For: "always"}, {Flags: []string{"b", "c"}, Chosen: chosen, For: "--mode x"}}
	}
	for _, tc := range []struct {
		args   []string
		chosen bool
		want   string // "" for no error
	}{
		{[]string{"-a", "2"}, false, ""},
		{[]string{"-b", "1"}, true, ""},
		// Given with its default value, it is still given, and refused.
		{[]string{"-c", "1"}, false, "--c is for --mode x"},
		{[]string{"-c", "3", "-b", "2"}, false, "--b is for --mode x"}, // the modes' order, not the command line's
	} {
		err := Unused(parse(tc.args...), modes(tc.chosen)...)
		if (err == nil) != (tc.want == "") || (err != nil && err.Error() != tc.want) {
			t.Errorf("Unused %v (chosen %v) = %v, want %q", tc.args, tc.chosen, err, tc.want)
		}
	}
	if err := Only(parse("-a", "1", "-b", "1"), "a baseline", "a", "b"); err != nil {
		t.Errorf("Only: %v", err)
	}
	if err := Only(parse("-c", "1"), "a baseline", "a", "b"); err == nil || err.Error() != "--c does not apply to a baseline" {
		t.Errorf("Only: %v", err)
	}
}
