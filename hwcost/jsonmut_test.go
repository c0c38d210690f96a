package hwcost

import (
	"testing"

	"github.com/multihw/multihw/internal/jsonmut"
)

// TestReadersRefuseMalformed: the parameter, target and reference-device
// files, each changed in one node at a time (null, another type, numbers
// past their ranges, a member deleted), are refused or read, never a panic.
// A null posterior in a parameter file panicked before.
func TestReadersRefuseMalformed(t *testing.T) {
	rs, err := ReferenceDevices()
	if err != nil {
		t.Fatal(err)
	}
	tf := &TargetFile{Target: "my-phone", Device: "a phone", Precision: Int8, Params: DefaultParams().Targets["pixel4-cpu"],
		Posterior: DefaultParams().Posteriors["pixel4-cpu"]}
	for _, tc := range []struct {
		name string
		doc  []byte
		read func([]byte) error
	}{
		{"parameters", DefaultParams().JSON(), func(b []byte) error { _, err := ParseParams(b); return err }},
		{"target file", tf.JSON(), func(b []byte) error { _, err := ParseTargetFile(b); return err }},
		{"reference devices", rs.JSON(), func(b []byte) error { _, err := ParseReferenceSet(b); return err }},
	} {
		jsonmut.Check(t, tc.name, tc.doc, tc.read)
	}
}
