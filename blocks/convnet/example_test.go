package convnet_test

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/blocks/convnet"
)

// Build an architecture from its text form and run inference on the Go backend
// (the lowered ops are chosen automatically there).
func Example() {
	arch, err := blocks.Parse(`input 16x16x3
classes 4
stem cn_k3_s2_c8
ir_k3_s1_e2_c8
er_k3_s2_e2_c16
head c32_h24`)
	if err != nil {
		panic(err)
	}
	be, err := backend.New("go")
	if err != nil {
		panic(err)
	}
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(1))
	net := convnet.New(arch)
	exec, err := model.NewExec(be, store, func(scope *model.Scope, images *Node) *Node {
		return net.Logits(scope.In("model"), images)
	})
	if err != nil {
		panic(err)
	}
	images := tensors.FromFlatDataAndDimensions(make([]float32, 2*16*16*3), 2, 16, 16, 3)
	logits, err := exec.Exec(images)
	if err != nil {
		panic(err)
	}
	fmt.Println("logits:", logits[0].Shape())
	// Kernels, BatchNorm (4 per channel) and biases, as blocks.Analyze counts them.
	fmt.Println("parameters:", store.RootScope().In("model").NumParameters())
	// Output:
	// logits: (Float32)[2, 4]
	// parameters: 3876
}
