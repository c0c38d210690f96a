package measure

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/multihw/multihw/hwcost"
)

// TestAdaptNoTable: adapting to a table that was never measured says where it
// looked and how to measure; "local" looks at the current backend's table.
func TestAdaptNoTable(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.json")
	t.Setenv(EnvTable, missing)
	for _, path := range []string{missing, "local"} {
		_, err := Adapt(path, hwcost.AdaptConfig{Train: 3})
		if err == nil || !strings.Contains(err.Error(), "no measured table at "+missing) || !strings.Contains(err.Error(), "multihw cost measure") {
			t.Errorf("Adapt(%q): got %v, want the missing table named and the command to measure it", path, err)
		}
	}
}
