package hwcost

import (
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
)

func parseMetricFlags(t *testing.T, args ...string) *MetricFlags {
	t.Helper()
	fs := flag.NewFlagSet("cost", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f MetricFlags
	f.Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return &f
}

func TestMetricFlags(t *testing.T) {
	m, err := parseMetricFlags(t, "--hardware", "pixel4-cpu,pixel4-dsp", "--reference-resolution", "160", "--weights", "3,1").Metric()
	if err != nil {
		t.Fatal(err)
	}
	// The weights are normalised to sum 1: 3/4 and 1/4.
	if m.Reference() != "mobilenet_v2/160" || !reflect.DeepEqual(m.Weights(), []float64{0.75, 0.25}) {
		t.Errorf("Metric(): reference %q weights %v, want mobilenet_v2/160 and [0.75 0.25]", m.Reference(), m.Weights())
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--reference-resolution", "-1"}, "--reference-resolution must be positive, got -1"},
		{[]string{"--reference-resolution", "0"}, "--reference-resolution must be positive, got 0"}, // not the default
		{[]string{"--weights", "x"}, `--weights: "x" is not a number`},
		{[]string{"--reference", "nosuch"}, "--reference: "},
	} {
		if _, err := parseMetricFlags(t, tc.args...).Metric(); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}
