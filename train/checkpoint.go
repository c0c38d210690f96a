package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/multihw/multihw/backend"
	"github.com/multihw/multihw/blocks"
	"github.com/multihw/multihw/blocks/convnet"
	"github.com/multihw/multihw/internal/atomicfile"
	"github.com/multihw/multihw/internal/checked"
	"github.com/multihw/multihw/internal/memlimit"
	"github.com/multihw/multihw/internal/strictjson"
	"github.com/multihw/multihw/train/data"
	"github.com/multihw/multihw/train/optim"
)

// Checkpoint file format (one self-contained file per checkpoint, written
// atomically with internal/atomicfile, so a killed run leaves either the
// previous set of files or the new one, never a torn file):
//
//	8 bytes   magic "MHWCKPT2"
//	8 bytes   little-endian uint64 H, the length of the header
//	8 bytes   little-endian uint64 D, the length of the data
//	32 bytes  SHA-256 of the header and the data (everything after this field)
//	H bytes   JSON header (Checkpoint): run description and variable table
//	D bytes   the variables' raw little-endian bytes, in table order
//
// The checksum covers the header: a changed normalisation, recipe or step is
// as much a corruption as a changed weight. A load checks the magic, that the
// declared sizes add up to the file's size and fit the memory limit, then the
// checksum, before it decodes anything; a truncated or corrupted file gives
// an error naming the file. Files of version 1 ("MHWCKPT1": magic, H, header,
// data; only the data checksummed, in the header) are still read, with a note.
//
// gomlx's own ml/model/checkpoint is not used: it writes the .json and .bin
// files in place (os.Create, no fsync, no rename), and lists a checkpoint as
// soon as its .json exists, so a kill during a save can leave a torn newest
// checkpoint that resume would pick.
const (
	checkpointMagic   = "MHWCKPT2"
	checkpointMagicV1 = "MHWCKPT1"
	checkpointPrefix2 = 8 + 8 + 8 + sha256.Size
	checkpointFormat  = "multihw-checkpoint"
	checkpointVer     = 2
	checkpointExt     = ".mhwc"
	checkpointPrefix  = "ckpt-"
	// CheckpointsDir is the sub-directory of a run's output directory that
	// holds its checkpoints.
	CheckpointsDir = "checkpoints"
	// maxHeaderBytes bounds the header a file may announce.
	maxHeaderBytes = 64 << 20
	// corruptSuffix is appended to a corrupted checkpoint set aside by a
	// resumed run (it is kept, not deleted, and no longer listed).
	corruptSuffix = ".corrupt"
)

// ErrNoCheckpoint is returned (wrapped) when a directory holds no checkpoint.
var ErrNoCheckpoint = errors.New("no checkpoint")

// DatasetInfo describes the dataset a run trained on: enough to reload it and
// to check that a resumed run or an evaluation uses the same data.
type DatasetInfo struct {
	Kind     string    `json:"kind"`
	Dir      string    `json:"dir"`
	Classes  []string  `json:"classes"`
	Height   int       `json:"height"`
	Width    int       `json:"width"`
	Channels int       `json:"channels"`
	Norm     data.Norm `json:"norm"`
	TrainLen int       `json:"train_len"`
	ValLen   int       `json:"validation_len"`
	TestLen  int       `json:"test_len"`
}

// Spec is the dataset spec (see data.SpecHelp) to reload the dataset.
func (d DatasetInfo) Spec() string { return d.Kind + ":" + d.Dir }

func datasetInfo(ds *data.Dataset) DatasetInfo {
	return DatasetInfo{Kind: ds.Kind, Dir: ds.Dir, Classes: slices.Clone(ds.Classes), Height: ds.Height(), Width: ds.Width(),
		Channels: ds.Channels(), Norm: data.Norm{Mean: slices.Clone(ds.Norm.Mean), Std: slices.Clone(ds.Norm.Std)},
		TrainLen: ds.Train.Len(), ValLen: ds.Validation.Len(), TestLen: ds.Test.Len()}
}

// compatible reports why ds cannot be used with a checkpoint trained on d.
// The test split may differ (evaluating on other data is allowed); the image
// shape and the classes must match, and for resuming the training split and
// normalisation too (strict).
func (d DatasetInfo) compatible(ds *data.Dataset, strict bool) error {
	got := datasetInfo(ds)
	if got.Height != d.Height || got.Width != d.Width || got.Channels != d.Channels {
		return fmt.Errorf("dataset images are %dx%dx%d, the checkpoint was trained on %dx%dx%d",
			got.Height, got.Width, got.Channels, d.Height, d.Width, d.Channels)
	}
	if !slices.Equal(got.Classes, d.Classes) {
		return fmt.Errorf("dataset classes %q differ from the checkpoint's %q", got.Classes, d.Classes)
	}
	if strict {
		if got.TrainLen != d.TrainLen || got.ValLen != d.ValLen {
			return fmt.Errorf("dataset has %d training and %d validation images, the checkpoint's run had %d and %d",
				got.TrainLen, got.ValLen, d.TrainLen, d.ValLen)
		}
		if !slices.Equal(got.Norm.Mean, d.Norm.Mean) || !slices.Equal(got.Norm.Std, d.Norm.Std) {
			return fmt.Errorf("dataset normalisation %v differs from the checkpoint's %v (different training split?)", got.Norm, d.Norm)
		}
	}
	return nil
}

// VarInfo is one entry of a checkpoint's variable table.
type VarInfo struct {
	Path      string `json:"path"`
	DType     string `json:"dtype"`
	Shape     []int  `json:"shape"`
	Trainable bool   `json:"trainable"`
	Offset    int64  `json:"offset"`
	Bytes     int64  `json:"bytes"`
}

// Checkpoint is a saved training state: everything needed to continue the
// run exactly (variables including optimizer slots, global step and the RNG
// state; recipe, plan, seed, architecture, dataset description) or to
// evaluate and export the model. LoadCheckpoint reads one.
type Checkpoint struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// Step is the number of training steps done (the global step).
	Step int `json:"step"`
	// Final marks the checkpoint written at the end of a run, after the
	// BatchNorm recalibration and the final evaluation.
	Final bool `json:"final,omitempty"`
	// Stopped says why a final checkpoint is short of Plan.TotalSteps
	// ("time budget"), empty otherwise.
	Stopped string     `json:"stopped,omitempty"`
	Recipe  Recipe     `json:"recipe"`
	Plan    optim.Plan `json:"plan"`
	Seed    uint64     `json:"seed"`
	// Arch is the architecture as given (the deployed one, e.g. 224 px,
	// 1001 classes); TrainArch is the proxy actually trained (see blocks.ProxyArch).
	Arch      *blocks.Arch `json:"arch"`
	TrainArch *blocks.Arch `json:"train_arch"`
	Adapt     blocks.Adapt `json:"adapt"`
	Dataset   DatasetInfo  `json:"dataset"`
	// TrainSeconds is the wall time spent training so far, over all resumes.
	TrainSeconds float64 `json:"train_seconds"`
	// TrainStats are the moving averages of the training loss and accuracy.
	TrainStats trainEMA `json:"train_stats"`
	// EvalEvery is the run's evaluation interval in steps (kept on resume).
	EvalEvery  int       `json:"eval_every"`
	Created    time.Time `json:"created"`
	Variables  []VarInfo `json:"variables"`
	DataBytes  int64     `json:"data_bytes"`
	DataSHA256 string    `json:"data_sha256"`

	// Path is the file the checkpoint was read from or written to.
	Path string `json:"-"`
	// Notes say what the user should know about how it was read (newer
	// checkpoints skipped as unreadable, an older format).
	Notes []string `json:"-"`
	data  []byte
}

// checkpointName is the file name of the checkpoint of step.
func checkpointName(step int) string {
	return fmt.Sprintf("%s%08d%s", checkpointPrefix, step, checkpointExt)
}

// stepOfName parses the step out of a checkpoint file name (-1 if not one).
func stepOfName(name string) int {
	s, ok := strings.CutPrefix(name, checkpointPrefix)
	if !ok {
		return -1
	}
	s, ok = strings.CutSuffix(s, checkpointExt)
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// ListCheckpoints returns the checkpoint files in dir (a run's output
// directory or its checkpoints sub-directory), oldest step first. A missing
// directory yields an empty list.
func ListCheckpoints(dir string) ([]string, error) {
	if st, err := os.Stat(filepath.Join(dir, CheckpointsDir)); err == nil && st.IsDir() {
		dir = filepath.Join(dir, CheckpointsDir)
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing checkpoints: %w", err)
	}
	type item struct {
		step int
		path string
	}
	var items []item
	for _, e := range entries {
		if s := stepOfName(e.Name()); s >= 0 && !e.IsDir() {
			items = append(items, item{s, filepath.Join(dir, e.Name())})
		}
	}
	slices.SortFunc(items, func(a, b item) int { return a.step - b.step })
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.path
	}
	return out, nil
}

// LoadCheckpoint reads a checkpoint: path is a checkpoint file, or a run's
// output directory (or its checkpoints sub-directory), in which case the
// newest valid checkpoint is read: a corrupted or truncated newer one (a disk
// problem, a copy cut short) is skipped, and the returned checkpoint's Notes
// say which and why. A checkpoint file given by name must be valid; errors
// name the file. Only regular files are read, after their declared sizes are
// checked against the file size and the memory limit (internal/memlimit).
func LoadCheckpoint(path string) (*Checkpoint, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if !st.IsDir() {
		return readCheckpoint(path)
	}
	list, err := ListCheckpoints(path)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("checkpoint: %s: %w (expected %s/%s*%s files)", path, ErrNoCheckpoint, CheckpointsDir, checkpointPrefix, checkpointExt)
	}
	c, bad, err := newestValid(list)
	if err != nil {
		return nil, err
	}
	for _, b := range bad {
		c.Notes = append(c.Notes, fmt.Sprintf("%v; using %s (step %d) instead", b.err, c.Path, c.Step))
	}
	return c, nil
}

// badCheckpoint is a checkpoint file that could not be read.
type badCheckpoint struct {
	path string
	err  error
}

// newestValid reads the newest readable checkpoint of list (oldest first) and
// returns the newer ones that failed; if none is readable, the newest's error.
func newestValid(list []string) (*Checkpoint, []badCheckpoint, error) {
	var bad []badCheckpoint
	for i := len(list) - 1; i >= 0; i-- {
		c, err := readCheckpoint(list[i])
		if err == nil {
			return c, bad, nil
		}
		bad = append(bad, badCheckpoint{list[i], err})
	}
	if len(bad) == 1 {
		return nil, nil, bad[0].err
	}
	return nil, nil, fmt.Errorf("no readable checkpoint: %w (and %d older ones fail too)", bad[0].err, len(bad)-1)
}

// readCheckpoint reads one checkpoint file.
func readCheckpoint(path string) (*Checkpoint, error) {
	c, err := readCheckpointFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	c.Path = path
	return c, nil
}

func readCheckpointFile(path string) (*Checkpoint, error) {
	f, size, err := memlimit.OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var pre [checkpointPrefix2]byte
	n, err := io.ReadFull(f, pre[:min(int64(len(pre)), size)])
	if err != nil {
		return nil, err
	}
	if n < 16 || (string(pre[:8]) != checkpointMagic && string(pre[:8]) != checkpointMagicV1) {
		return nil, fmt.Errorf("not a multihw checkpoint (bad magic; %d bytes)", size)
	}
	if string(pre[:8]) == checkpointMagicV1 {
		return readCheckpointV1(f, size)
	}
	if n < checkpointPrefix2 {
		return nil, fmt.Errorf("truncated or corrupted: %d bytes, shorter than the %d-byte preamble", size, checkpointPrefix2)
	}
	h, d := binary.LittleEndian.Uint64(pre[8:16]), binary.LittleEndian.Uint64(pre[16:24])
	if h > maxHeaderBytes || d > math.MaxInt64/2 || uint64(size) != checkpointPrefix2+h+d {
		return nil, fmt.Errorf("truncated or corrupted: header of %d and data of %d bytes announced, the file has %d bytes after the %d-byte preamble",
			h, d, size-checkpointPrefix2, checkpointPrefix2)
	}
	if err := memlimit.Check(fmt.Sprintf("loading checkpoint %s", path), int64(h+d)); err != nil {
		return nil, err
	}
	rest := make([]byte, h+d)
	if _, err := io.ReadFull(f, rest); err != nil {
		return nil, fmt.Errorf("truncated while reading: %w", err)
	}
	if sum := sha256.Sum256(rest); !bytes.Equal(sum[:], pre[24:24+sha256.Size]) {
		return nil, fmt.Errorf("corrupted: checksum mismatch (header or data changed)")
	}
	return decodeCheckpoint(rest[:h], rest[h:], checkpointVer)
}

// readCheckpointV1 reads a version-1 file (magic, header length, header,
// data; the data's checksum in the header).
func readCheckpointV1(f *os.File, size int64) (*Checkpoint, error) {
	if _, err := f.Seek(8, io.SeekStart); err != nil {
		return nil, err
	}
	var hb [8]byte
	if _, err := io.ReadFull(f, hb[:]); err != nil {
		return nil, fmt.Errorf("truncated or corrupted: %w", err)
	}
	h := binary.LittleEndian.Uint64(hb[:])
	if h > maxHeaderBytes || uint64(size-16) < h {
		return nil, fmt.Errorf("truncated or corrupted: header of %d bytes announced, %d bytes follow", h, size-16)
	}
	if err := memlimit.Check("loading a checkpoint", size); err != nil {
		return nil, err
	}
	rest := make([]byte, size-16)
	if _, err := io.ReadFull(f, rest); err != nil {
		return nil, fmt.Errorf("truncated while reading: %w", err)
	}
	c, err := decodeCheckpoint(rest[:h], rest[h:], 1)
	if err != nil {
		return nil, err
	}
	c.Notes = append(c.Notes, "version-1 checkpoint (written by an earlier multihw): its header is not covered by a checksum")
	return c, nil
}

func decodeCheckpoint(hdr, body []byte, version int) (*Checkpoint, error) {
	c := &Checkpoint{}
	if err := strictjson.Unmarshal(hdr, c); err != nil {
		return nil, fmt.Errorf("corrupted header: %w", err)
	}
	if c.Format != checkpointFormat || c.Version != version {
		return nil, fmt.Errorf("unsupported checkpoint format %q version %d (want %q version %d)", c.Format, c.Version, checkpointFormat, version)
	}
	if int64(len(body)) != c.DataBytes {
		return nil, fmt.Errorf("truncated or corrupted: %d data bytes, header says %d", len(body), c.DataBytes)
	}
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != c.DataSHA256 {
		return nil, fmt.Errorf("corrupted: data checksum mismatch")
	}
	var off int64
	for _, v := range c.Variables {
		dt, err := storedDType(v.DType)
		if err != nil {
			return nil, fmt.Errorf("variable %s: %w", v.Path, err)
		}
		dims := make([]int64, len(v.Shape))
		for i, d := range v.Shape {
			dims[i] = int64(d)
		}
		elems, ok := checked.Mul(dims...)
		n, ok2 := checked.Mul(elems, int64(dt.Size()))
		if !ok || !ok2 || v.Offset != off || v.Bytes != n {
			return nil, fmt.Errorf("variable %s: bad table entry (offset %d, %d bytes, shape %v)", v.Path, v.Offset, v.Bytes, v.Shape)
		}
		if off, ok = checked.Add(off, n); !ok {
			return nil, fmt.Errorf("variable %s: bad table entry", v.Path)
		}
	}
	if off != c.DataBytes {
		return nil, fmt.Errorf("variable table covers %d bytes of %d", off, c.DataBytes)
	}
	if c.Arch == nil || c.TrainArch == nil {
		return nil, fmt.Errorf("header lacks the architecture")
	}
	if err := c.Arch.Validate(); err != nil {
		return nil, fmt.Errorf("invalid architecture: %w", err)
	}
	if err := c.TrainArch.Validate(); err != nil {
		return nil, fmt.Errorf("invalid training architecture: %w", err)
	}
	c.data = body
	return c, nil
}

// storedDType parses a variable's dtype. Only dtypes of whole bytes per
// value can be stored: the variable table counts elements × Size(), and
// gomlx panics on the Size of InvalidDType.
func storedDType(name string) (dt dtypes.DType, err error) {
	if dt, err = dtypes.DTypeString(name); err != nil {
		return dt, fmt.Errorf("unknown dtype %q", name)
	}
	ok := func() (ok bool) {
		defer func() {
			if recover() != nil {
				ok = false
			}
		}()
		return dt != dtypes.InvalidDType && dt.Size() > 0 && !dt.IsPacked()
	}()
	if !ok {
		return dt, fmt.Errorf("dtype %q cannot be stored in a checkpoint (invalid, or not a whole number of bytes per value)", name)
	}
	return dt, nil
}

// Tensor returns a new tensor holding the value of the variable at path.
func (c *Checkpoint) Tensor(path string) (*tensors.Tensor, error) {
	for _, v := range c.Variables {
		if v.Path == path {
			return c.tensor(v)
		}
	}
	return nil, fmt.Errorf("checkpoint %s has no variable %q", c.Path, path)
}

func (c *Checkpoint) tensor(v VarInfo) (*tensors.Tensor, error) {
	dt, err := storedDType(v.DType)
	if err != nil {
		return nil, err
	}
	t := tensors.FromShape(shapes.Make(dt, v.Shape...))
	err = t.MutableBytes(func(b []byte) { copy(b, c.data[v.Offset:v.Offset+v.Bytes]) })
	if err != nil {
		return nil, fmt.Errorf("variable %s: %w", v.Path, err)
	}
	return t, nil
}

// Restore creates in store every variable of the checkpoint whose path keep
// accepts (nil: all), with its value and trainable flag. The store must not
// hold them yet.
func (c *Checkpoint) Restore(store *model.Store, keep func(path string) bool) error {
	if store == nil {
		return fmt.Errorf("restore: store is nil")
	}
	for _, vi := range c.Variables {
		if keep != nil && !keep(vi.Path) {
			continue
		}
		t, err := c.tensor(vi)
		if err != nil {
			return err
		}
		if store.GetVariable(vi.Path) != nil {
			return fmt.Errorf("restoring %s: variable already exists in the store", vi.Path)
		}
		v, err := store.CreateVariable(vi.Path, t)
		if err != nil {
			return fmt.Errorf("restoring %s: %w", vi.Path, err)
		}
		v.SetTrainable(vi.Trainable)
	}
	return nil
}

// IsModelVariable reports whether a store path holds a model variable (as
// opposed to optimizer, metric, step and RNG state).
func IsModelVariable(path string) bool { return strings.HasPrefix(path, "/"+ModelScope+"/") }

// gomlxMetricsScope holds the state of gomlx's metrics, which is not saved:
// the variables are named with a random UUID per process (a resumed run would
// never reuse them), and the moving averages that matter are kept in
// Checkpoint.TrainStats instead.
const gomlxMetricsScope = "/metrics/"

// errNonFinite reports non-finite values about to be checkpointed.
type errNonFinite struct{ path string }

func (e errNonFinite) Error() string { return fmt.Sprintf("variable %s holds NaN or Inf", e.path) }

// encode returns the file bytes of the checkpoint of store's variables
// (header fields taken from c). It refuses to save non-finite float32 values.
func (c *Checkpoint) encode(store *model.Store) ([]byte, error) {
	var body bytes.Buffer
	c.Variables = c.Variables[:0]
	for v := range store.IterVariables() {
		// The last step's gradients (updater) are not state: a resumed run
		// computes its own.
		if strings.HasPrefix(v.Path(), gomlxMetricsScope) || strings.HasPrefix(v.Path(), gradsScope+"/") {
			continue
		}
		t, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("variable %s: %w", v.Path(), err)
		}
		var werr error
		finite := true
		err = t.ConstBytes(func(b []byte) {
			if t.DType() == dtypes.Float32 {
				for i := 0; i+4 <= len(b); i += 4 {
					f := math.Float32frombits(binary.LittleEndian.Uint32(b[i:]))
					if f != f || math.IsInf(float64(f), 0) {
						finite = false
						return
					}
				}
			}
			c.Variables = append(c.Variables, VarInfo{Path: v.Path(), DType: t.DType().String(), Shape: slices.Clone(t.Shape().Dimensions),
				Trainable: v.Trainable, Offset: int64(body.Len()), Bytes: int64(len(b))})
			_, werr = body.Write(b)
		})
		if err == nil {
			err = werr
		}
		if err != nil {
			return nil, fmt.Errorf("variable %s: %w", v.Path(), err)
		}
		if !finite {
			return nil, errNonFinite{v.Path()}
		}
	}
	sum := sha256.Sum256(body.Bytes())
	c.Format, c.Version = checkpointFormat, checkpointVer
	c.DataBytes, c.DataSHA256 = int64(body.Len()), hex.EncodeToString(sum[:])
	hdr, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	out := make([]byte, checkpointPrefix2, checkpointPrefix2+len(hdr)+body.Len())
	copy(out, checkpointMagic)
	binary.LittleEndian.PutUint64(out[8:], uint64(len(hdr)))
	binary.LittleEndian.PutUint64(out[16:], uint64(body.Len()))
	out = append(out, hdr...)
	out = append(out, body.Bytes()...)
	all := sha256.Sum256(out[checkpointPrefix2:])
	copy(out[24:], all[:])
	c.data = out[checkpointPrefix2+len(hdr):]
	return out, nil
}

// save writes the checkpoint of store into dir/checkpoints atomically and
// removes the oldest ones beyond keep.
func (c *Checkpoint) save(dir string, store *model.Store, keep int) error {
	raw, err := c.encode(store)
	if err != nil {
		return err
	}
	cdir := filepath.Join(dir, CheckpointsDir)
	path := filepath.Join(cdir, checkpointName(c.Step))
	if err := atomicfile.Write(path, 0o644, func(f *os.File) error {
		_, err := io.Copy(f, bytes.NewReader(raw))
		return err
	}); err != nil {
		return fmt.Errorf("saving checkpoint: %w", err)
	}
	c.Path = path
	list, err := ListCheckpoints(cdir)
	if err != nil {
		return err
	}
	for i := 0; i < len(list)-max(keep, 1); i++ {
		_ = os.Remove(list[i])
	}
	return nil
}

// InitCheckpoint returns an in-memory checkpoint (Path "") of arch as it is
// (no adaptation, its own resolution and classes) with randomly initialised
// weights drawn from seed on the Go backend, for benchmarks and tests of
// inference and export. Its normalisation is mean 0.5, std 0.25 per channel.
func InitCheckpoint(arch *blocks.Arch, seed uint64) (ck *Checkpoint, err error) {
	defer recoverErr(&err, "initialising a checkpoint")
	if err := arch.Validate(); err != nil {
		return nil, err
	}
	if err := CheckMemory("initialising "+arch.Name, arch, 1, false); err != nil {
		return nil, err
	}
	be, err := backend.New("go")
	if err != nil {
		return nil, err
	}
	b := convnet.New(arch)
	store := model.NewStore()
	defer store.Finalize()
	store.SetParam(model.ParamInitialSeed, int64(seed))
	exec, err := model.NewExec(be, store, func(scope *model.Scope, images *graph.Node) *graph.Node {
		return b.Logits(scope.In(ModelScope), images)
	})
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	r, c := arch.Resolution, arch.Channels
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(make([]float32, r*r*c), 1, r, r, c))
	if err != nil {
		return nil, err
	}
	_ = out[0].FinalizeAll()
	classes := make([]string, arch.Classes)
	for i := range classes {
		classes[i] = strconv.Itoa(i)
	}
	norm := data.Norm{Mean: make([]float32, c), Std: make([]float32, c)}
	for i := range c {
		norm.Mean[i], norm.Std[i] = 0.5, 0.25
	}
	ck = &Checkpoint{Recipe: DefaultRecipe(), Seed: seed, Arch: arch.Clone(), TrainArch: arch.Clone(), Adapt: blocks.AdaptNone,
		Dataset: DatasetInfo{Kind: "none", Classes: classes, Height: r, Width: r, Channels: c, Norm: norm}, Created: time.Now().UTC()}
	if _, err := ck.encode(store); err != nil {
		return nil, err
	}
	return ck, nil
}
