package demo

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestRunChecksFirst: bad settings are refused before the output directory
// is created or touched.
func TestRunChecksFirst(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{Objective: "avg", TrainSteps: 0}, "--train-steps must be positive, got 0"},
		{Config{Objective: "typo", TrainSteps: 1}, `--objective must be avg or max, got "typo"`},
	} {
		tc.c.Out = filepath.Join(t.TempDir(), "demo")
		err := Run(context.Background(), tc.c, io.Discard, io.Discard)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%+v: error %v, want %q", tc.c, err, tc.want)
		}
		if _, err := os.Stat(tc.c.Out); !os.IsNotExist(err) {
			t.Errorf("%+v: the output directory was created (%v)", tc.c, err)
		}
	}
}

func TestSearchConfig(t *testing.T) {
	cfg, err := Config{Objective: "max", TrainSteps: 5, Seed: 3}.search()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Objective != "max" || cfg.Seed != 3 {
		t.Errorf("search() objective %q seed %d, want max and 3", cfg.Objective, cfg.Seed)
	}
}

// TestKindLegacy: a directory of only search/ and train/ is an earlier demo's.
func TestKindLegacy(t *testing.T) {
	if !Kind.Legacy([]string{"search", "train"}) || !Kind.Legacy(nil) || Kind.Legacy([]string{"search", "notes.txt"}) {
		t.Error("Kind.Legacy: want true for search/train only, false with other files")
	}
}
