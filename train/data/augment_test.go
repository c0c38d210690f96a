package data

import "testing"

func TestParseAugment(t *testing.T) {
	for s, want := range map[string]*Augment{"default": nil, "": nil, "none": {}, "pad=4,flip": {Pad: 4, Flip: true}, "flip": {Flip: true}} {
		got, err := ParseAugment(s)
		if err != nil || (got == nil) != (want == nil) || (got != nil && *got != *want) {
			t.Errorf("%q: %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, bad := range []string{"pad=-1", "pad=x", "rotate"} {
		if _, err := ParseAugment(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
