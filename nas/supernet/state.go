package supernet

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
)

// State format (WriteState / ReadState), self-delimiting so it can be
// embedded in a larger file:
//
//	8 bytes   magic "MHWSNET1"
//	8 bytes   little-endian uint64 H, the header length
//	H bytes   JSON header: the Config and the variable table
//	data      every variable's weights then its optimizer slots, float32
//	          little-endian, in table order
//	32 bytes  SHA-256 of the data
const stateMagic = "MHWSNET1"

type stateHeader struct {
	Config Config     `json:"config"`
	Vars   []stateVar `json:"vars"`
	Slots  int        `json:"slots"`
}

type stateVar struct {
	Path  string `json:"path"`
	Shape []int  `json:"shape"`
}

// WriteState writes the weights, the optimizer slots and the configuration.
func (sn *Supernet) WriteState(w io.Writer) error {
	h := stateHeader{Config: sn.cfg, Slots: len(sn.cfg.Optimizer.slotInit())}
	for _, p := range sn.params {
		h.Vars = append(h.Vars, stateVar{Path: p.spec.path, Shape: p.spec.shape})
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("supernet state: %w", err)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(hdr)))
	if _, err := bw.Write(append(append([]byte(stateMagic), n[:]...), hdr...)); err != nil {
		return fmt.Errorf("supernet state: %w", err)
	}
	sum := sha256.New()
	out := io.MultiWriter(bw, sum)
	buf := make([]byte, 4<<10)
	for _, p := range sn.params {
		for _, arr := range append([][]float32{p.w}, p.slots...) {
			if err := writeFloats(out, arr, buf); err != nil {
				return fmt.Errorf("supernet state: %w", err)
			}
		}
	}
	if _, err := bw.Write(sum.Sum(nil)); err != nil {
		return fmt.Errorf("supernet state: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("supernet state: %w", err)
	}
	return nil
}

func writeFloats(w io.Writer, v []float32, buf []byte) error {
	for len(v) > 0 {
		n := min(len(v), len(buf)/4)
		for i, x := range v[:n] {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
		}
		if _, err := w.Write(buf[:4*n]); err != nil {
			return err
		}
		v = v[n:]
	}
	return nil
}

func readHeader(r io.Reader) (*stateHeader, error) {
	var pre [16]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, fmt.Errorf("supernet state: reading the header: %w", err)
	}
	if string(pre[:8]) != stateMagic {
		return nil, fmt.Errorf("supernet state: not a supernet state (bad magic %q)", pre[:8])
	}
	n := binary.LittleEndian.Uint64(pre[8:])
	if n > 64<<20 {
		return nil, fmt.Errorf("supernet state: header of %d bytes is too large", n)
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("supernet state: reading the header: %w", err)
	}
	h := &stateHeader{}
	if err := json.Unmarshal(hdr, h); err != nil {
		return nil, fmt.Errorf("supernet state: decoding the header: %w", err)
	}
	return h, nil
}

// ReadState replaces the weights and optimizer slots with a state written by
// WriteState from a supernet of the same configuration. On error the
// supernet's values are unspecified. Unless r is a *bufio.Reader, it may be
// read past the end of the state.
func (sn *Supernet) ReadState(r io.Reader) error {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 1<<20)
	}
	h, err := readHeader(br)
	if err != nil {
		return err
	}
	mine, _ := json.Marshal(sn.cfg)
	theirs, _ := json.Marshal(h.Config)
	if string(mine) != string(theirs) {
		return fmt.Errorf("supernet state: configuration differs:\n  state:    %s\n  supernet: %s", theirs, mine)
	}
	if len(h.Vars) != len(sn.params) || h.Slots != len(sn.cfg.Optimizer.slotInit()) {
		return fmt.Errorf("supernet state: %d variables with %d slots, the supernet has %d with %d",
			len(h.Vars), h.Slots, len(sn.params), len(sn.cfg.Optimizer.slotInit()))
	}
	for i, v := range h.Vars {
		p := sn.params[i]
		if v.Path != p.spec.path || !slices.Equal(v.Shape, p.spec.shape) {
			return fmt.Errorf("supernet state: variable %d is %s %v, the supernet's %s %v", i, v.Path, v.Shape, p.spec.path, p.spec.shape)
		}
	}
	sum := sha256.New()
	in := io.TeeReader(br, sum)
	buf := make([]byte, 4<<10)
	for _, p := range sn.params {
		for _, arr := range append([][]float32{p.w}, p.slots...) {
			if err := readFloats(in, arr, buf); err != nil {
				return fmt.Errorf("supernet state: reading %s: %w", p.spec.path, err)
			}
		}
	}
	var want [32]byte
	if _, err := io.ReadFull(br, want[:]); err != nil {
		return fmt.Errorf("supernet state: reading the checksum: %w", err)
	}
	if got := sum.Sum(nil); string(got) != string(want[:]) {
		return fmt.Errorf("supernet state: checksum mismatch (corrupted data)")
	}
	return nil
}

func readFloats(r io.Reader, v []float32, buf []byte) error {
	for len(v) > 0 {
		n := min(len(v), len(buf)/4)
		if _, err := io.ReadFull(r, buf[:4*n]); err != nil {
			return err
		}
		for i := range n {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
		}
		v = v[n:]
	}
	return nil
}
