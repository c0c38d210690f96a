package plots

import (
	"math"
	"math/rand/v2"
)

// Fixture data: plausible shapes and magnitudes, not measurements.

var fourTargets = []string{"CPU", "GPU", "DSP", "EdgeTPU"}

func tradeoffFixture() TradeoffData {
	return TradeoffData{
		Title: "",
		Models: []Model{
			{Name: "Multi-AVG", Group: "searched", Accuracy: 75.3, Avg: 0.95, Max: 1.15},
			{Name: "Multi-MAX", Group: "searched", Accuracy: 74.9, Avg: 0.90, Max: 1.02},
			{Name: "Multi-AVG 0.75x", Group: "searched", Accuracy: 73.4, Avg: 0.68, Max: 0.80},
			{Name: "MobileNetV2", Group: "reference", Accuracy: 72.0, Avg: 1.0, Max: 1.0},
			{Name: "MobileNetV3-L-min", Group: "reference", Accuracy: 72.3, Avg: 0.86, Max: 1.12},
			{Name: "MobileNetV3-L", Group: "reference", Accuracy: 75.2, Avg: 1.31, Max: 1.92},
			{Name: "MobileNet-EdgeTPU", Group: "reference", Accuracy: 75.6, Avg: 1.45, Max: 2.45},
			{Name: "EfficientNet-Lite0", Group: "reference", Accuracy: 75.1, Avg: 1.26, Max: 1.61},
			{Name: "MnasNet-A1", Group: "reference", Accuracy: 75.2, Avg: 1.12, Max: 1.38},
		},
	}
}

func targetBarsFixture() TargetBarsData {
	return TargetBarsData{
		Targets: fourTargets,
		Models: []LatencyRow{
			{Name: "MobileNetV2", Latency: []float64{1, 1, 1, 1}, Note: "72.0%"},
			{Name: "MobileNetV3-L-min", Latency: []float64{0.78, 0.85, 1.12, 0.90}, Note: "72.3%"},
			{Name: "MobileNet-EdgeTPU", Latency: []float64{2.45, 1.60, 1.30, 0.62}, Note: "75.6%"},
			{Name: "Multi-AVG", Latency: []float64{1.15, 0.92, 0.88, 0.86}, Note: "75.3%"},
			{Name: "Multi-MAX", Latency: []float64{1.02, 0.90, 0.85, 0.83}, Note: "74.9%"},
		},
	}
}

func breakdownFixture() BreakdownData {
	groups := []string{"stem", "stage 1", "stage 2", "stage 3", "stage 4", "stage 5", "head"}
	return BreakdownData{
		Targets: fourTargets,
		Groups:  groups,
		Latency: [][]float64{
			{0.9, 2.1, 3.4, 4.2, 5.0, 4.1, 1.8},
			{0.3, 0.9, 1.1, 1.2, 1.4, 1.1, 0.6},
			{0.4, 1.6, 1.3, 0.9, 0.8, 0.6, 0.3},
			{0.1, 0.5, 0.4, 0.3, 0.35, 0.3, 0.2},
		},
	}
}

func curvesFixture(n int) CurvesData {
	r := rand.New(rand.NewPCG(1, 2))
	steps := make([]float64, n)
	reward, acc, cost, ent := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range steps {
		t := float64(i) / float64(n)
		steps[i] = float64(i)
		acc[i] = 20 + 50*(1-math.Exp(-4*t)) + 4*r.NormFloat64()
		cost[i] = 1.6 - 0.55*(1-math.Exp(-3*t)) + 0.08*r.NormFloat64()
		reward[i] = acc[i]/100 - 0.1*math.Abs(cost[i]/1.0-1)
		ent[i] = 8.5 * math.Exp(-2.5*math.Max(0, t-0.25))
	}
	return CurvesData{
		Steps:     steps,
		Smoothing: 0.9,
		Curves: []Curve{
			{Name: "reward", Values: reward},
			{Name: "accuracy", Unit: "%", Values: acc},
			{Name: "cost", Unit: "× target", Values: cost, Target: 1, TargetName: "target cost T0"},
			{Name: "controller entropy", Unit: "nats", Values: ent},
		},
	}
}

func controllerFixture(decisions, steps int) ControllerData {
	r := rand.New(rand.NewPCG(3, 4))
	d := ControllerData{Steps: make([]float64, steps)}
	for s := range d.Steps {
		d.Steps[s] = float64(s * 10)
	}
	opts := [][]string{{"k3", "k5"}, {"e2", "e3", "e4", "e5", "e6"}, {"skip", "keep"}}
	for i := range decisions {
		o := opts[i%len(opts)]
		dec := Decision{Name: "block " + string(rune('A'+i)) + " " + []string{"kernel", "expansion", "layer"}[i%3], Options: o}
		win := r.IntN(len(o))
		logits := make([]float64, len(o))
		for s := range steps {
			t := float64(s) / float64(steps)
			for k := range logits {
				logits[k] = 0.2 * r.NormFloat64()
				if k == win {
					logits[k] += 5 * math.Max(0, t-0.25)
				}
			}
			dec.Probs = append(dec.Probs, softmax(logits))
		}
		d.Decisions = append(d.Decisions, dec)
	}
	return d
}

func softmax(x []float64) []float64 {
	out := make([]float64, len(x))
	m, sum := math.Inf(-1), 0.0
	for _, v := range x {
		m = math.Max(m, v)
	}
	for i, v := range x {
		out[i] = math.Exp(v - m)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

func costFitFixture(n int) CostFitData {
	r := rand.New(rand.NewPCG(5, 6))
	d := CostFitData{}
	scale := []float64{30, 8, 5, 2}
	for t, name := range fourTargets {
		fs := FitSeries{Target: name}
		for range n {
			m := scale[t] * math.Exp(1.2*r.NormFloat64())
			fs.Measured = append(fs.Measured, m)
			fs.Predicted = append(fs.Predicted, m*math.Exp(0.15*r.NormFloat64()+0.05))
		}
		d.Fits = append(d.Fits, fs)
	}
	return d
}

func deviceComparisonFixture() DeviceComparisonData {
	targets := []string{"SD855 CPU", "SD855 GPU", "SD855 DSP", "EdgeTPU"}
	return DeviceComparisonData{
		Title:        "",
		Targets:      targets,
		Budget:       0.8,
		AccuracyName: "CIFAR-10",
		Winners: []Winner{
			{Objective: "CPU only", Arch: "#8871", Accuracy: 93.1, Latency: []float64{0.79, 0.95, 1.21, 0.98}},
			{Objective: "GPU only", Arch: "#1462", Accuracy: 93.4, Latency: []float64{0.92, 0.78, 0.88, 1.05}},
			{Objective: "DSP only", Arch: "#311", Accuracy: 93.0, Latency: []float64{1.10, 0.85, 0.74, 0.81}},
			{Objective: "EdgeTPU only", Arch: "#9000", Accuracy: 93.3, Latency: []float64{1.32, 1.04, 0.83, 0.69}},
			{Objective: "AVG", Arch: "#4012", Accuracy: 93.2, Latency: []float64{0.84, 0.80, 0.79, 0.77}},
			{Objective: "MAX", Arch: "#5127", Accuracy: 92.9, Latency: []float64{0.80, 0.79, 0.78, 0.78}},
		},
	}
}

// tradeoffGridFixture: four models on two targets, AVG and MAX, with seed
// intervals on accuracy and cost-draw intervals on latency.
func tradeoffGridFixture() TradeoffGridData {
	e := func(v, half float64) Estimate { return Estimate{Value: v, Lo: v - half, Hi: v + half} }
	lat := func(cpu, gpu float64) []Estimate {
		return []Estimate{e(cpu, 0.03), e(gpu, 0.04), e((cpu+gpu)/2, 0.03), e(math.Max(cpu, gpu), 0.04)}
	}
	return TradeoffGridData{
		Title:   "Accuracy vs latency on every target",
		Metrics: []string{"CPU", "GPU", "AVG", "MAX"},
		Models: []GridModel{
			{Name: "AVG 0.92 s1", Group: "AVG search", Accuracy: e(91.2, 0.2), Latency: lat(0.85, 0.80)},
			{Name: "cpu only s1", Group: "single-target search", Accuracy: e(90.8, 0.2), Latency: lat(0.70, 1.20)},
			{Name: "MobileNetV2", Group: "reference", Accuracy: e(90.5, 0.2), Latency: lat(1, 1)},
			{Name: "MultiMAX", Group: "paper's MultiHW", Accuracy: Exact(90.9), Latency: []Estimate{Exact(0.95), Exact(0.94), Exact(0.945), Exact(0.95)}},
		},
	}
}

func sweepFixture() SweepData {
	return SweepData{Title: "T0 sweep", Panels: []SweepPanel{
		{Title: "cost", XLabel: "T0", YLabel: "cost", Diagonal: true, Series: []SweepSeries{
			{Name: "AVG search (each seed)", Group: "AVG search", X: []float64{0.85, 0.85, 1, 1}, Y: []float64{0.84, 0.87, 0.97, 1.01}, PointsOnly: true, Faint: true},
			{Name: "AVG search", X: []float64{1, 0.85}, Y: []float64{0.99, 0.855}},
		}},
		{Title: "accuracy", XLabel: "T0", YLabel: "accuracy (%)", Series: []SweepSeries{
			{Name: "AVG search", X: []float64{0.85, 1}, Y: []float64{90.1, 90.9}, YLo: []float64{89.8, math.NaN()}, YHi: []float64{90.4, math.NaN()}},
		}},
	}}
}
