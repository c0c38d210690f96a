package tunas

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/multihw/multihw/internal/atomicfile"
	"github.com/multihw/multihw/internal/memlimit"
	"github.com/multihw/multihw/internal/strictjson"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/nas/supernet"
)

// Checkpoint file format: one file, replaced atomically (internal/atomicfile),
// so a killed search leaves the previous checkpoint or the new one:
//
//	8 bytes   magic "MHWSRCH2"
//	8 bytes   little-endian uint64 H, the header length
//	H bytes   JSON header (checkpoint): configuration, step, controller,
//	          history, snapshots
//	...       the supernet's state (supernet.WriteState), absent for a
//	          synthetic-quality search
//	32 bytes  SHA-256 of everything before it (header and state)
//
// A load verifies the checksum over the whole file before it decodes
// anything. Before a save replaces CheckpointFile, the previous checkpoint is
// renamed to PrevCheckpointFile, so that a checkpoint damaged after it was
// written (or a save killed between the two renames) still leaves a valid
// one to resume from; the resume says which it used.
const (
	checkpointMagic   = "MHWSRCH2"
	checkpointMagicV1 = "MHWSRCH1" // header and state, no checksum: version-2 headers still read
)

// PrevCheckpointFile is the checkpoint before the newest one.
const PrevCheckpointFile = "checkpoint.prev.mhws"

// maxSearchHeader bounds the header a checkpoint may announce (the history
// of a long search is a few tens of MB).
const maxSearchHeader = 1 << 30

type checkpoint struct {
	Format     string          `json:"format"`
	Config     Config          `json:"config"`
	Step       int             `json:"step"`
	Controller *nas.Controller `json:"controller"`
	History    []Record        `json:"history"`
	Snapshots  []Snapshot      `json:"snapshots"`
	Seconds    float64         `json:"seconds"`
	Resumes    int             `json:"resumes"`
	Synthetic  bool            `json:"synthetic"`
	Created    time.Time       `json:"created"`

	path   string // where it was read from
	offset int64  // of the supernet state
	notes  []string
}

// checkpointFormat names the checkpoint header's format: version 3 is
// version 2 (see ResultFormat for what changed then) in a checksummed file
// (magic MHWSRCH2); version-2 headers in unchecksummed files (MHWSRCH1) are
// still read, with a note.
const (
	checkpointFormat          = "multihw-search-checkpoint/3"
	checkpointFormatUnchecked = "multihw-search-checkpoint/2"
)

// formatHint explains a format of an earlier version.
func formatHint(got string) string {
	if strings.HasSuffix(got, "/1") {
		return " (written before the supernet, cost and retrained network were one network and before width options were distinct: its points and supernet mean something else now; rerun the search)"
	}
	return ""
}

// checkpoint saves the search state.
func (r *run) checkpoint() error {
	if r.s.out == "" {
		return nil
	}
	ck := checkpoint{Format: checkpointFormat, Config: r.cfg, Step: r.step, Controller: r.ctl, History: r.history,
		Snapshots: r.snapshots, Seconds: r.seconds(), Resumes: r.resumes, Synthetic: r.sn == nil, Created: time.Now().UTC()}
	hdr, err := json.Marshal(ck)
	if err != nil {
		return fmt.Errorf("search: checkpoint: %w", err)
	}
	path := filepath.Join(r.s.out, CheckpointFile)
	// Keep the previous checkpoint until the new one is in place.
	if err := os.Rename(path, filepath.Join(r.s.out, PrevCheckpointFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("search: checkpoint: keeping the previous one: %w", err)
	}
	err = atomicfile.Write(path, 0o644, func(f *os.File) error {
		bw := bufio.NewWriterSize(f, 1<<20)
		sum := sha256.New()
		w := io.MultiWriter(bw, sum)
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(hdr)))
		if _, err := w.Write(append(append([]byte(checkpointMagic), n[:]...), hdr...)); err != nil {
			return err
		}
		if r.sn != nil {
			if err := r.sn.WriteState(w); err != nil {
				return err
			}
		}
		if _, err := bw.Write(sum.Sum(nil)); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("search: checkpoint: %w", err)
	}
	r.lastCkpt = time.Now()
	return nil
}

// loadNewest reads the checkpoint of a search directory: CheckpointFile, or
// when it is missing or unreadable PrevCheckpointFile, with a note saying so.
// It returns an error wrapping os.ErrNotExist when there is neither.
func loadNewest(dir string) (*checkpoint, error) {
	path := filepath.Join(dir, CheckpointFile)
	ck, err := loadCheckpoint(path)
	if err == nil {
		return ck, nil
	}
	prev, perr := loadCheckpoint(filepath.Join(dir, PrevCheckpointFile))
	if perr != nil {
		if errors.Is(perr, os.ErrNotExist) {
			return nil, err // the newest one's error (or not-exist)
		}
		if errors.Is(err, os.ErrNotExist) {
			return nil, perr
		}
		return nil, fmt.Errorf("%w (the previous checkpoint fails too: %v)", err, perr)
	}
	why := "it is missing (a save was interrupted)"
	if !errors.Is(err, os.ErrNotExist) {
		why = err.Error()
	}
	prev.notes = append(prev.notes, fmt.Sprintf("%s: %s; using the previous checkpoint %s (step %d)", path, why, prev.path, prev.Step))
	return prev, nil
}

// loadCheckpoint reads and verifies one checkpoint file and decodes its
// header (an error wrapping os.ErrNotExist when there is no file).
func loadCheckpoint(path string) (*checkpoint, error) {
	f, size, err := memlimit.OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fail := func(format string, args ...any) (*checkpoint, error) {
		return nil, fmt.Errorf("search: checkpoint %s: %s", path, fmt.Sprintf(format, args...))
	}
	var pre [16]byte
	if _, err := io.ReadFull(f, pre[:]); err != nil || (string(pre[:8]) != checkpointMagic && string(pre[:8]) != checkpointMagicV1) {
		return fail("not a search checkpoint (bad magic; %d bytes)", size)
	}
	v1 := string(pre[:8]) == checkpointMagicV1
	trailer := uint64(sha256.Size)
	if v1 {
		trailer = 0
	}
	n := binary.LittleEndian.Uint64(pre[8:])
	if n > maxSearchHeader || uint64(size) < 16+n+trailer {
		return fail("truncated or corrupted: header of %d bytes announced, the file has %d bytes", n, size)
	}
	if !v1 {
		// Verify the whole file before decoding anything.
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		sum := sha256.New()
		if _, err := io.CopyN(sum, bufio.NewReaderSize(f, 1<<20), size-sha256.Size); err != nil {
			return fail("reading: %v", err)
		}
		var want [sha256.Size]byte
		if _, err := f.ReadAt(want[:], size-sha256.Size); err != nil {
			return fail("reading: %v", err)
		}
		if !bytes.Equal(sum.Sum(nil), want[:]) {
			return fail("corrupted: checksum mismatch")
		}
	}
	if err := memlimit.Check("reading the search checkpoint "+path, int64(n)); err != nil {
		return nil, err
	}
	hdr := make([]byte, n)
	if _, err := f.ReadAt(hdr, 16); err != nil {
		return fail("reading: %v", err)
	}
	// The format first: a header of another version has other fields.
	var format struct {
		Format string `json:"format"`
	}
	if err := json.Unmarshal(hdr, &format); err != nil {
		return fail("%v", err)
	}
	if want := map[bool]string{false: checkpointFormat, true: checkpointFormatUnchecked}[v1]; format.Format != want {
		return fail("format %q, want %q%s", format.Format, want, formatHint(format.Format))
	}
	ck := &checkpoint{}
	if err := strictjson.Unmarshal(hdr, ck); err != nil {
		return fail("%v", err)
	}
	ck.path, ck.offset = path, int64(16+n)
	if v1 {
		ck.notes = append(ck.notes, fmt.Sprintf("%s was written by an earlier multihw, without a checksum", path))
	}
	return ck, nil
}

// readState reads the supernet state of a verified checkpoint into sn.
func (ck *checkpoint) readState(sn *supernet.Supernet) error {
	f, err := os.Open(ck.path)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(ck.offset, io.SeekStart); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	if err := sn.ReadState(bufio.NewReaderSize(f, 1<<20)); err != nil {
		return fmt.Errorf("search: checkpoint %s: %w", ck.path, err)
	}
	return nil
}

// restore continues from ck.
func (r *run) restore(ck *checkpoint) error {
	c := ck.Controller
	// The Adam moments are indexed like the logits (below and in every
	// update): a header without them (edited, or damaged before its checksum)
	// is refused, not a panic.
	if c == nil || len(c.Logits) != len(r.sizes) || len(c.M) != len(r.sizes) || len(c.V) != len(r.sizes) {
		return fmt.Errorf("search: checkpoint %s: controller does not match the space", ck.path)
	}
	for d, l := range c.Logits {
		if len(l) != r.sizes[d] || len(c.M[d]) != r.sizes[d] || len(c.V[d]) != r.sizes[d] {
			return fmt.Errorf("search: checkpoint %s: controller decision %d has the wrong number of options", ck.path, d)
		}
	}
	if ck.Step < 0 || ck.Step > r.cfg.Steps || len(ck.History) != ck.Step {
		return fmt.Errorf("search: checkpoint %s: step %d with %d history records", ck.path, ck.Step, len(ck.History))
	}
	r.ctl, r.step, r.history, r.snapshots = c, ck.Step, ck.History, ck.Snapshots
	r.priorSecs, r.resumes = ck.Seconds, ck.Resumes+1
	if r.sn == nil {
		return nil
	}
	if err := ck.readState(r.sn); err != nil {
		return err
	}
	r.prog.done(fmt.Sprintf("resumed from step %d", ck.Step))
	return nil
}

func sameJSON(a, b any) bool { return jsonString(a) == jsonString(b) }

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// writeJSON writes v as indented JSON, atomically.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	return nil
}

// writeResult writes search.json and the final architecture's spec files.
func writeResult(dir string, res *Result) error {
	if err := writeJSON(filepath.Join(dir, ResultFile), res); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ArchTextFile), []byte(res.Final.Text), 0o644); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ArchJSONFile), res.Final.Arch.JSON(), 0o644); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	return nil
}

// ReadResult reads a search.json.
func ReadResult(path string) (*Result, error) {
	raw, err := memlimit.ReadFile(path, "search result", maxSearchHeader)
	if err != nil {
		return nil, fmt.Errorf("search result: %w", err)
	}
	res := &Result{}
	// A result is output, not a spec: fields of other versions are ignored.
	if err := json.Unmarshal(raw, res); err != nil {
		return nil, fmt.Errorf("search result %s: %w", path, err)
	}
	if res.Format != ResultFormat {
		return nil, fmt.Errorf("search result %s has format %q, want %q%s", path, res.Format, ResultFormat, formatHint(res.Format))
	}
	return res, nil
}
