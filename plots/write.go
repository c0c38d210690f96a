package plots

import (
	"fmt"
	"path/filepath"
	"regexp"

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
	paths := make([]string, 0, len(outs))
	for _, o := range outs {
		if err := atomicfile.WriteFile(o.path, o.data, 0o644); err != nil {
			return paths, err
		}
		paths = append(paths, o.path)
	}
	return paths, nil
}
