package convnet

import (
	"fmt"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/multihw/multihw/blocks"
)

// TestDepthwiseDirect compares depthwiseDirect with the lowered NHWC graph it
// replaces at inference (Depthwise + bias + activation), which computes the
// same sums in the same order: the outputs must be equal floats (a zero's
// sign aside), on maps where every tap reads inside, where some read only
// padding (2×2, 1×1), with channel counts of whole AVX-512 vectors and
// tails, and with the native grouped convolution to 1e-5.
func TestDepthwiseDirect(t *testing.T) {
	be := testBackend(t)
	rng := rand.New(rand.NewPCG(5, 6))
	acts := []blocks.Activation{"", blocks.ReLU, blocks.ReLU6}
	for _, k := range []int{1, 3, 5} {
		for _, stride := range []int{1, 2} {
			for _, size := range []int{20, 9, 8, 2, 1} { // 20: four-pixel blocks at stride 2
				for _, c := range []int{3, 16, 24, 35} {
					batch, act := 1+rng.IntN(2), acts[rng.IntN(len(acts))]
					name := fmt.Sprintf("k%d_s%d_%dx%dx%d_b%d_%q", k, stride, size, size, c, batch, act)
					t.Run(name, func(t *testing.T) {
						x := randTensor(rng, batch, size, size, c)
						w := randTensor(rng, k, k, c)
						bias := randTensor(rng, c)
						for _, tt := range []*tensors.Tensor{x, w} { // values where ReLU6 clips
							tensors.MustMutableFlatData(tt, func(v []float32) {
								for i := range v {
									v[i] *= 2
								}
							})
						}
						var want [2][]float32 // lowered, native
						for i, o := range []Ops{{Lowered: true}, {}} {
							exec, err := NewExec(be, func(x, w, bias *Node) *Node {
								return Activate(Add(o.Depthwise(x, w, stride), Reshape(bias, 1, 1, 1, c)), act)
							})
							if err != nil {
								t.Fatal(err)
							}
							out, err := exec.Exec(x, w, bias)
							if err != nil {
								t.Fatal(err)
							}
							want[i] = tensors.MustCopyFlatData[float32](out[0])
						}
						a, err := dwActivationOf(act)
						if err != nil {
							t.Fatal(err)
						}
						got := make([]float32, len(want[0]))
						depthwiseDirect(tensors.MustCopyFlatData[float32](x), batch, size, size, c,
							tensors.MustCopyFlatData[float32](w), k, stride, tensors.MustCopyFlatData[float32](bias), a, got)
						for i := range got {
							if got[i] != want[0][i] {
								t.Fatalf("output %d: %g, the lowered graph %g", i, got[i], want[0][i])
							}
						}
						if e := maxRelErr(got, want[1]); e > 1e-5 {
							t.Errorf("relative error %.2g to the native convolution", e)
						}
					})
				}
			}
		}
	}
}
