// Package strictjson decodes the JSON files people write by hand or keep
// around (architecture specs, search spaces, hardware parameters, measured
// tables, run headers) so that nothing in them is silently ignored or
// reinterpreted.
//
// encoding/json (v1) accepts a key in any letter case ("Resolution" sets
// "resolution"), keeps the last of duplicated keys, and its Decoder ignores
// whatever follows the first value. Each of these turns a typo into a
// different architecture without an error. Unmarshal decodes with v1's
// semantics otherwise (the files were written by v1), using the standard
// library's encoding/json/v2 options to reject those cases.
package strictjson

import (
	"bytes"
	"encoding/json"
	"encoding/json/jsontext"
	jsonv2 "encoding/json/v2"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// bom is the UTF-8 byte-order mark some editors put at the start of a file.
var bom = []byte("\xef\xbb\xbf")

// options are v1's semantics with the lenient parts turned off.
var options = jsonv2.JoinOptions(
	json.DefaultOptionsV1(),
	jsonv2.RejectUnknownMembers(true),
	jsonv2.MatchCaseInsensitiveNames(false),
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
	json.ReportErrorsWithLegacySemantics(false),
)

// Unmarshal decodes the single JSON value in data into v. A leading UTF-8
// byte-order mark is skipped. Errors: a key that is not a field of the target
// (also when it differs only in letter case, which the error points out), a
// key given twice in one object, anything but white space after the value,
// invalid UTF-8, and numbers that do not fit the field (1e400, 3.5 for an
// integer). JSON has no NaN or infinity literals, so a decoded float is
// finite.
func Unmarshal(data []byte, v any) error {
	data = bytes.TrimPrefix(data, bom)
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("empty document (no JSON value)")
	}
	err := jsonv2.Unmarshal(data, v, options)
	if err == nil {
		return nil
	}
	return describe(err)
}

// describe rewrites the decoder's error into one line that says where the
// problem is (a JSON pointer such as /blocks/3/kernel) without Go type names.
func describe(err error) error {
	if se, ok := errors.AsType[*jsonv2.SemanticError](err); ok {
		if se.Err == jsonv2.ErrUnknownName {
			name := se.JSONPointer.LastToken()
			msg := fmt.Sprintf("at %s: unknown key %q", where(se.JSONPointer.Parent()), name)
			if known := caseFold(se.GoType, name); known != "" {
				msg += fmt.Sprintf(" (keys are case-sensitive: did you mean %q?)", known)
			}
			return errors.New(msg)
		}
		what := "a JSON " + se.JSONKind.String()
		if se.JSONKind == '0' && se.JSONValue != nil {
			what = "the number " + string(se.JSONValue)
		}
		msg := fmt.Sprintf("at %s: %s does not fit", where(se.JSONPointer), what)
		if se.GoType != nil {
			msg += " a field of type " + se.GoType.String()
		}
		if se.Err != nil {
			msg += ": " + se.Err.Error()
		}
		return errors.New(msg)
	}
	if se, ok := errors.AsType[*jsontext.SyntacticError](err); ok {
		if strings.Contains(se.Err.Error(), "duplicate") {
			return fmt.Errorf("at %s: key %q given twice", where(se.JSONPointer.Parent()), se.JSONPointer.LastToken())
		}
		return fmt.Errorf("at byte %d: %v", se.ByteOffset, se.Err)
	}
	return err
}

func where(p jsontext.Pointer) string {
	if p == "" {
		return "the top level"
	}
	return string(p)
}

// caseFold returns the JSON name of a field of struct type t that equals
// name up to letter case ("" if none).
func caseFold(t reflect.Type, name string) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return ""
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" {
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		if strings.EqualFold(tag, name) {
			return tag
		}
	}
	return ""
}
