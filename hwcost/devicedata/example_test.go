package devicedata_test

import (
	"fmt"
	"math"

	"github.com/multihw/multihw/hwcost/devicedata"
)

// A tabular multi-hardware search over NAS-Bench-201: the most accurate cell
// whose latency on each of the four Pixel 4 stand-ins is at most that of a
// reference cell (MAX of the normalised latencies ≤ 1).
func Example_tabularSearch() {
	acc, _ := devicedata.Accuracy()
	lat, _ := devicedata.BRPNAS()
	if err := devicedata.SameCells(acc, lat); err != nil {
		panic(err)
	}
	top1, _ := acc.Column(devicedata.AccCIFAR10)
	ref, _ := devicedata.ParseCell("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|skip_connect~1|skip_connect~2|")
	rel := make([][]float64, len(devicedata.Pixel4Targets))
	for k, dev := range devicedata.Pixel4Targets {
		rel[k], _ = lat.Relative(dev, ref)
	}
	best := -1
	for i := 0; i < lat.Len(); i++ {
		worst := 0.0
		for k := range rel {
			worst = math.Max(worst, rel[k][i]) // NaN (unmeasured) never passes the test below
		}
		if worst <= 1 && (best < 0 || top1[i] > top1[best]) {
			best = i
		}
	}
	r, _ := acc.Row(ref)
	fmt.Printf("reference %.2f%%\nbest      %.2f%% %s\n", top1[r], top1[best], lat.Cell(best))
	// Output:
	// reference 93.47%
	// best      94.02% |nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|
}
