package devicedata

import (
	"bytes"
	"math"
	"testing"
)

// FuzzReadTables: a benchmark table from any bytes (what `cost adapt --data
// FILE` reads) is an error or a table whose measured cells are positive and
// finite, never a panic.
func FuzzReadTables(f *testing.F) {
	f.Add([]byte("nb201_index,arch_str,dev\n0,|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|,1.5\n"))
	f.Add([]byte("nb201_index,arch_str,a,b\n0,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,,2\n"))
	f.Add([]byte("help_idx,op_idx_list,op_names,p\n0,7 8 1 8 4 8 8 8 7 4 1 4 7 3 2 7 3 2 4 2 4 5,k5_e6 skip k3_e1_g2 skip k5_e1 skip skip skip k5_e6 k5_e1 k3_e1_g2 k5_e1 k5_e6 k3_e6 k3_e3 k5_e6 k3_e6 k3_e3 k5_e1 k3_e3 k5_e1 k5_e1_g2,10.6\n"))
	f.Add([]byte("\xef\xbb\xbfnb201_index,arch_str,dev\r\n0,x,NaN\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(tab *Table) {
			for c := range tab.Columns() {
				for _, r := range tab.Measured(c) {
					if v, ok := tab.Value(r, c); !ok || !(v > 0) || math.IsInf(v, 0) {
						t.Fatalf("measured cell (%d, %d) = %v, %v", r, c, v, ok)
					}
				}
			}
		}
		if nb, err := ReadNB201(bytes.NewReader(data), "fuzz"); err == nil {
			check(&nb.Table)
			if len(nb.Cells()) != nb.Len() {
				t.Fatalf("%d cells for %d rows", len(nb.Cells()), nb.Len())
			}
		}
		if fb, err := ReadFBNet(bytes.NewReader(data), "fuzz"); err == nil {
			check(&fb.Table)
		}
	})
}
