package guard

import "testing"

func panics() (err error) {
	defer Recover(&err, "demo")
	panic("boom")
}

func returns() (err error) {
	defer Recover(&err, "demo")
	return nil
}

func TestRecover(t *testing.T) {
	if err := panics(); err == nil || err.Error() != "demo: internal error: boom" {
		t.Errorf("panic: got %v, want demo: internal error: boom", err)
	}
	if err := returns(); err != nil {
		t.Errorf("no panic: got %v, want nil", err)
	}
}
