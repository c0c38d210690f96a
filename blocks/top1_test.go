package blocks

import "testing"

func TestPublishedTop1(t *testing.T) {
	for name, v := range publishedTop1 {
		if _, err := LookupReference(name); err != nil {
			t.Errorf("accuracy of %q: %v", name, err)
		}
		if !(v.Percent > 40 && v.Percent < 90) || v.Source == "" {
			t.Errorf("%s: top-1 %g%% from %q is not a plausible sourced ImageNet accuracy", name, v.Percent, v.Source)
		}
	}
	if v, ok := PublishedTop1("multi_avg"); !ok || v.Percent != 75.27 {
		t.Errorf("multi_avg: %v %v, want 75.27 (Chu et al. 2021)", v, ok)
	}
	if _, ok := PublishedTop1("no_such_model"); ok {
		t.Error("unknown model has an accuracy")
	}
}
