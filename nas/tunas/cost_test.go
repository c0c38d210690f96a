package tunas

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/compute"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/hwcost"
	"github.com/multihw/multihw/nas"
)

// TestCostMatchesMetric checks the table-based T against the metric's
// generic path (hwcost on blocks.Analyze of space.Arch) to 1e-12, for every
// objective, under both expansion-1 rules, on points that take every option
// of every decision (nas.Space.CoveringPoints: every width and depth, every
// kind × kernel × expansion of every block slot, expansion 1 included),
// random points of the paper's space, and MultiAVG/MAX encoded in it.
func TestCostMatchesMetric(t *testing.T) {
	for _, rule := range []nas.ExpandOne{nas.ExpandOneKeep, nas.ExpandOneOmit} {
		sp := nas.MultiHWSpace()
		sp.ExpandOne = rule
		checkCostMatchesMetric(t, sp)
	}
}

func checkCostMatchesMetric(t *testing.T, sp *nas.Space) {
	m, err := hwcost.NewMetric().ReferenceModel("mobilenet_v2").Done()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	costs := map[string]*Cost{}
	for _, obj := range append([]string{ObjectiveAvg, ObjectiveMax, ObjectiveWeighted}, m.TargetNames()[0]) {
		if costs[obj], err = NewCost(sp, m, obj); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("4 cost tables in %v", time.Since(start))
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]float64, m.NumTargets())
	points := sp.CoveringPoints()
	for range 200 {
		points = append(points, sp.Sample(rng, nil))
	}
	for _, name := range []string{"multi_avg", "multi_max"} {
		a, _ := blocks.Model(name)
		p, err := sp.Encode(a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		points = append(points, p)
	}
	for _, p := range points {
		a, err := sp.Arch(p)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := m.Scores(a, buf)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]float64{ObjectiveAvg: sc.Avg, ObjectiveMax: sc.Max, ObjectiveWeighted: sc.Weighted, m.TargetNames()[0]: buf[0]}
		for obj, c := range costs {
			got, err := c.T(p)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-want[obj]) > 1e-12*math.Max(1, want[obj]) {
				t.Fatalf("point %v, objective %s: table T %.12g, metric %.12g", p, obj, got, want[obj])
			}
		}
		bd, err := costs[ObjectiveMax].Breakdown(p)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(bd.Avg-sc.Avg) > 1e-12 || bd.T != bd.Max {
			t.Fatalf("breakdown %+v vs scores %+v", bd, sc)
		}
	}
}

// forObjective is the cost of the same table under another objective (as
// NewCost would make it, without filling the table again).
func (c *Cost) forObjective(t *testing.T, objective string) *Cost {
	d := *c
	var err error
	d.objective = objective
	if d.target, err = c.metric.ObjectiveTarget(objective); err != nil {
		t.Fatal(err)
	}
	if d.eval, err = c.table.Evaluator(objective); err != nil {
		t.Fatal(err)
	}
	d.buf = make([]float64, c.table.BufLen())
	d.choices = make([]int, c.table.Positions())
	return &d
}

// TestCostTargetSets ties T to the metric's generic path to 1e-12 for the
// target sets a search can name (--targets: groups, a single target, a
// target file) and their objectives, on the paper's space and a tiny one, and
// checks that T takes the compiled fast path (hwcost.Evaluator).
func TestCostTargetSets(t *testing.T) {
	ps := hwcost.DefaultParams().Targets["pixel4-edgetpu"]
	ps.OnChipMB, ps.RunsDeadOps = 0.02, true // spills on both spaces
	file := filepath.Join(t.TempDir(), "my-npu.json")
	if err := (&hwcost.TargetFile{Target: "my-npu", Precision: hwcost.FP16, Params: ps}).Save(file); err != nil {
		t.Fatal(err)
	}
	for _, sp := range []*nas.Space{tinySpace(), nas.MultiHWSpace()} {
		for _, tc := range []struct {
			targets    []string
			objectives []string
		}{
			{[]string{"paper"}, []string{ObjectiveAvg, ObjectiveMax, "pixel4-edgetpu"}},
			{[]string{"mnv4"}, []string{ObjectiveAvg, ObjectiveMax}},
			{[]string{"pixel4-edgetpu"}, []string{ObjectiveAvg, ObjectiveMax, "pixel4-edgetpu"}},
			{[]string{"paper", file}, []string{ObjectiveAvg, ObjectiveMax, ObjectiveWeighted, "my-npu"}},
		} {
			m, err := hwcost.NewMetric().Targets(tc.targets...).Done()
			if err != nil {
				t.Fatal(err)
			}
			first, err := NewCost(sp, m, tc.objectives[0])
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			points := sp.CoveringPoints()
			for range 30 {
				points = append(points, sp.Sample(rng, nil))
			}
			for _, obj := range tc.objectives {
				c := first.forObjective(t, obj)
				if g, why := c.eval.Generic(); g {
					t.Fatalf("%s %v %s: generic path (%s)", sp.Name, tc.targets, obj, why)
				}
				for _, p := range points {
					a, err := sp.Arch(p)
					if err != nil {
						t.Fatal(err)
					}
					want, err := c.ArchCosts(a)
					if err != nil {
						t.Fatal(err)
					}
					got, err := c.T(p)
					if err != nil {
						t.Fatal(err)
					}
					if math.Abs(got-want.T) > 1e-12*math.Max(1, want.T) {
						t.Fatalf("%s %v %s, point %v: table T %.15g, metric %.15g", sp.Name, tc.targets, obj, p, got, want.T)
					}
				}
			}
		}
	}
}

func TestCostErrors(t *testing.T) {
	sp := nas.MultiHWSpace()
	m, err := hwcost.NewMetric().Done()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewCost(sp, m, "toaster"); err == nil || !strings.Contains(err.Error(), `unknown objective "toaster"`) {
		t.Errorf("unknown objective: got %v", err)
	}
	c, err := NewCost(sp, m, ObjectiveAvg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.T(nas.Point{1, 2}); err == nil {
		t.Error("short point accepted")
	}
}

func goBackend(t testing.TB) compute.Backend {
	t.Helper()
	be, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	return be
}

// BenchmarkCostT is the search's T(p) of random points of the paper's space
// (AVG of the paper's targets): the walk of the point into table choices
// plus the compiled table (hwcost.Evaluator), next to the generic path
// (Space.Arch and Metric.Scores) on the same points.
func BenchmarkCostT(b *testing.B) {
	sp := nas.MultiHWSpace()
	m, err := hwcost.NewMetric().Done()
	if err != nil {
		b.Fatal(err)
	}
	c, err := NewCost(sp, m, ObjectiveAvg)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	points := make([]nas.Point, 256)
	for i := range points {
		points[i] = sp.Sample(rng, nil)
	}
	for _, path := range []string{"table", "generic"} {
		b.Run(path, func(b *testing.B) {
			var sink float64
			for i := 0; b.Loop(); i++ {
				p := points[i%len(points)]
				var t float64
				if path == "table" {
					t, err = c.T(p)
				} else {
					var a *blocks.Arch
					if a, err = sp.Arch(p); err == nil {
						var cs Costs
						cs, err = c.ArchCosts(a)
						t = cs.T
					}
				}
				if err != nil {
					b.Fatal(err)
				}
				sink += t
			}
			if sink == 0 {
				b.Fatal("no work")
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
		})
	}
}
