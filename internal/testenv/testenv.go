// Package testenv decides what a test does when something it needs is not
// installed: skip on a developer's machine, fail where the environment
// promises it (the Makefile sets the variables below, and `make setup`
// installs what they require), so that a missing dependency cannot turn a
// test run green by skipping.
package testenv

import (
	"os"
	"testing"
)

// RequireONNXEnv makes tests that need ONNX Runtime fail instead of skip
// when it cannot be loaded.
const RequireONNXEnv = "MULTIHW_REQUIRE_ONNX"

// NeedONNX skips (or, with RequireONNXEnv=1, fails) t when err, the error
// of loading ONNX Runtime, is not nil.
func NeedONNX(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv(RequireONNXEnv) == "1" {
		t.Fatalf("%s=1 but ONNX Runtime cannot be loaded: %v (make setup installs it into .deps/onnxruntime)", RequireONNXEnv, err)
	}
	t.Skipf("ONNX Runtime unavailable (set %s=1 to make this a failure): %v", RequireONNXEnv, err)
}
