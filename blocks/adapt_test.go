package blocks

import "testing"

func TestProxyArch(t *testing.T) {
	a, err := Model("multi_avg")
	if err != nil {
		t.Fatal(err)
	}
	strides := func(p *Arch) (stem int, s2 []int) {
		for i, b := range p.Blocks {
			if b.Stride == 2 {
				s2 = append(s2, i)
			}
		}
		return p.Stem.Stride, s2
	}
	_, orig := strides(a)
	var macs []int64
	for _, mode := range Adapts {
		p, err := ProxyArch(a, mode, 28, 28, 1, 10)
		if err != nil {
			t.Fatal(err)
		}
		if p.Resolution != 28 || p.Channels != 1 || p.Classes != 10 || len(p.Blocks) != len(a.Blocks) {
			t.Errorf("%s: input %dx%d, %d classes, %d blocks", mode, p.Resolution, p.Channels, p.Classes, len(p.Blocks))
		}
		stem, s2 := strides(p)
		switch mode {
		case AdaptNone:
			if stem != 2 || len(s2) != len(orig) {
				t.Errorf("none changed strides: stem %d, stride-2 blocks %v", stem, s2)
			}
		case AdaptLast:
			if stem != 2 || len(s2) != len(orig)-1 || s2[len(s2)-1] == orig[len(orig)-1] {
				t.Errorf("last: stem %d, stride-2 blocks %v (original %v)", stem, s2, orig)
			}
		case AdaptStem:
			if stem != 1 || len(s2) != len(orig) {
				t.Errorf("stem: stem %d, stride-2 blocks %v", stem, s2)
			}
		case AdaptSmallInput:
			if stem != 1 || len(s2) != len(orig)-1 || s2[0] == orig[0] {
				t.Errorf("small-input: stem %d, stride-2 blocks %v (original %v)", stem, s2, orig)
			}
		}
		an, err := Analyze(p, 0)
		if err != nil {
			t.Fatal(err)
		}
		macs = append(macs, an.MACs)
	}
	// Each adaptation in Adapts keeps more resolution, so costs more.
	for i := 1; i < len(macs); i++ {
		if macs[i] <= macs[i-1] {
			t.Errorf("MACs of %v: not increasing (%v)", Adapts, macs)
		}
	}
	if _, err := ProxyArch(a, "sideways", 28, 28, 1, 10); err == nil {
		t.Error("unknown adaptation accepted")
	}
	// The deployed architecture is untouched.
	if a.Resolution != 224 || a.Stem.Stride != 2 {
		t.Error("ProxyArch modified its input")
	}
}
