package export

import (
	"flag"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

func TestFlagsOptions(t *testing.T) {
	dir := t.TempDir()
	onnx := filepath.Join(dir, "m.onnx")
	for _, tc := range []struct {
		args []string
		want Options
		err  string
	}{
		{[]string{}, Options{Opset: DefaultOpset}, ""},
		{[]string{"--opset", "17", "--check", "2"}, Options{Opset: 17, CheckImages: 2}, ""},
		{[]string{"--lowered", "--batch", "3"}, Options{Lowered: true, Batch: 3}, ""},
		{[]string{"--lowered", "--opset", "13"}, Options{}, "--opset applies to the deployment graph"},
		{[]string{"--batch", "3"}, Options{}, "--batch applies to --lowered only"},
		{[]string{"--lowered", "--batch", "0"}, Options{}, "--batch must be positive"},
		{[]string{"--check", "-1"}, Options{}, "--check must be >= 0"},
		{[]string{"--opset", "99"}, Options{}, "--opset: unsupported ONNX opset 99"},
	} {
		fs := flag.NewFlagSet("export", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var f Flags
		f.Register(fs)
		if err := fs.Parse(append([]string{"--checkpoint", "ck", "--onnx", onnx}, tc.args...)); err != nil {
			t.Fatal(err)
		}
		got, err := f.Options(fs)
		if tc.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
				t.Errorf("%v: error %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%v: Options() = %+v, %v; want %+v", tc.args, got, err, tc.want)
		}
	}
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	var f Flags
	f.Register(fs)
	_ = fs.Parse([]string{"--checkpoint", "ck", "--onnx", dir})
	if _, err := f.Options(fs); err == nil || !strings.Contains(err.Error(), "is not a regular file") {
		t.Errorf("--onnx a directory: error %v", err)
	}
}
