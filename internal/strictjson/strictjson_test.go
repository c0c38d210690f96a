package strictjson

import (
	"strings"
	"testing"
	"time"
)

type block struct {
	Kernel int `json:"kernel"`
}

type doc struct {
	Resolution int              `json:"resolution"`
	Expand     float64          `json:"expand,omitempty"`
	Name       string           `json:"name,omitempty"`
	Blocks     []block          `json:"blocks"`
	Targets    map[string]block `json:"targets,omitempty"`
	Duration   time.Duration    `json:"duration_ns,omitempty"`
	Untagged   int
}

// TestUnmarshal checks every class of input that encoding/json accepts
// silently: each must be an error naming the place, and valid documents
// (also with a byte-order mark) decode as encoding/json would.
func TestUnmarshal(t *testing.T) {
	var d doc
	if err := Unmarshal([]byte("\ufeff{\"resolution\": 32, \"blocks\": [{\"kernel\": 3}], \"duration_ns\": 1000, \"Untagged\": 2}"), &d); err != nil {
		t.Fatalf("valid document with a BOM: %v", err)
	}
	if d.Resolution != 32 || len(d.Blocks) != 1 || d.Blocks[0].Kernel != 3 || d.Duration != time.Microsecond || d.Untagged != 2 {
		t.Errorf("decoded %+v", d)
	}
	for _, c := range []struct{ in, want string }{
		{`{"Resolution": 32}`, `unknown key "Resolution" (keys are case-sensitive: did you mean "resolution"?)`},
		{`{"blocks": [{"kernel": 3, "KERNEL": 5}]}`, `at /blocks/0: unknown key "KERNEL" (keys are case-sensitive: did you mean "kernel"?)`},
		{`{"untagged": 1}`, `did you mean "Untagged"?`},
		{`{"resolutoin": 32}`, `unknown key "resolutoin"`},
		{`{"resolution": 32, "resolution": 64}`, `key "resolution" given twice`},
		{`{"targets": {"a": {}, "a": {"kernel": 1}}}`, `at /targets: key "a" given twice`},
		{`{"resolution": 32} {"resolution": 64}`, `after top-level value`},
		{`{"resolution": 32} x`, `after top-level value`},
		{`{"resolution": 1e400}`, `at /resolution: the number 1e400 does not fit`},
		{`{"expand": 1e400}`, `at /expand: the number 1e400 does not fit`},
		{`{"resolution": 3.5}`, `at /resolution: the number 3.5 does not fit`},
		{`{"resolution": NaN}`, `invalid character`},
		{`{"expand": Infinity}`, `invalid character`},
		{`{"resolution": "32"}`, `at /resolution: a JSON string does not fit`},
		{"{\"name\": \"\xff\"}", `invalid UTF-8`},
		{``, `empty document`},
		{"\ufeff  ", `empty document`},
		{`{"resolution": 32`, `unexpected EOF`},
	} {
		var d doc
		err := Unmarshal([]byte(c.in), &d)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got error %v, want one containing %q", c.in, err, c.want)
		}
	}
}
