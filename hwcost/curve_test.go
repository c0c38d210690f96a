package hwcost

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/internal/stats"
)

// syntheticDevice is pixel4-cpu's fitted model timing every 97th connected
// NAS-Bench-201 network, and a library of one candidate off by known factors
// (TestAdaptRecoversSyntheticDevice, TestAdaptCurve).
func syntheticDevice(t *testing.T) ([]*blocks.Arch, []float64, []Candidate) {
	t.Helper()
	spec, _ := LookupSpec("pixel4-cpu")
	truth := DefaultParams().Targets["pixel4-cpu"]
	tg, err := NewAnalytic(spec, truth)
	if err != nil {
		t.Fatal(err)
	}
	var archs []*blocks.Arch
	var ms []float64
	for code := 0; code < blocks.NumCells; code += 97 {
		c, _ := blocks.CellFromCode(code)
		if !c.Connected() {
			continue
		}
		a := blocks.NB201Network(c, blocks.NB201CIFAR10)
		v, err := ArchLatency(tg, a, 0)
		if err != nil {
			t.Fatal(err)
		}
		archs, ms = append(archs, a), append(ms, v)
	}
	off := truth
	off.PeakGMACs *= 2
	off.LayerOverheadUs *= 0.5
	off.EffFused *= 1.3
	return archs, ms, []Candidate{{Name: "off", Spec: spec, Params: off}}
}

// TestAdaptCurve ties the curve to single fits: each seed's Spearman at each
// size is Adapt's with that size and seed, bit for bit, whatever the number
// of goroutines; the mean, the interval (cut to [-1, 1]) and the paired gain
// follow from them.
func TestAdaptCurve(t *testing.T) {
	archs, ms, lib := syntheticDevice(t)
	sizes, seeds := []int{4, 8, 16}, []uint64{3, 4, 5}
	cfg := AdaptConfig{Library: lib}
	cv, err := AdaptArchsCurve("synthetic", archs, ms, cfg, sizes, seeds)
	if err != nil {
		t.Fatal(err)
	}
	if len(cv.Points) != len(sizes) || cv.Device != "synthetic" || cv.SeedsLabel() != "3-5" {
		t.Fatalf("curve %+v", cv)
	}
	for i, p := range cv.Points {
		for k, s := range seeds {
			one, err := AdaptArchs("synthetic", archs, ms, AdaptConfig{Library: lib, Train: sizes[i], Seed: s})
			if err != nil {
				t.Fatal(err)
			}
			if p.PerSeed[k] != one.Spearman || p.NTest != one.NTest || p.Train != sizes[i] {
				t.Errorf("size %d seed %d: curve %v (n test %d), Adapt %v (%d)", sizes[i], s, p.PerSeed[k], p.NTest, one.Spearman, one.NTest)
			}
		}
		if want := stat.Mean(p.PerSeed, nil); p.Spearman != want {
			t.Errorf("size %d: mean %v, want %v", p.Train, p.Spearman, want)
		}
		ci := stats.MeanInterval(p.PerSeed, 0.95)
		if float64(p.SpearmanCI.Lo) != math.Max(float64(ci.Lo), -1) || float64(p.SpearmanCI.Hi) != math.Min(float64(ci.Hi), 1) {
			t.Errorf("size %d: interval %v, t interval %v", p.Train, p.SpearmanCI, ci)
		}
		if i == 0 {
			if !math.IsNaN(p.Gain) {
				t.Errorf("first size has a gain %v", p.Gain)
			}
			continue
		}
		var d []float64
		for k := range seeds {
			d = append(d, p.PerSeed[k]-cv.Points[i-1].PerSeed[k])
		}
		if p.Gain != stat.Mean(d, nil) || p.GainCI != stats.MeanInterval(d, 0.95) {
			t.Errorf("size %d: gain %v %v, want the paired mean %v", p.Train, p.Gain, p.GainCI, stat.Mean(d, nil))
		}
	}
	if last := cv.Points[len(cv.Points)-1]; last.Spearman < 0.99 {
		t.Errorf("synthetic device with 16 rows: Spearman %.4f", last.Spearman)
	}
	prev := runtime.GOMAXPROCS(1)
	one, err := AdaptArchsCurve("synthetic", archs, ms, cfg, sizes, seeds)
	runtime.GOMAXPROCS(prev)
	if err != nil {
		t.Fatal(err)
	}
	for i := range one.Points {
		for k := range seeds {
			if one.Points[i].PerSeed[k] != cv.Points[i].PerSeed[k] {
				t.Fatalf("one goroutine: size %d seed %d: %v vs %v", sizes[i], seeds[k], one.Points[i].PerSeed[k], cv.Points[i].PerSeed[k])
			}
		}
	}
	text := cv.Summary()
	if !strings.Contains(text, "seeds 3-5") || !strings.Contains(text, "n train") || strings.Count(text, "\n") != len(sizes)+2 {
		t.Errorf("summary:\n%s", text)
	}
}

func TestAdaptCurveBadInput(t *testing.T) {
	archs, ms, lib := syntheticDevice(t)
	n := len(archs)
	cfg := AdaptConfig{Library: lib}
	for _, tc := range []struct {
		sizes []int
		seeds []uint64
		want  string
	}{
		{nil, []uint64{1, 2}, "no training sizes"},
		{[]int{8, 4}, []uint64{1, 2}, "must increase, got 4 after 8"},
		{[]int{4, 4}, []uint64{1, 2}, "must increase"},
		{[]int{2}, []uint64{1, 2}, "training size 2"},
		{[]int{n}, []uint64{1, 2}, "sizes must be in [3,"},
		{[]int{4}, []uint64{1}, "need at least 2"},
		{[]int{4}, []uint64{1, 2, 1}, "seed 1 given twice"},
	} {
		if _, err := AdaptArchsCurve("synthetic", archs, ms, cfg, tc.sizes, tc.seeds); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("sizes %v seeds %v: got %v, want an error containing %q", tc.sizes, tc.seeds, err, tc.want)
		}
	}
	// Every column and size is checked before the first fit (which would
	// take seconds here and fail the test's progress check).
	fits := 0
	for _, tc := range []struct {
		devices []string
		sizes   []int
		want    string
	}{
		{[]string{"fpga", "toaster"}, []int{5}, "toaster"},
		{[]string{"fpga", "pixel2"}, []int{5, 20000}, "training size 20000"},
		{nil, []int{5}, "no device columns"},
	} {
		_, err := AdaptCurves(AdaptConfig{Data: "nb201-help"}, tc.devices, tc.sizes, []uint64{1, 2}, func(string, int, int) { fits++ })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("devices %v sizes %v: got %v, want an error containing %q", tc.devices, tc.sizes, err, tc.want)
		}
	}
	if fits != 0 {
		t.Errorf("%d devices fitted before the bad input was refused", fits)
	}
}

// AdaptCurves reports each device's fits as they finish: 0 before, then
// 1..total, one call at a time.
func TestAdaptCurvesProgress(t *testing.T) {
	var got []string
	curves, err := AdaptCurves(AdaptConfig{Data: "nb201-help"}, []string{"fpga"}, []int{3}, []uint64{1, 2},
		func(dev string, done, total int) { got = append(got, fmt.Sprintf("%s %d/%d", dev, done, total)) })
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"fpga 0/2", "fpga 1/2", "fpga 2/2"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("progress %q, want %q", got, want)
	}
	if len(curves) != 1 || curves[0].Device != "fpga" || len(curves[0].Points[0].PerSeed) != 2 {
		t.Errorf("curves %+v", curves)
	}
}
