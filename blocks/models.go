package blocks

import (
	"fmt"

	"github.com/multihw/multihw/report"
)

// ModelRow is a reference model as `multihw models` lists it: its analysed
// MACs and parameters next to the published ones.
type ModelRow struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Resolution  int     `json:"resolution"`
	Classes     int     `json:"classes"`
	MACs        int64   `json:"macs"`
	Params      int64   `json:"params"`
	Published   string  `json:"published_source"`
	PubMACs     float64 `json:"published_macs"`
	PubParams   float64 `json:"published_params"`
}

// ModelRows analyses every reference model.
func ModelRows() ([]ModelRow, error) {
	var rows []ModelRow
	for _, r := range References {
		a := r.Arch()
		an, err := Analyze(a, 0)
		if err != nil {
			return nil, err
		}
		rows = append(rows, ModelRow{Name: r.Name, Description: r.Description, Resolution: a.Resolution, Classes: a.Classes,
			MACs: an.MACs, Params: an.Params, Published: r.Source, PubMACs: r.PublishedMACs, PubParams: r.PublishedParams})
	}
	return rows, nil
}

// ModelTable tabulates rows: input, classes, MACs and parameters in
// millions, and the published figures.
func ModelTable(rows []ModelRow) *report.Table {
	tb := report.NewTable("model", "input", "classes", "MACs (M)", "params (M)", "published MACs / params")
	for _, r := range rows {
		tb.Row(r.Name, fmt.Sprint(r.Resolution), fmt.Sprint(r.Classes), fmt.Sprintf("%.1f", float64(r.MACs)/1e6),
			fmt.Sprintf("%.3f", float64(r.Params)/1e6), fmt.Sprintf("%.1f M / %.3f M", r.PubMACs/1e6, r.PubParams/1e6))
	}
	return tb
}

// PublishedTable sets every reference model's MACs and parameters, counted
// here at its published resolution, beside the published figures and the
// published ImageNet top-1 ("-" where none is recorded).
func PublishedTable() (*report.Table, error) {
	tb := report.NewTable("model", "at px", "MACs (M)", "published", "params (M)", "published", "ImageNet top-1 (%)").RightFrom(1)
	for _, r := range References {
		an, err := Analyze(r.Arch(), r.PublishedResolution)
		if err != nil {
			return nil, err
		}
		top1 := "-"
		if t, ok := PublishedTop1(r.Name); ok {
			top1 = fmt.Sprintf("%.1f", t.Percent)
		}
		tb.Row(r.Name, fmt.Sprint(r.PublishedResolution), fmt.Sprintf("%.0f", float64(an.MACs)/1e6), fmt.Sprintf("%.0f", r.PublishedMACs/1e6),
			fmt.Sprintf("%.2f", float64(an.Params)/1e6), fmt.Sprintf("%.2f", r.PublishedParams/1e6), top1)
	}
	return tb, nil
}
