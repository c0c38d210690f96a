package supernet

import (
	"container/list"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/support/exceptions"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/blocks/convnet"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/train/optim"
)

// Optimizer is the weight optimizer: optim.RMSProp (TuNAS's) or optim.SGD
// (with Nesterov momentum), with its hyper-parameters (the learning rate is
// given per step). Updates are lazy: only the slices a path uses change,
// weights and optimizer slots alike.
type Optimizer struct {
	Kind optim.Kind `json:"kind"`
	optim.Hyper
}

// DefaultOptimizer is TuNAS's (google-research/tunas
// mobile_architecture_search.py): RMSProp with ρ 0.9, momentum 0.9, ε 1.0,
// weight decay 4e-5 and label smoothing 0.1.
func DefaultOptimizer() Optimizer {
	return Optimizer{Kind: optim.RMSProp, Hyper: optim.Hyper{Momentum: 0.9, Decay: 0.9, Epsilon: 1.0, WeightDecay: 4e-5, LabelSmoothing: 0.1}}
}

// Validate reports the first invalid field.
func (o Optimizer) Validate() error {
	if o.Kind != optim.RMSProp && o.Kind != optim.SGD {
		return fmt.Errorf("supernet optimizer: unknown kind %q (valid: %s, %s)", o.Kind, optim.RMSProp, optim.SGD)
	}
	if err := o.Hyper.Validate(o.Kind); err != nil {
		return fmt.Errorf("supernet optimizer: %w", err)
	}
	return nil
}

// Config describes a supernet: everything that fixes its variables and the
// function each path computes. It is plain data (stored in checkpoints).
type Config struct {
	Space *nas.Space `json:"space"`
	// Height, Width, Channels and Classes of the proxy task's images.
	Height   int `json:"height"`
	Width    int `json:"width"`
	Channels int `json:"channels"`
	Classes  int `json:"classes"`
	// Adapt is the proxy adaptation (blocks.ProxyArch).
	Adapt blocks.Adapt `json:"adapt"`
	// WidthFactor scales every width of the proxy (blocks.Arch.WithWidth).
	WidthFactor float64 `json:"width_factor"`
	// Sharing says which weights IBN and fused IBN share.
	Sharing   Sharing   `json:"sharing"`
	Optimizer Optimizer `json:"optimizer"`
	// BNEpsilon is BatchNorm's variance epsilon.
	BNEpsilon float64 `json:"bn_epsilon"`
	// Seed of the weight initialisation.
	Seed uint64 `json:"seed"`
}

// Sharing says which weights the two block kinds (IBN, fused IBN) of a
// block slot share.
type Sharing string

// Sharing modes.
const (
	// ShareNothing gives each kind its own weights: IBN a 1×1 expansion, a
	// depthwise and a projection, fused IBN a k×k expansion and a projection.
	ShareNothing Sharing = "none"
	// ShareProject shares the 1×1 projection (and its BatchNorm).
	ShareProject Sharing = "project"
	// ShareExpandProject also shares the expansion: IBN's 1×1 expansion is
	// the centre tap of the fused IBN's k×k one (and they share its
	// BatchNorm), so an expanded channel means the same in both kinds.
	ShareExpandProject Sharing = "expand+project"
)

// Sharings lists the sharing modes.
var Sharings = []Sharing{ShareNothing, ShareProject, ShareExpandProject}

// Builder configures a Supernet: create it with New, chain the options, call
// Build. Options record the first invalid value, which Build reports.
type Builder struct {
	cfg     Config
	be      compute.Backend
	lowered *bool
	cache   int
	err     error
}

// DefaultSharing is the default sharing between block kinds.
const DefaultSharing = ShareExpandProject

// DefaultCacheSize is the number of compiled path graphs kept (training and
// evaluation graphs together).
const DefaultCacheSize = 32

// New starts the configuration of the supernet of space. Defaults: inputs
// 28×28×1 with 10 classes (Fashion-MNIST), blocks.DefaultAdapt, width factor
// 1, DefaultOptimizer, BatchNorm epsilon 1e-3, seed 1, backend.Default(),
// DefaultCacheSize graphs.
func New(space *nas.Space) *Builder {
	return &Builder{cfg: Config{Space: space, Height: 28, Width: 28, Channels: 1, Classes: 10, Adapt: blocks.DefaultAdapt,
		WidthFactor: 1, Sharing: DefaultSharing, Optimizer: DefaultOptimizer(), BNEpsilon: convnet.DefaultBatchNormEpsilon, Seed: 1},
		cache: DefaultCacheSize}
}

// FromConfig starts from a complete configuration (e.g. a checkpoint's).
func FromConfig(cfg Config) *Builder {
	b := New(cfg.Space)
	b.cfg = cfg
	return b
}

func (b *Builder) fail(format string, args ...any) *Builder {
	if b.err == nil {
		b.err = fmt.Errorf("supernet: "+format, args...)
	}
	return b
}

// Input sets the proxy images' shape and the number of classes.
func (b *Builder) Input(height, width, channels, classes int) *Builder {
	if height <= 0 || width <= 0 || channels <= 0 || classes <= 0 {
		return b.fail("invalid input %dx%dx%d with %d classes", height, width, channels, classes)
	}
	b.cfg.Height, b.cfg.Width, b.cfg.Channels, b.cfg.Classes = height, width, channels, classes
	return b
}

// Adapt sets the proxy adaptation (see blocks.Adapt).
func (b *Builder) Adapt(a blocks.Adapt) *Builder {
	if !slices.Contains(blocks.Adapts, a) {
		return b.fail("unknown adaptation %q (valid: %v)", a, blocks.Adapts)
	}
	b.cfg.Adapt = a
	return b
}

// WidthFactor scales every width of the proxy networks (e.g. 0.5 to make the
// supernet affordable on a CPU); the deployed architectures are unchanged.
func (b *Builder) WidthFactor(w float64) *Builder {
	if !(w > 0) || math.IsInf(w, 0) {
		return b.fail("width factor must be positive, got %g", w)
	}
	b.cfg.WidthFactor = w
	return b
}

// Sharing sets the weight sharing between block kinds.
func (b *Builder) Sharing(s Sharing) *Builder {
	if !slices.Contains(Sharings, s) {
		return b.fail("unknown sharing %q (valid: %v)", s, Sharings)
	}
	b.cfg.Sharing = s
	return b
}

// Optimizer sets the weight optimizer.
func (b *Builder) Optimizer(o Optimizer) *Builder {
	if err := o.Validate(); err != nil {
		return b.fail("%v", err)
	}
	b.cfg.Optimizer = o
	return b
}

// Seed sets the seed of the weight initialisation.
func (b *Builder) Seed(s uint64) *Builder { b.cfg.Seed = s; return b }

// Backend sets the compute backend.
func (b *Builder) Backend(be compute.Backend) *Builder { b.be = be; return b }

// Lowered forces the convolution flavour (see convnet.Builder.Lowered).
func (b *Builder) Lowered(l bool) *Builder { b.lowered = &l; return b }

// CacheSize sets how many compiled path graphs are kept (>= 1).
func (b *Builder) CacheSize(n int) *Builder {
	if n < 1 {
		return b.fail("cache size must be at least 1, got %d", n)
	}
	b.cache = n
	return b
}

// Supernet is the weight-sharing model. Its weights and optimizer slots are
// Go arrays at the maximal shapes; each path graph takes the slices it uses as
// inputs and returns their gradients, which the optimizer applies to those
// slices only. It is not safe for concurrent use.
type Supernet struct {
	cfg    Config
	space  *nas.Space
	be     compute.Backend
	ops    convnet.Ops
	geo    geometry
	params []*param
	byPath map[string]*param
	cache  *lru
	inputs inputPool
	stats  Stats
}

// param is one shared variable: its weights and optimizer slots.
type param struct {
	spec  varSpec
	w     []float32
	slots [][]float32
}

// Stats counts the work of a supernet (since Build).
type Stats struct {
	TrainSteps, Evals int
	// Builds counts compiled path graphs; Hits the calls that found theirs
	// in the cache.
	Builds, Hits int
	// BuildSeconds is the time spent building and compiling graphs,
	// FirstRunSeconds their first executions (which allocate their buffers),
	// RunSeconds the other executions, UpdateSeconds copying slices and
	// applying the optimizer.
	BuildSeconds, FirstRunSeconds, RunSeconds, UpdateSeconds float64
}

// Build creates the supernet and initialises its variables from the seed.
func (b *Builder) Build() (sn *Supernet, err error) {
	if b.err != nil {
		return nil, b.err
	}
	cfg := b.cfg
	if cfg.Space == nil {
		return nil, errors.New("supernet: no search space")
	}
	if err := cfg.Space.Validate(); err != nil {
		return nil, fmt.Errorf("supernet: %w", err)
	}
	for _, st := range cfg.Space.Stages {
		for _, k := range st.Kinds {
			if k != blocks.KindIBN && k != blocks.KindFused {
				return nil, fmt.Errorf("supernet: block kind %q is not supported (ibn, fused)", k)
			}
		}
	}
	if err := cfg.Optimizer.Validate(); err != nil {
		return nil, fmt.Errorf("supernet: %w", err)
	}
	if !(cfg.BNEpsilon > 0) {
		return nil, fmt.Errorf("supernet: BatchNorm epsilon must be positive, got %g", cfg.BNEpsilon)
	}
	be := b.be
	if be == nil {
		if be, err = backend.Default(); err != nil {
			return nil, fmt.Errorf("supernet: %w", err)
		}
	}
	sn = &Supernet{cfg: cfg, space: cfg.Space, be: be, byPath: map[string]*param{}, cache: newLRU(b.cache)}
	sn.ops = convnet.Ops{Lowered: convnet.DefaultLowered(be)}
	if b.lowered != nil {
		sn.ops = convnet.Ops{Lowered: *b.lowered}
	}
	// The head (scaled like blocks.Arch.WithWidth) is the same for every
	// point: take it from any path.
	p0, err := sn.Path(make(nas.Point, len(cfg.Space.Layout().Sizes)))
	if err != nil {
		return nil, fmt.Errorf("supernet: %w", err)
	}
	if !slices.Contains(Sharings, cfg.Sharing) {
		return nil, fmt.Errorf("supernet: unknown sharing %q (valid: %v)", cfg.Sharing, Sharings)
	}
	sn.geo = newGeometry(cfg.Space, cfg.WidthFactor, cfg.Sharing, p0.Proxy.Head, cfg.Channels, cfg.Classes)
	sn.initVariables()
	return sn, nil
}

// Config returns the supernet's configuration.
func (sn *Supernet) Config() Config { return sn.cfg }

// Backend returns the compute backend.
func (sn *Supernet) Backend() compute.Backend { return sn.be }

// Stats returns the work counters.
func (sn *Supernet) Stats() Stats { return sn.stats }

// NumParams returns the number of shared weights (without optimizer slots).
func (sn *Supernet) NumParams() int {
	n := 0
	for _, p := range sn.params {
		n += len(p.w)
	}
	return n
}

func prod(d []int) int {
	n := 1
	for _, v := range d {
		n *= v
	}
	return n
}

// slotInit returns the optimizer slots of a kind with their initial values.
func (o Optimizer) slotInit() []float32 {
	if o.Kind == optim.RMSProp {
		return []float32{1, 0} // ms, mom
	}
	return []float32{0} // mom
}

// initVariables creates the shared variables, each drawn from its own
// random stream (seed, path), so the values do not depend on creation order.
func (sn *Supernet) initVariables() {
	inits := sn.cfg.Optimizer.slotInit()
	for _, s := range sn.geo.vars() {
		p := &param{spec: s, w: make([]float32, prod(s.shape))}
		switch s.init {
		case initOne:
			fill(p.w, 1)
		case initNormal:
			h := fnv.New64a()
			_, _ = h.Write([]byte(s.path))
			rng := rand.New(rand.NewPCG(sn.cfg.Seed, h.Sum64()))
			std := math.Sqrt(s.gain / float64(max(s.fanIn, 1)))
			for i := range p.w {
				p.w[i] = float32(rng.NormFloat64() * std)
			}
		}
		for _, v := range inits {
			slot := make([]float32, len(p.w))
			fill(slot, v)
			p.slots = append(p.slots, slot)
		}
		sn.params = append(sn.params, p)
		sn.byPath[s.path] = p
	}
}

func fill(v []float32, x float32) {
	if x == 0 {
		clear(v)
		return
	}
	for i := range v {
		v[i] = x
	}
}

// Path returns the path of point p: its deployed and proxy architectures.
func (sn *Supernet) Path(p nas.Point) (*Path, error) { return sn.MixedPath(p, nil) }

// MixedPath returns the path of point p whose op decisions (kind, kernel,
// depth) marked in avg average the outputs of all their options, as TuNAS's
// op warm-up enables every op with weight 1/n: kernels by one convolution
// with the average of the centred kernels, kinds by the average of the
// block outputs, depths by the average of the stage outputs. nil avg: none.
func (sn *Supernet) MixedPath(p nas.Point, avg []bool) (*Path, error) {
	c := sn.cfg
	return proxyOf(c.Space, p, avg, c.WidthFactor, c.Adapt, c.Height, c.Width, c.Channels, c.Classes)
}

// Close frees the compiled graphs.
func (sn *Supernet) Close() {
	sn.cache.clear()
	sn.inputs.clear()
}

// compiled is a compiled path graph: inputs images, labels and the weight
// slices of uses, in order; outputs logits (evaluation) or loss, correct
// count and the gradients of the slices (training).
type compiled struct {
	g    *Graph
	uses []use
}

// use is one weight slice of a path: [starts, starts+dims) of p, the graph's
// input, within the slice upd the optimizer updates (nil: the same).
type use struct {
	p      *param
	starts []int
	dims   []int
	upd    *box
}

// box is the slice [starts, starts+dims) of a variable.
type box struct{ starts, dims []int }

// lru is a least-recently-used cache of compiled path graphs.
type lru struct {
	size  int
	order *list.List // front: most recent; values *lruEntry
	byKey map[string]*list.Element
}

type lruEntry struct {
	key string
	c   *compiled
}

func newLRU(size int) *lru {
	return &lru{size: size, order: list.New(), byKey: map[string]*list.Element{}}
}

func (c *lru) get(key string) *compiled {
	if e, ok := c.byKey[key]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*lruEntry).c
	}
	return nil
}

func (c *lru) put(key string, cg *compiled) {
	c.byKey[key] = c.order.PushFront(&lruEntry{key: key, c: cg})
	for c.order.Len() > c.size {
		c.remove(c.order.Back().Value.(*lruEntry).key)
	}
}

func (c *lru) remove(key string) {
	if e, ok := c.byKey[key]; ok {
		c.order.Remove(e)
		delete(c.byKey, key)
		e.Value.(*lruEntry).c.g.Finalize()
	}
}

func (c *lru) clear() {
	for c.order.Len() > 0 {
		c.remove(c.order.Front().Value.(*lruEntry).key)
	}
}

// CachedGraphs returns the number of compiled graphs kept.
func (sn *Supernet) CachedGraphs() int { return sn.cache.order.Len() }

// Batch is a batch of normalised NHWC images and their labels.
type Batch struct {
	Images []float32
	Labels []int32
	// Size is the number of images.
	Size int
}

func (sn *Supernet) checkBatch(b Batch) error {
	n := sn.cfg.Height * sn.cfg.Width * sn.cfg.Channels
	if b.Size <= 0 || len(b.Images) != b.Size*n || len(b.Labels) != b.Size {
		return fmt.Errorf("supernet: batch of %d holds %d image values and %d labels, want %d and %d",
			b.Size, len(b.Images), len(b.Labels), b.Size*n, b.Size)
	}
	for i, l := range b.Labels {
		if l < 0 || int(l) >= sn.cfg.Classes {
			return fmt.Errorf("supernet: label %d of image %d outside the %d classes", l, i, sn.cfg.Classes)
		}
	}
	return nil
}

// run executes the path graph of p (compiling it if needed) on batch b and
// returns its outputs; inputs are the batch and the path's weight slices.
func (sn *Supernet) run(p nas.Point, avg []bool, b Batch, training bool) (c *compiled, out []*tensors.Tensor, err error) {
	if err := sn.checkBatch(b); err != nil {
		return nil, nil, err
	}
	path, err := sn.MixedPath(p, avg)
	if err != nil {
		return nil, nil, fmt.Errorf("supernet: %w", err)
	}
	key := fmt.Sprintf("%v/%d/%s", training, b.Size, path.Key)
	fresh := false
	if c = sn.cache.get(key); c == nil {
		fresh = true
		start := time.Now()
		if c, err = sn.compile(path, b.Size, training); err != nil {
			return nil, nil, err
		}
		sn.stats.BuildSeconds += time.Since(start).Seconds()
		sn.stats.Builds++
		sn.cache.put(key, c)
	} else {
		sn.stats.Hits++
	}
	start := time.Now()
	cfg := sn.cfg
	inputs := make([]any, 0, 2+len(c.uses))
	var shared []*tensors.Tensor // returned to the pool after the run
	feed := func(dims []int, write func(flat []float32)) error {
		t := sn.inputs.get(sn.be, shapes.Make(dtypes.Float32, dims...))
		in, err := sn.inputs.fill(sn.be, t, write)
		if err != nil {
			return fmt.Errorf("supernet: feeding path %s: %w", path.Key, err)
		}
		if in == any(t) {
			shared = append(shared, t)
		}
		inputs = append(inputs, in)
		return nil
	}
	labels := tensors.FromFlatDataAndDimensions(b.Labels, b.Size)
	defer func() { _ = labels.FinalizeAll() }()
	if err := feed([]int{b.Size, cfg.Height, cfg.Width, cfg.Channels}, func(flat []float32) { copy(flat, b.Images) }); err != nil {
		return nil, nil, err
	}
	inputs = append(inputs, labels)
	for _, u := range c.uses {
		if err := feed(u.dims, func(flat []float32) {
			forRuns(u.p.spec.shape, u.starts, u.dims, func(full, part, n int) { copy(flat[part:part+n], u.p.w[full:full+n]) })
		}); err != nil {
			return nil, nil, err
		}
	}
	copied := time.Now()
	sn.stats.UpdateSeconds += copied.Sub(start).Seconds()
	err = exceptions.TryCatch[error](func() { out = c.g.Run(inputs...) })
	for _, t := range shared {
		sn.inputs.put(t)
	}
	if fresh {
		sn.stats.FirstRunSeconds += time.Since(copied).Seconds()
	} else {
		sn.stats.RunSeconds += time.Since(copied).Seconds()
	}
	if err != nil {
		sn.cache.remove(key)
		return nil, nil, fmt.Errorf("supernet: running path %s: %w", path.Key, err)
	}
	return c, out, nil
}

// compile builds and compiles the graph of path for batches of batch images.
func (sn *Supernet) compile(path *Path, batch int, training bool) (c *compiled, err error) {
	cfg := sn.cfg
	g := NewGraph(sn.be, "supernet_path")
	err = exceptions.TryCatch[error](func() {
		images := Parameter(g, "images", shapes.Make(dtypes.Float32, batch, cfg.Height, cfg.Width, cfg.Channels))
		labels := Parameter(g, "labels", shapes.Make(dtypes.Int32, batch))
		pn := &pathNet{sn: sn, ops: sn.ops.ForBatch(batch), g: g, index: map[*param]int{}}
		logits := pn.logits(path, images)
		c = &compiled{g: g, uses: pn.uses}
		if !training {
			if err := g.Compile(logits); err != nil {
				panic(err)
			}
			return
		}
		loss := convnet.SmoothedCrossEntropy(logits, labels, cfg.Optimizer.LabelSmoothing)
		outs := append([]*Node{loss, correct(logits, labels)}, Gradient(loss, pn.nodes...)...)
		if err := g.Compile(outs...); err != nil {
			panic(err)
		}
	})
	if err != nil {
		g.Finalize()
		return nil, fmt.Errorf("supernet: building the graph of path %s: %w", path.Key, err)
	}
	return c, nil
}

// TrainStep updates the path of p on one batch at learning rate lr and
// returns the batch's loss (with label smoothing) and accuracy. Only the
// weight slices the path uses, and their optimizer slots, change.
func (sn *Supernet) TrainStep(p nas.Point, b Batch, lr float64) (loss, acc float64, err error) {
	return sn.TrainMixed(p, nil, b, lr)
}

// TrainMixed is TrainStep on the path of p whose op decisions marked in avg
// average their options (see MixedPath).
func (sn *Supernet) TrainMixed(p nas.Point, avg []bool, b Batch, lr float64) (loss, acc float64, err error) {
	if !(lr >= 0) || math.IsInf(lr, 0) {
		return 0, 0, fmt.Errorf("supernet: learning rate must be finite and >= 0, got %g", lr)
	}
	c, out, err := sn.run(p, avg, b, true)
	if err != nil {
		return 0, 0, err
	}
	// The gradients' buffers feed the next steps' weights (inputPool).
	defer func() {
		finalize(out[:2])
		for _, t := range out[2:] {
			sn.inputs.recycle(sn.be, t)
		}
	}()
	loss = float64(out[0].Value().(float32))
	acc = float64(out[1].Value().(float32)) / float64(b.Size)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, acc, fmt.Errorf("supernet: training diverged (loss %g)", loss)
	}
	start := time.Now()
	for i, u := range c.uses {
		tensors.MustConstFlatData(out[2+i], func(grad []float32) { sn.apply(u, grad, float32(lr)) })
	}
	sn.stats.UpdateSeconds += time.Since(start).Seconds()
	sn.stats.TrainSteps++
	return loss, acc, nil
}

// apply runs the optimizer on the slice u of its variable with gradient grad
// (laid out as the slice) and, when u is part of a larger slice u.upd, on
// the rest of u.upd with a zero gradient.
func (sn *Supernet) apply(u use, grad []float32, lr float32) {
	sn.applyBox(u.p, box{u.starts, u.dims}, grad, lr)
	if u.upd != nil {
		for _, b := range boxMinus(*u.upd, box{u.starts, u.dims}) {
			sn.applyBox(u.p, b, nil, lr)
		}
	}
}

// zeroGrad is a zero gradient for applyBox's runs without one (never
// written).
var zeroGrad [4096]float32

// boxMinus returns disjoint boxes covering a minus b (b inside a): per axis,
// the parts of a below and above b, within b on the axes before.
func boxMinus(a, b box) []box {
	var out []box
	cur := box{slices.Clone(a.starts), slices.Clone(a.dims)}
	for ax := range a.starts {
		lo, hi := b.starts[ax], b.starts[ax]+b.dims[ax]
		if lo > cur.starts[ax] {
			part := box{slices.Clone(cur.starts), slices.Clone(cur.dims)}
			part.dims[ax] = lo - cur.starts[ax]
			out = append(out, part)
		}
		if end := cur.starts[ax] + cur.dims[ax]; hi < end {
			part := box{slices.Clone(cur.starts), slices.Clone(cur.dims)}
			part.starts[ax], part.dims[ax] = hi, end-hi
			out = append(out, part)
		}
		cur.starts[ax], cur.dims[ax] = lo, hi-lo
	}
	return out
}

// applyBox runs the optimizer on slice b of p with gradient grad (laid out
// as the slice; nil: zero).
func (sn *Supernet) applyBox(p *param, b box, grad []float32, lr float32) {
	if grad == nil {
		// The same updates as with a gradient of zeros, a chunk at a time.
		splitRuns(p.spec.shape, b.starts, b.dims, func(full, _, n int) {
			for n > 0 {
				m := min(n, len(zeroGrad))
				sn.applyRun(p, full, zeroGrad[:m], lr)
				full, n = full+m, n-m
			}
		})
		return
	}
	splitRuns(p.spec.shape, b.starts, b.dims, func(full, part, n int) { sn.applyRun(p, full, grad[part:part+n], lr) })
}

// applyRun runs the optimizer on the values [full, full+len(grad)) of p.
func (sn *Supernet) applyRun(p *param, full int, grad []float32, lr float32) {
	o := sn.cfg.Optimizer
	wd := float32(0)
	if p.spec.decay {
		wd = float32(o.WeightDecay)
	}
	mu := float32(o.Momentum)
	end := full + len(grad)
	w := p.w[full:end]
	switch o.Kind {
	case optim.RMSProp:
		rho := float32(o.Decay)
		c := optim.Coeffs{LR: lr, WD: wd, Mu: mu, Rho: rho, Rho1: 1 - rho, Eps: float32(o.Epsilon)}
		optim.RMSPropRun(w, p.slots[0][full:end], p.slots[1][full:end], grad, c)
	case optim.SGD:
		optim.SGDRun(w, p.slots[0][full:end], grad, true, optim.Coeffs{LR: lr, WD: wd, Mu: mu})
	}
}

// forRuns calls fn for every contiguous run of the slice [starts,
// starts+dims) of a row-major array of the given shape: full is the run's
// offset in the array, part its offset in the slice (row-major, dims), n its
// length.
func forRuns(shape, starts, dims []int, fn func(full, part, n int)) {
	r := len(shape)
	// Merge trailing axes taken whole into the run.
	last := r - 1
	run := dims[last]
	for last > 0 && starts[last] == 0 && dims[last] == shape[last] {
		last--
		run *= dims[last]
	}
	stride := make([]int, r)
	stride[r-1] = 1
	for i := r - 2; i >= 0; i-- {
		stride[i] = stride[i+1] * shape[i+1]
	}
	idx := make([]int, last) // index over axes [0, last)
	part := 0
	for {
		full := starts[last] * stride[last]
		for i := range last {
			full += (starts[i] + idx[i]) * stride[i]
		}
		fn(full, part, run)
		part += run
		i := last - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < dims[i] {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return
		}
	}
}

// Logits runs the path of p on a batch (BatchNorm with the batch's
// statistics, nothing updated) and returns the logits, Size×Classes values.
func (sn *Supernet) Logits(p nas.Point, b Batch) ([]float32, error) {
	return sn.MixedLogits(p, nil, b)
}

// MixedLogits is Logits of the path of p whose op decisions marked in avg
// average their options (see MixedPath).
func (sn *Supernet) MixedLogits(p nas.Point, avg []bool, b Batch) ([]float32, error) {
	_, out, err := sn.run(p, avg, b, false)
	if err != nil {
		return nil, err
	}
	defer finalize(out)
	sn.stats.Evals++
	return tensors.CopyFlatData[float32](out[0])
}

// Accuracy returns the fraction of the batch the path of p classifies
// correctly (see Logits).
func (sn *Supernet) Accuracy(p nas.Point, b Batch) (float64, error) {
	logits, err := sn.Logits(p, b)
	if err != nil {
		return 0, err
	}
	return accuracy(logits, b.Labels, sn.cfg.Classes), nil
}

func accuracy(logits []float32, labels []int32, classes int) float64 {
	correct := 0
	for i, y := range labels {
		row := logits[i*classes : (i+1)*classes]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		if best == int(y) {
			correct++
		}
	}
	return float64(correct) / float64(len(labels))
}

func finalize(ts []*tensors.Tensor) {
	for _, t := range ts {
		_ = t.FinalizeAll()
	}
}

// inputPool keeps the input tensors of path graphs between steps, by shape:
// allocating them anew at every step cost more than filling them (the Go
// runtime zeroes large allocations, and a local tensor is copied once more to
// the backend); on a backend with shared buffers (the Go backend) the graph
// reads them in place. At most inputPoolBytes are kept.
//
// On such a backend it also keeps the gradients a training step returns
// (recycle): the next step writes weights of the same shape into their
// memory and donates them to the run, which hands them back to the backend's
// own buffer pool, where that run's outputs come from. Without that, every
// step's outputs (the gradients of all the weights it used) were fresh
// memory: tens of megabytes a step of page faults and garbage.
type inputPool struct {
	free  map[string][]*tensors.Tensor
	bytes int
}

const inputPoolBytes = 1 << 30

// get returns a tensor of the given shape (contents undefined).
func (p *inputPool) get(be compute.Backend, s shapes.Shape) *tensors.Tensor {
	key := s.String()
	if l := p.free[key]; len(l) > 0 {
		t := l[len(l)-1]
		p.free[key] = l[:len(l)-1]
		p.bytes -= int(s.ByteSize())
		return t
	}
	t, err := tensors.FromShapeForBackend(be, 0, s)
	if err != nil {
		return tensors.FromShape(s)
	}
	return t
}

// fill writes t's values with write and returns the input to run the graph
// with: t itself (a shared tensor), or t's buffer donated to the run (a
// recycled output, see recycle; t is then no longer valid).
func (p *inputPool) fill(be compute.Backend, t *tensors.Tensor, write func(flat []float32)) (any, error) {
	if t.IsShared() || !be.HasSharedBuffers() {
		return t, tensors.MutableFlatData(t, write)
	}
	buf, err := t.Buffer(be, 0)
	if err != nil {
		return nil, err
	}
	data, err := buf.Data()
	if err != nil {
		return nil, err
	}
	flat, ok := data.([]float32)
	if !ok || len(flat) != t.Size() {
		return nil, fmt.Errorf("recycled input %s: backend data is %T", t.Shape(), data)
	}
	write(flat)
	return DonateTensorBuffer(t, be, 0)
}

// recycle keeps an output tensor of a run (on a backend with shared buffers,
// whose memory fill can write) for use as an input; else it frees it.
func (p *inputPool) recycle(be compute.Backend, t *tensors.Tensor) {
	if t.IsShared() || !be.HasSharedBuffers() || t.DType() != dtypes.Float32 {
		_ = t.FinalizeAll()
		return
	}
	p.put(t)
}

// put returns t for reuse, or frees it when the pool is full.
func (p *inputPool) put(t *tensors.Tensor) {
	n := int(t.Shape().ByteSize())
	if p.bytes+n > inputPoolBytes {
		_ = t.FinalizeAll()
		return
	}
	if p.free == nil {
		p.free = map[string][]*tensors.Tensor{}
	}
	key := t.Shape().String()
	p.free[key] = append(p.free[key], t)
	p.bytes += n
}

// clear frees every pooled tensor.
func (p *inputPool) clear() {
	for _, l := range p.free {
		for _, t := range l {
			_ = t.FinalizeAll()
		}
	}
	p.free, p.bytes = nil, 0
}
