package jsonsafe

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"
)

type celsius float64

func (c celsius) MarshalJSON() ([]byte, error) { return []byte(`"°"`), nil }

type ptrMarshaler struct{ N int }

func (p *ptrMarshaler) MarshalJSON() ([]byte, error) { return []byte(`{"p":1}`), nil }

type key struct{ a, b int }

func (k key) MarshalText() ([]byte, error) {
	return []byte("k" + string(rune('0'+k.a)) + string(rune('0'+k.b))), nil
}

type Inner struct {
	X      float64 `json:"x"`
	Shadow string  `json:"shadow"`
	Both   int
	Lower  int `json:"-"`
}

type other struct {
	Both int
	Y    float32 `json:"y,omitempty"`
}

type sample struct {
	Inner
	*other
	Named     Inner              `json:"named"`
	Shadow    string             `json:"shadow"`
	F         float64            `json:"f"`
	F32       float32            `json:"f32"`
	Omit      float64            `json:"omit,omitempty"`
	Zero      int                `json:"zero,omitempty"`
	Str       int                `json:"str,string"`
	Skip      int                `json:"-"`
	Dash      int                `json:"-,"`
	unexp     int                //nolint:unused // encoding/json skips it
	Slice     []float64          `json:"slice"`
	NilSlice  []int              `json:"nil_slice"`
	Bytes     []byte             `json:"bytes"`
	Array     [2]float64         `json:"array"`
	Map       map[string]float64 `json:"map"`
	IntMap    map[int]string     `json:"int_map"`
	TextMap   map[key]int        `json:"text_map"`
	NilMap    map[string]int     `json:"nil_map"`
	Any       any                `json:"any"`
	Ptr       *float64           `json:"ptr"`
	NilPtr    *Inner             `json:"nil_ptr"`
	Marshaler celsius            `json:"marshaler"`
	PtrMarsh  ptrMarshaler       `json:"ptr_marsh"`
	When      time.Time          `json:"when"`
	HTML      string             `json:"html"`
	Nested    []map[string]any   `json:"nested"`
	NilMarsh  json.Marshaler     `json:"nil_marsh"`
	SetMarsh  json.Marshaler     `json:"set_marsh"`
}

func newSample(f float64) *sample {
	p := f
	return &sample{
		Inner: Inner{X: f, Shadow: "inner", Both: 1, Lower: 2}, other: &other{Both: 3, Y: float32(f)},
		Named: Inner{X: f}, Shadow: "outer", F: f, F32: float32(f), Str: 7, Skip: 1, Dash: 2, unexp: 3,
		Slice: []float64{1, f, 2}, Bytes: []byte("hi"), Array: [2]float64{f, 1},
		Map: map[string]float64{"b": f, "a": 1}, IntMap: map[int]string{2: "x", -1: "y"}, TextMap: map[key]int{{1, 2}: 3},
		Any: map[string]any{"v": f, "w": []any{f, "s"}}, Ptr: &p, Marshaler: 5, PtrMarsh: ptrMarshaler{1},
		When: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), HTML: "<a&b>", Nested: []map[string]any{{"z": f}}, SetMarsh: celsius(1),
	}
}

// With finite floats the converted tree encodes to encoding/json's own bytes:
// the fallback follows its field order, names, options and embedding rules.
func TestTreeMatchesEncodingJSON(t *testing.T) {
	for _, v := range []any{newSample(0.25), *newSample(-3), newSample(0), []any{nil, 1.5, "x"}, map[string]*sample{"s": newSample(1)},
		struct{}{}, (*sample)(nil), 2.5} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := tree(reflect.ValueOf(v))
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(tr)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%T:\n got %s\nwant %s", v, got, want)
		}
	}
}

// Non-finite floats become null wherever they are (fields, slices, arrays,
// maps, interfaces, pointers, embedded structs); every other member is as
// encoding/json writes it.
func TestNonFiniteAsNull(t *testing.T) {
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := json.Marshal(newSample(bad)); err == nil {
			t.Fatal("encoding/json accepted a non-finite float: the test shows nothing")
		}
		got, err := MarshalIndent(newSample(bad), "", "  ")
		if err != nil {
			t.Fatalf("%g: %v", bad, err)
		}
		var m map[string]any
		if err := json.Unmarshal(got, &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"x", "f", "f32", "ptr"} {
			if v, ok := m[k]; !ok || v != nil {
				t.Errorf("%g: %q = %v, want null", bad, k, v)
			}
		}
		// y is omitempty: a non-finite float is not empty, so it is there.
		if v, ok := m["y"]; !ok || v != nil {
			t.Errorf("%g: y = %v (present %v), want null", bad, v, ok)
		}
		if s := m["slice"].([]any); s[0] != 1.0 || s[1] != nil || s[2] != 2.0 {
			t.Errorf("%g: slice %v", bad, s)
		}
		if a := m["array"].([]any); a[0] != nil || a[1] != 1.0 {
			t.Errorf("%g: array %v", bad, a)
		}
		if mm := m["map"].(map[string]any); mm["b"] != nil || mm["a"] != 1.0 {
			t.Errorf("%g: map %v", bad, mm)
		}
		if w := m["any"].(map[string]any)["w"].([]any); w[0] != nil || w[1] != "s" {
			t.Errorf("%g: any %v", bad, w)
		}
		if m["shadow"] != "outer" || m["str"] != "7" || m["marshaler"] != "°" || m["html"] != "<a&b>" {
			t.Errorf("%g: other members %v", bad, m)
		}
		if _, ok := m["Both"]; ok {
			t.Errorf("%g: Both is ambiguous at depth 1 and must be dropped", bad)
		}
	}
}

// Marshal gives encoding/json's bytes when it can, and its error when the
// failure is not a non-finite float.
func TestMarshalFallsBackOnlyForFloats(t *testing.T) {
	v := newSample(1)
	want, _ := json.Marshal(v)
	if got, err := Marshal(v); err != nil || string(got) != string(want) {
		t.Errorf("finite value: %s, %v", got, err)
	}
	if _, err := Marshal(map[string]any{"c": make(chan int)}); err == nil {
		t.Error("a channel encoded")
	}
}
