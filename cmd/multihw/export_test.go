package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestExportBadInput: export's flags are checked before the checkpoint is
// read or a file written, with errors naming the problem.
func TestExportBadInput(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.onnx")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--onnx", out}, "missing --checkpoint or --onnx"},
		{[]string{"--checkpoint", "/nonexistent", "--onnx", out, "--opset", "10"}, "unsupported ONNX opset 10: the deployment graph supports opsets 11 to 17 (default 13)"},
		{[]string{"--checkpoint", "/nonexistent", "--onnx", out, "--opset", "21"}, "unsupported ONNX opset 21"},
		{[]string{"--checkpoint", "/nonexistent", "--onnx", out, "--batch", "4"}, "--batch applies to --lowered only"},
		{[]string{"--checkpoint", "/nonexistent", "--onnx", out, "--lowered", "--opset", "13"}, "--opset applies to the deployment graph"},
		{[]string{"--checkpoint", "/nonexistent", "--onnx", out, "--lowered", "--batch", "0"}, "--batch must be positive"},
		{[]string{"--checkpoint", "/nonexistent", "--onnx", out, "--check", "-1"}, "--check must be >= 0"},
		{[]string{"--checkpoint", "/nonexistent", "--onnx", out}, "/nonexistent"},
	} {
		err := runExport(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("multihw export %s: got %v, want an error containing %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}
