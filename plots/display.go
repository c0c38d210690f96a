package plots

import (
	"errors"
	"fmt"
	"strings"

	"github.com/janpfeifer/gonb/gonbui"
)

// ErrNotNotebook is returned by the Display methods when the program does not
// run inside a GoNB kernel (gonbui would silently drop the output).
var ErrNotNotebook = errors.New("plots: not running in a GoNB notebook, nothing displayed")

// InNotebook reports whether the program runs inside a GoNB kernel.
func InNotebook() bool { return gonbui.IsNotebook }

// Display shows the figure as a PNG of its default size in the current GoNB
// cell. Outside a notebook it draws nothing and returns [ErrNotNotebook], so
// code shared between notebooks and programs can ignore that error.
func (f *Figure) Display() error {
	if !gonbui.IsNotebook {
		return ErrNotNotebook
	}
	w, h := f.DefaultSize()
	png, err := f.PNG(w, h)
	if err != nil {
		return err
	}
	gonbui.DisplayPNG(png)
	return displayErr()
}

// DisplaySVG shows the figure as inline SVG of its default size in the
// current GoNB cell (sharp at any zoom, larger output). Outside a notebook it
// returns [ErrNotNotebook].
func (f *Figure) DisplaySVG() error {
	if !gonbui.IsNotebook {
		return ErrNotNotebook
	}
	w, h := f.DefaultSize()
	svg, err := f.SVG(w, h)
	if err != nil {
		return err
	}
	gonbui.DisplaySVG(inlineSVG(svg))
	return displayErr()
}

// displayErr reports a broken connection to the kernel, which gonbui records
// globally instead of returning.
func displayErr() error {
	if err := gonbui.Error(); err != nil {
		return fmt.Errorf("plots: displaying in GoNB: %w", err)
	}
	return nil
}

// inlineSVG drops the XML prolog and generator comment, which mean nothing
// inside the HTML that GoNB wraps SVG in.
func inlineSVG(svg []byte) string {
	s := string(svg)
	if i := strings.Index(s, "<svg"); i > 0 {
		s = s[i:]
	}
	return s
}
