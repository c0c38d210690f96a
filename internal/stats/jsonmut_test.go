package stats

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/multihw/multihw/internal/jsonmut"
)

// TestFloatRefusesMalformed: statistics as a results file holds them (a
// Float, an Interval, an undefined one as null), changed in one node at a
// time, are refused or read, never a panic.
func TestFloatRefusesMalformed(t *testing.T) {
	type file struct {
		Tau       Float    `json:"tau"`
		TauCI     Interval `json:"tau_ci"`
		Undefined Float    `json:"undefined"`
		NaNCI     Interval `json:"nan_ci"`
		Regrets   []Float  `json:"regrets"`
	}
	doc, err := json.Marshal(file{Tau: 0.5, TauCI: Interval{0.1, 0.9}, Undefined: Float(math.NaN()), NaNCI: NaNInterval, Regrets: []Float{0, 0.004}})
	if err != nil {
		t.Fatal(err)
	}
	jsonmut.Check(t, "statistics", doc, func(b []byte) error {
		var f file
		return json.Unmarshal(b, &f)
	})
}
