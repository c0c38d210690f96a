package data

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseAugment parses an augmentation spec: "default" (or "": nil, the
// dataset's own), "none", or "pad=N[,flip]" / "flip".
func ParseAugment(s string) (*Augment, error) {
	switch s {
	case "default", "":
		return nil, nil
	case "none":
		return &Augment{}, nil
	}
	a := &Augment{}
	for _, part := range strings.Split(s, ",") {
		switch k, v, _ := strings.Cut(strings.TrimSpace(part), "="); k {
		case "flip":
			a.Flip = true
		case "pad":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("--augment: bad padding %q", v)
			}
			a.Pad = n
		default:
			return nil, fmt.Errorf("--augment: unknown item %q (want default, none, or pad=N[,flip])", part)
		}
	}
	return a, nil
}
