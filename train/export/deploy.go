package export

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/gomlx/compute-onnx/support/protos"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"google.golang.org/protobuf/proto"

	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/blocks/convnet"
	"github.com/multihw/multihw/train"
)

// The deployment graph is written directly from the architecture's op plan
// (blocks.Arch.Plan, the description blocks/convnet trains and hwcost costs),
// one ONNX node per primitive op, with the generated ONNX protobuf types of
// github.com/gomlx/compute-onnx/support/protos:
//
//	images [batch, H, W, C] → Transpose (NCHW) → Sub, Mul (normalisation)
//	convolution + BatchNorm + activation → Conv (BatchNorm folded into its
//	    weights and bias, weights stored as Conv reads them: [Cout, Cin/groups, k, k]) [→ Relu | Clip]
//	residual add → Add (Sum for more inputs)
//	global pooling → GlobalAveragePool → Flatten
//	fully connected → Gemm (weights [in, out], transB = 0) [→ Relu]  → logits [batch, classes]
//
// Padding is TF "SAME" as in blocks/convnet (convnet.SamePadding), written as
// explicit pads. The only Transpose is the input's; the batch is a symbolic
// dimension ("batch").

// Opsets of the deployment graph. Its ops keep one form from opset 11 (the
// first with Clip's bounds as inputs) to 17; 17 is the newest opset the
// checker of onnx 1.12 (Debian's python3-onnx, the widely installed
// release) validates, so every accepted opset is checked in the tests.
// The default, 13 (ONNX 1.8, IR 7), loads in ONNX Runtime ≥ 1.6; it was
// the default of tf2onnx (1.9 to 1.13) and of PyTorch's exporter from 1.12
// on, chosen there as the newest opset of 18 months before, old enough for
// most ONNX implementations to run (pytorch/pytorch#73898).
const (
	MinOpset     = 11
	MaxOpset     = 17
	DefaultOpset = 13
)

// BatchDim is the name of the exported graph's symbolic batch dimension.
const BatchDim = "batch"

// IRVersion returns the IR version ONNX released together with opset (ONNX
// docs/Versioning.md, "Released Versions": opset 11 → IR 6, 12–14 → IR 7,
// 15–18 → IR 8): a file declares the oldest IR its opset needs, which is
// what older runtimes and checkers accept.
func IRVersion(opset int) int64 {
	switch {
	case opset <= 11:
		return 6
	case opset <= 14:
		return 7
	}
	return 8
}

// CheckOpset returns an error naming the supported range unless opset is in it.
func CheckOpset(opset int) error {
	if opset < MinOpset || opset > MaxOpset {
		return fmt.Errorf("unsupported ONNX opset %d: the deployment graph supports opsets %d to %d (default %d)", opset, MinOpset, MaxOpset, DefaultOpset)
	}
	return nil
}

// Weights returns the value of a model variable by its path relative to the
// model's scope: convnet.ScopeOfLayer(layer) + "/" + variable name, e.g.
// "block_03/expand/weights" or "block_03/expand/bn/gamma".
type Weights func(path string) (*tensors.Tensor, error)

// CheckpointWeights returns the weights of checkpoint c (its variables under
// train.ModelScope).
func CheckpointWeights(c *train.Checkpoint) Weights {
	return func(path string) (*tensors.Tensor, error) { return c.Tensor("/" + train.ModelScope + "/" + path) }
}

// DeployModel returns the deployment graph of arch at the given opset with
// weights w, for images described by in (size, channels, normalisation and
// class names): input InputName float32 [batch, H, W, C] of raw pixels
// 0..255, output OutputName float32 [batch, classes]. Every op of the plan
// reads its variables as blocks/convnet created them; a missing variable or
// one of the wrong shape is an error naming it.
func DeployModel(arch *blocks.Arch, in train.DatasetInfo, w Weights, opset int) (m *protos.ModelProto, err error) {
	if err := CheckOpset(opset); err != nil {
		return nil, err
	}
	np, err := arch.Plan()
	if err != nil {
		return nil, err
	}
	if in.Channels != arch.Channels || in.Height <= 0 || in.Width <= 0 {
		return nil, fmt.Errorf("images %dx%dx%d do not fit %q (%d channels)", in.Height, in.Width, in.Channels, arch.Name, arch.Channels)
	}
	if len(in.Classes) != arch.Classes {
		return nil, fmt.Errorf("%d class names for %q's %d classes", len(in.Classes), arch.Name, arch.Classes)
	}
	if len(in.Norm.Mean) != in.Channels || len(in.Norm.Std) != in.Channels {
		return nil, fmt.Errorf("normalisation of %d channels for %d-channel images", len(in.Norm.Mean), in.Channels)
	}
	d := &deployGraph{g: &protos.GraphProto{Name: arch.Name}, w: w, eps: convnet.DefaultBatchNormEpsilon}
	x := d.input(in)
	n := len(np.Blocks)
	parts := append([]blocks.Plan{np.Stem}, np.Blocks...)
	parts = append(parts, np.Head)
	for i, p := range parts {
		if x, err = d.plan(p, i-1, n, x); err != nil {
			return nil, err
		}
	}
	if x.h != 0 || x.c != arch.Classes {
		return nil, fmt.Errorf("the plan of %q ends in %d channels at %dx%d, want %d logits", arch.Name, x.c, x.h, x.w, arch.Classes)
	}
	// The last node computes the network's output: name it.
	last := d.g.Node[len(d.g.Node)-1]
	last.Output[0] = OutputName
	d.g.Input = []*protos.ValueInfoProto{tensorInfo(InputName, BatchDim, in.Height, in.Width, in.Channels)}
	d.g.Output = []*protos.ValueInfoProto{tensorInfo(OutputName, BatchDim, arch.Classes)}

	classes, _ := json.Marshal(in.Classes)
	norm, _ := json.Marshal(in.Norm)
	return &protos.ModelProto{
		IrVersion:    IRVersion(opset),
		OpsetImport:  []*protos.OperatorSetIdProto{{Domain: "", Version: int64(opset)}},
		ProducerName: Producer,
		DocString: fmt.Sprintf("%s: input %q float32 [%s, %d, %d, %d] raw pixels 0..255 (NHWC), output %q float32 [%s, %d] logits; BatchNorm folded into the convolutions",
			arch.Name, InputName, BatchDim, in.Height, in.Width, in.Channels, OutputName, BatchDim, arch.Classes),
		Graph: d.g,
		MetadataProps: []*protos.StringStringEntryProto{
			{Key: "classes", Value: string(classes)},
			{Key: "normalisation", Value: string(norm)},
			{Key: "architecture", Value: arch.String()},
		},
	}, nil
}

// DeployBytes is DeployModel of checkpoint c's trained architecture and
// weights, serialised.
func DeployBytes(c *train.Checkpoint, opset int) ([]byte, error) {
	if c == nil {
		return nil, fmt.Errorf("export: checkpoint is nil")
	}
	m, err := DeployModel(c.TrainArch, c.Dataset, CheckpointWeights(c), opset)
	if err != nil {
		return nil, err
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}

// value is a tensor of the graph: its name, channels and spatial size (h = 0:
// flattened to [batch, c]).
type value struct {
	name    string
	c, h, w int
}

type deployGraph struct {
	g      *protos.GraphProto
	w      Weights
	eps    float64
	relu6  bool // Clip's bounds are initializers
	layers map[string]bool
}

// input adds the layout change and the normalisation of the raw images.
func (d *deployGraph) input(in train.DatasetInfo) value {
	c := in.Channels
	sub, mul := train.PixelNormalization(in.Norm)
	d.constant("images.mean", sub, 1, c, 1, 1)
	d.constant("images.inv_std", mul, 1, c, 1, 1)
	d.node("Transpose", "images.nchw", []string{InputName}, ints("perm", 0, 3, 1, 2))
	d.node("Sub", "images.centred", []string{"images.nchw", "images.mean"})
	d.node("Mul", "images.normalised", []string{"images.centred", "images.inv_std"})
	return value{name: "images.normalised", c: c, h: in.Height, w: in.Width}
}

// plan adds the ops of plan p, part block of an architecture of n blocks
// (-1 the stem, n the head; blocks.LayerName), to input x.
func (d *deployGraph) plan(p blocks.Plan, block, n int, x value) (value, error) {
	if x.c != p.In {
		return value{}, fmt.Errorf("plan for %d input channels applied to %d", p.In, x.c)
	}
	if len(p.Ops) == 0 {
		return value{}, fmt.Errorf("empty plan")
	}
	vals := make([]value, len(p.Ops))
	val := func(v int) value {
		if v == blocks.PlanInput {
			return x
		}
		return vals[v]
	}
	for i, op := range p.Ops {
		layer := blocks.LayerName(block, n, op.Name)
		if len(op.Inputs) == 0 {
			return value{}, fmt.Errorf("op %s has no input", layer)
		}
		for _, v := range op.Inputs {
			if v != blocks.PlanInput && (v < 0 || v >= i) {
				return value{}, fmt.Errorf("op %s reads value %d, not an earlier op's", layer, v)
			}
		}
		in := val(op.Inputs[0])
		var err error
		switch op.Op {
		case blocks.OpConv, blocks.OpFused, blocks.OpPW, blocks.OpDW:
			vals[i], err = d.conv(layer, op, in)
		case blocks.OpAdd:
			vals[i], err = d.add(layer, op, op.Inputs, val)
		case blocks.OpPool:
			vals[i], err = d.pool(layer, op, in)
		case blocks.OpFC:
			vals[i], err = d.dense(layer, op, in)
		default:
			err = fmt.Errorf("unknown primitive %q", op.Op)
		}
		if err != nil {
			return value{}, fmt.Errorf("op %s: %w", layer, err)
		}
	}
	return vals[len(vals)-1], nil
}

// conv adds a convolution with its BatchNorm folded in, and its activation.
func (d *deployGraph) conv(layer string, op blocks.PlanOp, x value) (value, error) {
	if x.h == 0 {
		return value{}, fmt.Errorf("convolution of a flattened tensor")
	}
	if !op.Norm {
		return value{}, fmt.Errorf("a convolution without BatchNorm has no builder in blocks/convnet")
	}
	k, s := op.Kernel, op.Stride
	if k < 1 || s < 1 {
		return value{}, fmt.Errorf("kernel %d, stride %d", k, s)
	}
	// The variable's layout in blocks/convnet and its shape as [k, k, Cin per group, Cout].
	var shape []int
	cin := x.c
	switch {
	case op.Op == blocks.OpDW:
		if op.Groups != x.c || op.Out != x.c {
			return value{}, fmt.Errorf("depthwise convolution of %d channels with %d groups and %d outputs", x.c, op.Groups, op.Out)
		}
		shape, cin = []int{k, k, x.c}, 1
	case op.Groups != 1:
		return value{}, fmt.Errorf("grouped convolution (%d groups) has no builder in blocks/convnet", op.Groups)
	case k == 1:
		shape = []int{x.c, op.Out}
	default:
		shape = []int{k, k, x.c, op.Out}
	}
	scope := convnet.ScopeOfLayer(layer)
	w, err := d.tensor(scope+"/"+convnet.VarWeights, shape...)
	if err != nil {
		return value{}, err
	}
	bn := make([][]float32, 4)
	for i, name := range []string{convnet.BNGamma, convnet.BNBeta, convnet.BNMovingMean, convnet.BNMovingVariance} {
		if bn[i], err = d.tensor(scope+"/"+convnet.ScopeBN+"/"+name, op.Out); err != nil {
			return value{}, err
		}
	}
	folded, bias, err := convnet.FoldBatchNorm(w, bn[0], bn[1], bn[2], bn[3], d.eps)
	if err != nil {
		return value{}, err
	}
	d.constant(layer+".weight", toOIHW(folded, k, cin, op.Out), op.Out, cin, k, k)
	d.constant(layer+".bias", bias, op.Out)
	loH, hiH, outH := convnet.SamePadding(x.h, k, s)
	loW, hiW, outW := convnet.SamePadding(x.w, k, s)
	attrs := []*protos.AttributeProto{ints("kernel_shape", k, k), ints("strides", s, s), ints("pads", loH, loW, hiH, hiW)}
	if op.Groups > 1 {
		attrs = append(attrs, intAttr("group", op.Groups))
	}
	if err := d.node("Conv", layer, []string{x.name, layer + ".weight", layer + ".bias"}, attrs...); err != nil {
		return value{}, err
	}
	return d.activate(value{name: layer, c: op.Out, h: outH, w: outW}, op.Act)
}

// toOIHW turns weights [k, k, cin, cout] (row-major, the layouts of
// blocks/convnet: [Cin, Cout] is k = 1, depthwise [k, k, C] is cin = 1) into
// ONNX Conv's [cout, cin, k, k].
func toOIHW(w []float32, k, cin, cout int) []float32 {
	out := make([]float32, len(w))
	for y := range k {
		for x := range k {
			for i := range cin {
				for o := range cout {
					out[((o*cin+i)*k+y)*k+x] = w[((y*k+x)*cin+i)*cout+o]
				}
			}
		}
	}
	return out
}

// add sums the op's inputs (of equal shapes) and activates.
func (d *deployGraph) add(layer string, op blocks.PlanOp, inputs []int, val func(int) value) (value, error) {
	if len(inputs) < 2 {
		return value{}, fmt.Errorf("an add of %d input", len(inputs))
	}
	first := val(inputs[0])
	names := []string{first.name}
	for _, v := range inputs[1:] {
		o := val(v)
		if o.c != first.c || o.h != first.h || o.w != first.w {
			return value{}, fmt.Errorf("adds %dx%dx%d to %dx%dx%d", o.h, o.w, o.c, first.h, first.w, first.c)
		}
		names = append(names, o.name)
	}
	kind := "Add"
	if len(names) > 2 {
		kind = "Sum"
	}
	if err := d.node(kind, layer, names); err != nil {
		return value{}, err
	}
	y := first
	y.name = layer
	return d.activate(y, op.Act)
}

// pool is global average pooling to [batch, channels].
func (d *deployGraph) pool(layer string, op blocks.PlanOp, x value) (value, error) {
	if op.Kernel != 0 {
		return value{}, fmt.Errorf("only global pooling has a builder in blocks/convnet (kernel %d)", op.Kernel)
	}
	if x.h == 0 {
		return value{}, fmt.Errorf("pooling of a flattened tensor")
	}
	if err := d.node("GlobalAveragePool", layer+".avg", []string{x.name}); err != nil {
		return value{}, err
	}
	if err := d.node("Flatten", layer, []string{layer + ".avg"}, intAttr("axis", 1)); err != nil {
		return value{}, err
	}
	return d.activate(value{name: layer, c: x.c}, op.Act)
}

// dense is a fully connected layer with bias (Gemm with the weights in
// blocks/convnet's layout [in, out]) and its activation. Dropout is
// training-only.
func (d *deployGraph) dense(layer string, op blocks.PlanOp, x value) (value, error) {
	if x.h != 0 {
		return value{}, fmt.Errorf("fully connected layer on a %dx%dx%d map (pool first)", x.h, x.w, x.c)
	}
	if !op.Bias || op.Norm {
		return value{}, fmt.Errorf("fully connected layers are built with a bias and without BatchNorm (bias %v, norm %v)", op.Bias, op.Norm)
	}
	scope := convnet.ScopeOfLayer(layer)
	w, err := d.tensor(scope+"/"+convnet.VarWeights, x.c, op.Out)
	if err != nil {
		return value{}, err
	}
	b, err := d.tensor(scope+"/"+convnet.VarBiases, op.Out)
	if err != nil {
		return value{}, err
	}
	d.constant(layer+".weight", w, x.c, op.Out)
	d.constant(layer+".bias", b, op.Out)
	if err := d.node("Gemm", layer, []string{x.name, layer + ".weight", layer + ".bias"}); err != nil {
		return value{}, err
	}
	return d.activate(value{name: layer, c: op.Out}, op.Act)
}

// activate adds the activation act after x.
func (d *deployGraph) activate(x value, act blocks.Activation) (value, error) {
	y := x
	switch act {
	case "":
		return x, nil
	case blocks.ReLU:
		y.name = x.name + ".relu"
		return y, d.node("Relu", y.name, []string{x.name})
	case blocks.ReLU6:
		if !d.relu6 {
			d.constant("relu6.min", []float32{0})
			d.constant("relu6.max", []float32{6})
			d.relu6 = true
		}
		y.name = x.name + ".relu6"
		return y, d.node("Clip", y.name, []string{x.name, "relu6.min", "relu6.max"})
	}
	return value{}, fmt.Errorf("unsupported activation %q", act)
}

// node appends a node named name whose one output is also name.
func (d *deployGraph) node(op, name string, inputs []string, attrs ...*protos.AttributeProto) error {
	if d.layers == nil {
		d.layers = map[string]bool{}
	}
	if d.layers[name] {
		return fmt.Errorf("two nodes named %q", name)
	}
	d.layers[name] = true
	d.g.Node = append(d.g.Node, &protos.NodeProto{Name: name, OpType: op, Input: inputs, Output: []string{name}, Attribute: attrs})
	return nil
}

// constant adds an initializer.
func (d *deployGraph) constant(name string, v []float32, dims ...int) {
	t := &protos.TensorProto{Name: name, DataType: int32(protos.TensorProto_FLOAT), FloatData: v}
	for _, n := range dims {
		t.Dims = append(t.Dims, int64(n))
	}
	d.g.Initializer = append(d.g.Initializer, t)
}

// tensor reads variable path, which must be float32 of the given shape with
// finite values.
func (d *deployGraph) tensor(path string, dims ...int) ([]float32, error) {
	t, err := d.w(path)
	if err != nil {
		return nil, fmt.Errorf("variable %s: %w", path, err)
	}
	defer func() { _ = t.FinalizeAll() }()
	if t.DType() != dtypes.Float32 || !slices.Equal(t.Shape().Dimensions, dims) {
		return nil, fmt.Errorf("variable %s is %s, the architecture needs float32 %v", path, t.Shape(), dims)
	}
	v, err := tensors.CopyFlatData[float32](t)
	if err != nil {
		return nil, fmt.Errorf("variable %s: %w", path, err)
	}
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("variable %s holds %g at %d", path, x, i)
		}
	}
	return v, nil
}

// tensorInfo describes a float32 graph input or output; a string dimension
// is symbolic.
func tensorInfo(name string, dims ...any) *protos.ValueInfoProto {
	shape := &protos.TensorShapeProto{}
	for _, dim := range dims {
		var dp *protos.TensorShapeProto_Dimension
		switch v := dim.(type) {
		case string:
			dp = &protos.TensorShapeProto_Dimension{Value: &protos.TensorShapeProto_Dimension_DimParam{DimParam: v}}
		case int:
			dp = &protos.TensorShapeProto_Dimension{Value: &protos.TensorShapeProto_Dimension_DimValue{DimValue: int64(v)}}
		}
		shape.Dim = append(shape.Dim, dp)
	}
	return &protos.ValueInfoProto{Name: name, Type: &protos.TypeProto{Value: &protos.TypeProto_TensorType{
		TensorType: &protos.TypeProto_Tensor{ElemType: int32(protos.TensorProto_FLOAT), Shape: shape}}}}
}

func ints(name string, v ...int) *protos.AttributeProto {
	a := &protos.AttributeProto{Name: name, Type: protos.AttributeProto_INTS}
	for _, x := range v {
		a.Ints = append(a.Ints, int64(x))
	}
	return a
}

func intAttr(name string, v int) *protos.AttributeProto {
	return &protos.AttributeProto{Name: name, Type: protos.AttributeProto_INT, I: int64(v)}
}

// Summary describes a serialised ONNX model.
type Summary struct {
	IRVersion int64 `json:"ir_version"`
	Opset     int64 `json:"opset"`
	// Nodes is the number of nodes; Ops counts them per op type.
	Nodes int            `json:"nodes"`
	Ops   map[string]int `json:"ops"`
	// Initializers is the number of stored tensors, Weights the number of
	// values they hold.
	Initializers int   `json:"initializers"`
	Weights      int64 `json:"weights"`
	// InputDims and OutputDims are the shapes of the first input and output,
	// a symbolic dimension by its name.
	InputDims  []string `json:"input_dims"`
	OutputDims []string `json:"output_dims"`
}

// Summarize reads a serialised ONNX model.
func Summarize(b []byte) (*Summary, error) {
	m := &protos.ModelProto{}
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("not an ONNX model: %w", err)
	}
	if m.Graph == nil {
		return nil, fmt.Errorf("ONNX model without a graph")
	}
	s := &Summary{IRVersion: m.IrVersion, Nodes: len(m.Graph.Node), Ops: map[string]int{}, Initializers: len(m.Graph.Initializer)}
	for _, o := range m.OpsetImport {
		if o.Domain == "" || o.Domain == "ai.onnx" {
			s.Opset = o.Version
		}
	}
	for _, n := range m.Graph.Node {
		s.Ops[n.OpType]++
	}
	for _, t := range m.Graph.Initializer {
		n := int64(1)
		for _, d := range t.Dims {
			n *= d
		}
		s.Weights += n
	}
	dims := func(vi []*protos.ValueInfoProto) []string {
		if len(vi) == 0 {
			return nil
		}
		var out []string
		for _, d := range vi[0].GetType().GetTensorType().GetShape().GetDim() {
			if p := d.GetDimParam(); p != "" {
				out = append(out, p)
			} else {
				out = append(out, fmt.Sprint(d.GetDimValue()))
			}
		}
		return out
	}
	s.InputDims, s.OutputDims = dims(m.Graph.Input), dims(m.Graph.Output)
	return s, nil
}

// Histogram is the op histogram "Conv 52, Relu 35, ..." (most frequent first).
func (s *Summary) Histogram() string {
	type kv struct {
		op string
		n  int
	}
	var all []kv
	for op, n := range s.Ops {
		all = append(all, kv{op, n})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].n != all[j].n {
			return all[i].n > all[j].n
		}
		return all[i].op < all[j].op
	})
	parts := make([]string, len(all))
	for i, e := range all {
		parts[i] = fmt.Sprintf("%s %d", e.op, e.n)
	}
	return strings.Join(parts, ", ")
}
