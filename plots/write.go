package plots

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/multihw/multihw/internal/atomicfile"
)

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// WriteFiles writes each figure to dir as NAME.png and NAME.svg (NAME is
// Figure.Name), at the figure's default size scaled by scale (1: default; 2:
// twice the pixels, same layout). Files are written atomically; dir is
// created if needed. It returns the paths written, in order. Names must be
// unique and plain file stems; all figures are rendered before any file is
// written, so a rendering error leaves the directory untouched.
func WriteFiles(dir string, scale float64, figs ...*Figure) ([]string, error) {
	if !(scale > 0) {
		return nil, fmt.Errorf("writing figures: scale %g must be > 0", scale)
	}
	type out struct {
		path string
		data []byte
	}
	var outs []out
	seen := map[string]bool{}
	for i, f := range figs {
		if f == nil {
			return nil, fmt.Errorf("writing figures: figure %d is nil", i)
		}
		if !validName.MatchString(f.Name) {
			return nil, fmt.Errorf("writing figures: figure %d: name %q is not a plain file stem (letters, digits, '.', '-', '_')", i, f.Name)
		}
		if seen[f.Name] {
			return nil, fmt.Errorf("writing figures: two figures are named %q", f.Name)
		}
		seen[f.Name] = true
		w, h := f.DefaultSize()
		w, h = max(1, int(float64(w)*scale+0.5)), max(1, int(float64(h)*scale+0.5))
		png, err := f.PNG(w, h)
		if err != nil {
			return nil, err
		}
		svg, err := f.SVG(w, h)
		if err != nil {
			return nil, err
		}
		outs = append(outs, out{filepath.Join(dir, f.Name+".png"), png}, out{filepath.Join(dir, f.Name+".svg"), svg})
	}
	for _, o := range outs {
		if err := CheckFigureFile(o.path); err != nil {
			return nil, err
		}
	}
	paths := make([]string, 0, len(outs))
	for _, o := range outs {
		if err := WriteFigureFile(o.path, o.data); err != nil {
			return paths, err
		}
		paths = append(paths, o.path)
	}
	return paths, nil
}

// WriteFigureFile writes a figure file (.png or .svg) atomically, replacing
// an existing file only if it is a figure of the same format
// (CheckFigureFile).
func WriteFigureFile(path string, data []byte) error {
	if err := CheckFigureFile(path); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, 0o644)
}

// CheckFigureFile returns nil when a figure may be written to path: the
// output directory may be a folder of the user's, and a photo or a document
// that happens to share a figure's name is no figure of ours.
func CheckFigureFile(path string) error {
	var same func(head []byte) bool
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		same = func(head []byte) bool { return bytes.HasPrefix(head, []byte(pngMagic)) }
	case ".svg":
		same = atomicfile.HeadHolds(1024, "<svg")
	default:
		return fmt.Errorf("writing %s: not a figure file (.png or .svg)", path)
	}
	return atomicfile.CheckOwned(path, "a figure", same)
}

// pngMagic starts every PNG file.
const pngMagic = "\x89PNG\r\n\x1a\n"
