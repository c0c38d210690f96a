package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// PythonEnv names a Python interpreter to try first for PythonONNX.
const PythonEnv = "MULTIHW_PYTHON"

// PythonONNX returns a Python interpreter that imports the onnx package, for
// checking exported files with onnx.checker. Debian's python3-onnx (which
// `make setup` installs) serves /usr/bin/python3, which another python3
// earlier on PATH (pyenv, a virtualenv) may shadow, so the candidates are
// $MULTIHW_PYTHON, python3 on PATH and /usr/bin/python3. Without one, t skips
// or, with RequireONNXEnv=1, fails.
func PythonONNX(t testing.TB) string {
	t.Helper()
	var tried []string
	for _, py := range []string{os.Getenv(PythonEnv), "python3", "/usr/bin/python3"} {
		if py == "" {
			continue
		}
		path, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		tried = append(tried, path)
		if exec.Command(path, "-c", "import onnx.checker").Run() == nil {
			return path
		}
	}
	if os.Getenv(RequireONNXEnv) == "1" {
		t.Fatalf("%s=1 but no Python with the onnx package (tried %v; `make setup` installs Debian's python3-onnx)", RequireONNXEnv, tried)
	}
	t.Skipf("no Python with the onnx package (tried %v; set %s=1 to make this a failure)", tried, RequireONNXEnv)
	return ""
}
