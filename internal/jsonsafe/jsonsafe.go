// Package jsonsafe encodes values as JSON with encoding/json's rules, except
// that a float that is NaN or infinite becomes null instead of an error.
//
// Why: the commands' --json results hold statistics that are undefined for
// some inputs (a Spearman correlation of a constant column, the held-out
// error of a target with no rows, a standard deviation of one seed), kept as
// NaN so that the text output can say "n/a". encoding/json refuses NaN, so
// such a result failed to print after all its work was done. Use it for
// results printed for people and tools, not for state files a program reads
// back (decoding null into a float64 leaves 0, silently): those declare their
// undefined fields as stats.Float, which decodes null as NaN.
package jsonsafe

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Marshal is json.Marshal, with non-finite floats written as null. A value
// without such floats gives json.Marshal's bytes (it is tried first).
func Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	var unsupported *json.UnsupportedValueError
	if err == nil || !errors.As(err, &unsupported) {
		return b, err
	}
	t, err := tree(reflect.ValueOf(v))
	if err != nil {
		return nil, err
	}
	return json.Marshal(t)
}

// MarshalIndent is Marshal, indented as json.MarshalIndent does.
func MarshalIndent(v any, prefix, indent string) ([]byte, error) {
	b, err := Marshal(v)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, prefix, indent); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// object is a JSON object whose keys keep the order of a struct's fields.
type object struct {
	keys []string
	vals []any
}

func (o *object) MarshalJSON() ([]byte, error) {
	var b []byte
	b = append(b, '{')
	for i, k := range o.keys {
		if i > 0 {
			b = append(b, ',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(o.vals[i])
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, kb...), ':'), vb...)
	}
	return append(b, '}'), nil
}

// tree converts v into values encoding/json encodes as it would encode v,
// with non-finite floats as nil.
func tree(v reflect.Value) (any, error) {
	if !v.IsValid() {
		return nil, nil
	}
	if v.Kind() == reflect.Pointer && v.IsNil() {
		return nil, nil
	}
	// A method with a value receiver is in the value's method set; one with
	// a pointer receiver only counts when the value is addressable (as
	// encoding/json does).
	if v.Type().Implements(marshalerType) {
		return marshalWith(v)
	}
	if v.Kind() != reflect.Pointer && v.CanAddr() && v.Addr().Type().Implements(marshalerType) {
		return marshalWith(v.Addr())
	}
	// encoding/json calls MarshalText itself.
	if v.Type().Implements(textMarshalerType) {
		return v.Interface(), nil
	}
	if v.Kind() != reflect.Pointer && v.CanAddr() && v.Addr().Type().Implements(textMarshalerType) {
		return v.Addr().Interface(), nil
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, nil
		}
		return v.Interface(), nil
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, nil
		}
		return tree(v.Elem())
	case reflect.Struct:
		return structTree(v)
	case reflect.Map:
		return mapTree(v)
	case reflect.Slice:
		if v.IsNil() {
			return nil, nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return v.Interface(), nil // base64, as encoding/json writes []byte
		}
		fallthrough
	case reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			e, err := tree(v.Index(i))
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	}
	return v.Interface(), nil
}

// marshalWith returns the JSON of a json.Marshaler: its own bytes (a
// Marshaler whose encoding fails on a NaN inside still fails), null for a nil
// pointer or interface, as encoding/json writes them.
func marshalWith(v reflect.Value) (any, error) {
	if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() {
		return nil, nil
	}
	b, err := v.Interface().(json.Marshaler).MarshalJSON()
	if err != nil {
		return nil, err
	}
	return json.RawMessage(b), nil
}

// field is one JSON member of a struct, found at an embedding depth.
type field struct {
	name   string
	v      reflect.Value
	depth  int
	tagged bool
}

// structTree lists the struct's members in encoding/json's order: exported
// fields by their tag names (skipping "-" and empty omitempty values), the
// fields of untagged embedded structs promoted. Of several fields with one
// name, the shallowest wins; at equal depth the one tagged alone, else none.
func structTree(v reflect.Value) (any, error) {
	var fields []field
	collect(v, 0, &fields)
	winner := map[string]int{} // name → index in fields, -1: dropped
	for i, f := range fields {
		j, ok := winner[f.name]
		switch {
		case !ok:
			winner[f.name] = i
		case j >= 0 && f.depth < fields[j].depth:
			winner[f.name] = i
		case j >= 0 && f.depth == fields[j].depth:
			switch {
			case f.tagged && !fields[j].tagged:
				winner[f.name] = i
			case f.tagged == fields[j].tagged:
				winner[f.name] = -1 - f.depth // ambiguous at this depth
			}
		case j < 0 && f.depth < -1-j:
			winner[f.name] = i
		}
	}
	o := &object{}
	for i, f := range fields {
		if winner[f.name] != i {
			continue
		}
		e, err := tree(f.v)
		if err != nil {
			return nil, err
		}
		o.keys, o.vals = append(o.keys, f.name), append(o.vals, e)
	}
	return o, nil
}

func collect(v reflect.Value, depth int, out *[]field) {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fv := v.Field(i)
		if sf.Anonymous && name == "" {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if fv.Kind() == reflect.Pointer {
					if fv.IsNil() {
						continue
					}
					fv = fv.Elem()
				}
				collect(fv, depth+1, out)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if strings.Contains(","+opts+",", ",omitempty,") && isEmpty(fv) {
			continue
		}
		if strings.Contains(","+opts+",", ",omitzero,") && fv.IsZero() {
			continue
		}
		if strings.Contains(","+opts+",", ",string,") {
			fv = reflect.ValueOf(stringOption(fv))
		}
		tagged := name != ""
		if name == "" {
			name = sf.Name
		}
		*out = append(*out, field{name: name, v: fv, depth: depth, tagged: tagged})
	}
}

// isEmpty is encoding/json's omitempty test.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// stringOption is the ",string" option's quoted scalar.
func stringOption(v reflect.Value) any {
	switch v.Kind() {
	case reflect.String:
		b, _ := json.Marshal(v.String())
		return string(b)
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
	}
	b, _ := json.Marshal(v.Interface())
	return string(b)
}

// mapTree converts a map with keys as encoding/json writes them (strings,
// integers, TextMarshalers); encoding/json sorts the keys.
func mapTree(v reflect.Value) (any, error) {
	if v.IsNil() {
		return nil, nil
	}
	out := make(map[string]any, v.Len())
	it := v.MapRange()
	for it.Next() {
		k, err := mapKey(it.Key())
		if err != nil {
			return nil, err
		}
		e, err := tree(it.Value())
		if err != nil {
			return nil, err
		}
		out[k] = e
	}
	return out, nil
}

func mapKey(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if tm, ok := k.Interface().(encoding.TextMarshaler); ok {
		if k.Kind() == reflect.Pointer && k.IsNil() {
			return "", nil
		}
		b, err := tm.MarshalText()
		return string(b), err
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", fmt.Errorf("jsonsafe: unsupported map key type %s", k.Type())
}
