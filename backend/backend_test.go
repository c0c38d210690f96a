package backend

import (
	"bytes"
	"strings"
	"testing"
)

func TestDefaultIsGo(t *testing.T) {
	t.Setenv(EnvVar, "")
	if c := Config(); c != "go" {
		t.Fatalf("Config() = %q, want go", c)
	}
	b, err := New(Config())
	if err != nil {
		t.Fatal(err)
	}
	if !IsGo(b) {
		t.Errorf("IsGo(%s/%s) = false", b.Name(), b.String())
	}
}

func TestMissingXLAFallsBackWithOneLine(t *testing.T) {
	var buf bytes.Buffer
	old := Notices
	Notices = &buf
	defer func() { Notices = old }()
	// No PJRT plugin can be installed here (no internet): New must fall back
	// to the Go backend and say so in one line. (Where XLA is installed, New
	// returns it and this test checks nothing more.)
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", t.TempDir())
	t.Setenv("GOMLX_NO_AUTO_INSTALL", "1")
	b, err := New("xla:cpu")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("backend %s, notice %q", b.String(), buf.String())
	if IsGo(b) {
		msg := buf.String()
		if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "falling back") || !strings.Contains(msg, "xla:cpu") {
			t.Errorf("fallback notice should be one line naming xla:cpu, got %q", msg)
		}
	}
}

func TestUnknownBackendIsAnError(t *testing.T) {
	if _, err := New("tpu-magic"); err == nil || !strings.Contains(err.Error(), "valid") {
		t.Errorf("want an error listing valid backends, got %v", err)
	}
}

func TestCapabilitiesOfTheGoBackend(t *testing.T) {
	b, err := New("go")
	if err != nil {
		t.Fatal(err)
	}
	if !PrefersLoweredConvolutions(b) || !PrefersLoweredConvolutions(nil) {
		t.Errorf("the Go backend (and no backend yet) should prefer the lowered convolutions")
	}
	if Asynchronous(b) || IsONNX(b) {
		t.Errorf("the Go backend is synchronous and not ONNX Runtime")
	}
}
