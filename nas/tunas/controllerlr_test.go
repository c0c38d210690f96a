package tunas

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// BenchmarkControllerLR measures the choice of ControllerLR: the default
// search (the multihw space, the real AVG cost, the absolute reward at T0 = 1)
// for 4000 steps with a synthetic quality of known structure and noise std
// 0.03 (type synthetic), for controller learning rates of 10, 40, 80 and
// 100/steps. It reports the policy's entropy at the end (nats; the uniform
// policy's at the start) and how far the final argmax architecture's cost is
// from T0 (|T/T0 − 1|). A rate that leaves the policy near uniform, or its
// argmax far from T0, is too small.
//
//	go test ./nas/tunas -run '^$' -bench ControllerLR -benchtime 1x
func BenchmarkControllerLR(b *testing.B) {
	const steps = 4000
	for _, k := range []float64{10, 40, 80, 100} {
		b.Run(fmt.Sprintf("%g_per_step", k), func(b *testing.B) {
			for range b.N {
				cfg := DefaultConfig()
				cfg.Steps, cfg.Snapshots = steps, 0
				cfg.Controller.LR = k / steps
				syn := newSynthetic(rand.New(rand.NewPCG(11, 12)), cfg.Space)
				res, err := New(cfg).SyntheticQuality(syn.quality).Run(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				h0, h1 := res.History[0].Entropy, res.History[len(res.History)-1].Entropy
				off := math.Abs(res.Final.Costs.T/cfg.Reward.T0 - 1)
				b.ReportMetric(h0, "nats-start")
				b.ReportMetric(h1, "nats-end")
				b.ReportMetric(off, "argmax-|T/T0-1|")
			}
		})
	}
}
