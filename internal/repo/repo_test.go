package repo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "hwcost", "measure"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(RootEnv, root)
	got, err := Find("hwcost/measure", "--report FILE")
	if err != nil || got != filepath.Join(root, "hwcost", "measure") {
		t.Errorf("Find: %q, %v", got, err)
	}
	if _, err := Find("no/such/dir", "--out DIR"); err == nil || !strings.Contains(err.Error(), "--out DIR") || !strings.Contains(err.Error(), root) {
		t.Errorf("missing: %v, want an error naming the candidates and the flag", err)
	}
}
