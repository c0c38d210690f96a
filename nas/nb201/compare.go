package nb201

import (
	"fmt"
	"io"
	"strings"

	"github.com/multihw/multihw/hwcost/devicedata"
	"github.com/multihw/multihw/nas"
	"github.com/multihw/multihw/report"
)

// Comparison is the paper's key table on real measurements: for each
// single-target objective and for AVG and MAX, the most accurate cell whose
// cost under that objective meets the budget, with its normalised latency on
// every target.
type Comparison struct {
	Budget    float64  `json:"budget"`
	Dataset   string   `json:"dataset"`
	Reference string   `json:"reference"`
	Targets   []string `json:"targets"`
	// Rows: one per target (objective = that target), then avg and max.
	Rows []CompareRow `json:"rows"`
}

// CompareRow is one objective's winner.
type CompareRow struct {
	// Objective is a target column, "avg" or "max"; Label a short name
	// ("CPU only", "AVG", ...).
	Objective string `json:"objective"`
	Label     string `json:"label"`
	// Found is false when no cell meets the budget under this objective.
	Found bool `json:"found"`
	*Eval
	// OverBudget lists the targets on which the winner exceeds the budget.
	OverBudget []string `json:"over_budget"`
	// MinCost is the lowest cost any candidate reaches under this objective
	// (below the budget whenever Found).
	MinCost float64 `json:"min_cost"`
}

// Compare runs the exhaustive search under each single-target objective and
// under AVG and MAX, at the same budget (budget reward), on the bench's
// targets, reference and dataset.
func (bn *Bench) Compare(budget float64) (*Comparison, error) {
	r := Reward(nas.RewardBudget, budget)
	if err := r.Validate(); err != nil {
		return nil, err
	}
	cmp := &Comparison{Budget: budget, Dataset: bn.dataset, Reference: bn.reference.String(), Targets: bn.Targets()}
	objectives := append(bn.Targets(), ObjAVG, ObjMAX)
	for _, obj := range objectives {
		b, err := bn.WithObjective(obj)
		if err != nil {
			return nil, err
		}
		row := CompareRow{Objective: obj, Label: ShortName(obj), MinCost: b.cost[b.minCode]}
		if obj != ObjAVG && obj != ObjMAX {
			row.Label += " only"
		}
		if b.cost[b.minCode] <= budget { // else: nobody meets it; the row says so
			out, err := b.Exhaustive(r)
			if err != nil {
				return nil, err
			}
			row.Found, row.Eval = out.Found, out.Eval
			if out.Found {
				for k, t := range cmp.Targets {
					if out.Relative[k] > budget {
						row.OverBudget = append(row.OverBudget, ShortName(t))
					}
				}
			}
		}
		cmp.Rows = append(cmp.Rows, row)
	}
	return cmp, nil
}

// ShortName returns a readable name for a target column: "CPU", "GPU",
// "DSP", "EdgeTPU" for the Snapdragon 855 and EdgeTPU columns, "AVG"/"MAX"
// for the objectives, the column itself otherwise.
func ShortName(column string) string {
	switch column {
	case devicedata.SD855CPU:
		return "CPU"
	case devicedata.SD855GPU:
		return "GPU"
	case devicedata.SD855DSP:
		return "DSP"
	case devicedata.EdgeTPU:
		return "EdgeTPU"
	case ObjAVG:
		return "AVG"
	case ObjMAX:
		return "MAX"
	case ObjWeighted:
		return "weighted"
	}
	return column
}

// WriteTable prints the comparison as an aligned text table.
func (c *Comparison) WriteTable(w io.Writer) error {
	head := []string{"objective", "accuracy"}
	for _, t := range c.Targets {
		head = append(head, ShortName(t))
	}
	tb := report.NewTable(append(head, "AVG", "MAX", "over budget on", "nb201 index")...).RightFrom(0)
	for _, r := range c.Rows {
		cells := []string{r.Label}
		if !r.Found {
			for range len(c.Targets) + 3 {
				cells = append(cells, "-")
			}
			tb.Row(append(cells, fmt.Sprintf("no cell within budget (min %.3f)", r.MinCost), "-")...)
			continue
		}
		cells = append(cells, fmt.Sprintf("%.2f", r.Accuracy))
		for _, v := range r.Relative {
			cells = append(cells, fmt.Sprintf("%.3f", v))
		}
		over := strings.Join(r.OverBudget, ",")
		if over == "" {
			over = "-"
		}
		tb.Row(append(cells, fmt.Sprintf("%.3f", r.AVG), fmt.Sprintf("%.3f", r.MAX), over, fmt.Sprint(r.Index))...)
	}
	_, err := io.WriteString(w, tb.Text())
	return err
}

// WriteMarkdown prints the comparison as a markdown table with the winners'
// arch_str below it.
func (c *Comparison) WriteMarkdown(w io.Writer) error {
	header := []string{"objective", "accuracy"}
	for _, t := range c.Targets {
		header = append(header, ShortName(t))
	}
	tb := report.NewTable(append(header, "AVG", "MAX", "over budget on")...).RightFrom(1).Left(len(header) + 2)
	for _, r := range c.Rows {
		if !r.Found {
			cells := []string{r.Label}
			for range len(c.Targets) + 3 {
				cells = append(cells, "–")
			}
			tb.Row(append(cells, fmt.Sprintf("no cell within budget (min %.3f)", r.MinCost))...)
			continue
		}
		cells := []string{r.Label, fmt.Sprintf("%.2f", r.Accuracy)}
		for _, v := range r.Relative {
			if v > c.Budget {
				cells = append(cells, fmt.Sprintf("**%.3f**", v))
			} else {
				cells = append(cells, fmt.Sprintf("%.3f", v))
			}
		}
		over := strings.Join(r.OverBudget, ", ")
		if over == "" {
			over = "–"
		}
		tb.Row(append(cells, fmt.Sprintf("%.3f", r.AVG), fmt.Sprintf("%.3f", r.MAX), over)...)
	}
	d := &report.Doc{}
	d.Table(tb)
	d.Printf("\nWinners (arch_str, NAS-Bench-201 index):\n\n")
	for _, r := range c.Rows {
		if r.Found {
			d.Printf("- %s: `%s` (#%d)\n", r.Label, r.ArchStr, r.Index)
		}
	}
	_, err := io.WriteString(w, d.String())
	return err
}

// DatasetLabel returns the usual name of a dataset: "CIFAR-10", "CIFAR-100",
// "ImageNet16-120".
func DatasetLabel(name string) string {
	switch name {
	case "cifar10":
		return "CIFAR-10"
	case "cifar100":
		return "CIFAR-100"
	case "imagenet16":
		return "ImageNet16-120"
	}
	return name
}
