package train

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/ml/model"
)

// FuzzCheckpointDecode: a checkpoint header and data block whose checksums
// are right (the harness sets them: checksums guard against accidents, not
// against a crafted file) either decode with an error, or every variable
// they list restores into a fresh store, with an error if it cannot: never
// a panic, whatever the shapes, dtypes, offsets and sizes say.
func FuzzCheckpointDecode(f *testing.F) {
	ck, err := InitCheckpoint(tinyArch(f), 1)
	if err != nil {
		f.Fatal(err)
	}
	hdr, err := json.Marshal(ck)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(hdr, ck.data)
	f.Add([]byte(`{"format":"multihw-checkpoint","version":2,"variables":[{"path":"/x","dtype":"InvalidDType","shape":[2],"offset":0,"bytes":0}]}`), []byte{})
	f.Add([]byte(`{"variables":[{"path":"/x","dtype":"Float32","shape":[1,-4],"offset":0,"bytes":16}]}`), make([]byte, 16))
	f.Fuzz(func(t *testing.T, hdr, body []byte) {
		var m map[string]any
		if json.Unmarshal(hdr, &m) == nil && m != nil {
			sum := sha256.Sum256(body)
			m["data_bytes"], m["data_sha256"] = len(body), hex.EncodeToString(sum[:])
			if m["format"] == nil {
				m["format"], m["version"] = checkpointFormat, checkpointVer
			}
			hdr, _ = json.Marshal(m)
		}
		c, err := decodeCheckpoint(hdr, body, checkpointVer)
		if err != nil {
			return
		}
		store := model.NewStore()
		defer store.Finalize()
		if err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic: %v", r)
				}
			}()
			_ = c.Restore(store, nil)
			return nil
		}(); err != nil {
			t.Fatalf("restoring a decoded checkpoint: %v", err)
		}
	})
}

// TestCheckpointDTypeRefused: a variable table naming a dtype that is
// invalid or packed below a byte per value is an error naming the variable
// (gomlx panicked on InvalidDType's size before).
func TestCheckpointDTypeRefused(t *testing.T) {
	for _, dt := range []string{"InvalidDType", "Int4", "Uint2"} {
		hdr := fmt.Sprintf(`{"format":%q,"version":%d,"data_bytes":0,"data_sha256":%q,"variables":[{"path":"/x","dtype":%q,"shape":[2],"offset":0,"bytes":0}]}`,
			checkpointFormat, checkpointVer, hex.EncodeToString(func() []byte { s := sha256.Sum256(nil); return s[:] }()), dt)
		_, err := decodeCheckpoint([]byte(hdr), nil, checkpointVer)
		if err == nil || !strings.Contains(err.Error(), "variable /x: dtype \""+dt+"\" cannot be stored") {
			t.Errorf("%s: got %v", dt, err)
		}
	}
}
