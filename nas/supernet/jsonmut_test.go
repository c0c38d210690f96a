package supernet

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/multihw/multihw/internal/jsonmut"
)

// TestStateRefusesMalformed: a supernet state whose JSON header is changed
// in one node at a time (null, another type, numbers past their ranges, a
// member deleted) is refused or read, never a panic.
func TestStateRefusesMalformed(t *testing.T) {
	sn, err := New(tinySpace()).Input(12, 12, 1, 10).Backend(goBackend(t)).Seed(1).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Close()
	var buf bytes.Buffer
	if err := sn.WriteState(&buf); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	n := binary.LittleEndian.Uint64(raw[8:16])
	hdr, data := raw[16:16+n], raw[16+n:]
	read := func(h []byte) error {
		var b bytes.Buffer
		var size [8]byte
		binary.LittleEndian.PutUint64(size[:], uint64(len(h)))
		b.WriteString(stateMagic)
		b.Write(size[:])
		b.Write(h)
		return sn.ReadState(io.MultiReader(&b, bytes.NewReader(data)))
	}
	if err := read(hdr); err != nil {
		t.Fatalf("the state re-encoded: %v", err)
	}
	jsonmut.Check(t, "supernet state header", hdr, read)
}
