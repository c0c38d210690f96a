package hwcost

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/multihw/multihw/blocks"
)

// constTarget costs every segment 1 ms (a registered test target).
type constTarget struct{ name string }

func (c constTarget) Name() string { return c.name }
func (c constTarget) Dims() int    { return 1 }
func (c constTarget) AddCost(_ Segment, acc []float64) error {
	acc[0]++
	return nil
}
func (c constTarget) Latency(acc []float64) float64 { return acc[0] }

func TestRegisterTarget(t *testing.T) {
	if err := RegisterTarget("test-const", "one ms per segment", func() (Target, error) { return constTarget{"test-const"}, nil }); err != nil {
		t.Fatal(err)
	}
	if err := RegisterTarget("test-broken", "never available", func() (Target, error) { return nil, errors.New("not measured yet") }); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"test-const", "pixel4-cpu", "paper", "all", "", "a,b"} {
		if err := RegisterTarget(name, "", func() (Target, error) { return constTarget{name}, nil }); err == nil {
			t.Errorf("RegisterTarget(%q): no error", name)
		}
	}
	if names, _ := RegisteredTargets(); !strings.Contains(strings.Join(names, ","), "test-const") {
		t.Errorf("RegisteredTargets() = %v", names)
	}
	m, err := NewMetric().Targets("pixel4-cpu", "test-const", "pixel4-cpu").Done()
	if err != nil {
		t.Fatal(err)
	}
	if got := m.TargetNames(); !reflect.DeepEqual(got, []string{"pixel4-cpu", "test-const"}) {
		t.Errorf("targets %v, want [pixel4-cpu test-const] (order kept, duplicates dropped)", got)
	}
	a, _ := blocks.Model("multi_avg")
	res, err := m.Evaluate(a)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := blocks.Model(DefaultReference)
	if want := float64(len(a.Blocks)+2) / float64(len(ref.Blocks)+2); res.Normalized["test-const"] != want {
		t.Errorf("normalised latency on test-const = %g, want %g (segment counts)", res.Normalized["test-const"], want)
	}
	if _, err := NewMetric().Targets("test-broken").Done(); err == nil || !strings.Contains(err.Error(), "not measured yet") {
		t.Errorf("unavailable registered target: got %v", err)
	}
	if _, err := NewMetric().Targets("nonesuch").Done(); err == nil || !strings.Contains(err.Error(), "test-const") {
		t.Errorf("unknown target: got %v, want an error listing the registered targets too", err)
	}
}
