package devicedata

import (
	"bufio"
	"compress/gzip"
	"embed"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
)

//go:embed data/*.csv.gz
var dataFS embed.FS

// Names of the embedded files, accepted by [Open], [OpenNB201] and [OpenFBNet].
const (
	NameBRPNAS     = "nb201-brpnas"   // NB201 latencies on 13 devices (BRP-NAS)
	NameHELPNB201  = "nb201-help"     // NB201 latencies on 27 settings (HELP)
	NameAccuracy   = "nb201-accuracy" // NB201 test accuracies (NATS-Bench)
	NameHELPFBNet  = "fbnet-help"     // FBNet-space latencies on 27 settings (HELP)
	embeddedPrefix = "embedded:"
)

// Columns of the BRP-NAS table for the paper's four Pixel 4 targets: the
// Snapdragon 855 (the Pixel 4's chip) CPU, GPU and DSP, and the Coral EdgeTPU.
const (
	SD855CPU = "mobile-cpu-snapdragon-855-kryo-485-int8"
	SD855GPU = "mobile-gpu-snapdragon-855-adreno-640-int8"
	SD855DSP = "mobile-dsp-snapdragon-855-hexagon-690-int8"
	EdgeTPU  = "embedded-tpu-edge-tpu-int8"
)

// Pixel4Targets lists the BRP-NAS columns closest to the paper's four targets.
var Pixel4Targets = []string{SD855CPU, SD855GPU, SD855DSP, EdgeTPU}

// Columns of the accuracy table (percent, mean over seeds, 200 epochs).
const (
	AccCIFAR10    = "cifar10_test_acc"
	AccCIFAR100   = "cifar100_test_acc"
	AccImageNet16 = "imagenet16_120_test_acc"
)

type embedded struct {
	file  string
	fbnet bool
	notes map[string]string
	once  sync.Once
	nb    *NB201Table
	fb    *FBNetTable
	err   error
}

const (
	noteSimulated = "simulator estimate (HW-NAS-Bench), not a measurement"
	noteLookup    = "sum of a per-op lookup table (a linear model fits it exactly), not a measurement"
)

var embeddedFiles = map[string]*embedded{
	NameBRPNAS:    {file: "nb201_latency_brpnas_ms.csv.gz"},
	NameHELPNB201: {file: "nb201_latency_help_ms.csv.gz", notes: map[string]string{"eyeriss": noteSimulated, "fpga": noteSimulated}},
	NameAccuracy:  {file: "nb201_accuracy.csv.gz"},
	NameHELPFBNet: {file: "fbnet_latency_help_ms.csv.gz", fbnet: true, notes: map[string]string{
		"pixel3": noteLookup, "raspi4": noteLookup, "eyeriss": noteLookup, "fpga": noteLookup}},
}

// Names returns the names of the embedded files, sorted.
func Names() []string {
	var n []string
	for k := range embeddedFiles {
		n = append(n, k)
	}
	slices.Sort(n)
	return n
}

// LatencyNames returns the names of the embedded latency tables (Names
// without the accuracy table), sorted.
func LatencyNames() []string {
	var n []string
	for _, name := range Names() {
		if name != NameAccuracy {
			n = append(n, name)
		}
	}
	return n
}

// load parses an embedded file once; later calls share the immutable result.
func (e *embedded) load() {
	e.once.Do(func() {
		f, err := dataFS.Open("data/" + e.file)
		if err != nil {
			e.err = err
			return
		}
		defer f.Close()
		gz, err := gzip.NewReader(f)
		if err != nil {
			e.err = fmt.Errorf("embedded %s: %w", e.file, err)
			return
		}
		src := embeddedPrefix + strings.TrimSuffix(e.file, ".gz")
		if e.fbnet {
			e.fb, e.err = ReadFBNet(gz, src)
			if e.err == nil {
				e.fb.notes = e.notes
			}
		} else {
			e.nb, e.err = ReadNB201(gz, src)
			if e.err == nil {
				e.nb.notes = e.notes
			}
		}
	})
}

// BRPNAS returns the embedded BRP-NAS latency table (13 devices, ms).
func BRPNAS() (*NB201Table, error) { return OpenNB201(NameBRPNAS) }

// HELPNB201 returns the embedded HELP NAS-Bench-201 latency table (27 settings, ms).
func HELPNB201() (*NB201Table, error) { return OpenNB201(NameHELPNB201) }

// Accuracy returns the embedded NAS-Bench-201 accuracy table (percent).
func Accuracy() (*NB201Table, error) { return OpenNB201(NameAccuracy) }

// HELPFBNet returns the embedded HELP FBNet-space latency table (27 settings, ms).
func HELPFBNet() (*FBNetTable, error) { return OpenFBNet(NameHELPFBNet) }

// Data is a loaded file of either space: exactly one of NB201 and FBNet is set.
type Data struct {
	NB201 *NB201Table
	FBNet *FBNetTable
}

// Table returns the value table of whichever space d holds.
func (d *Data) Table() *Table {
	if d.NB201 != nil {
		return &d.NB201.Table
	}
	return &d.FBNet.Table
}

// Open loads an embedded file by name (see [Names]) or a CSV file by path,
// plain or gzipped; the header tells the space (arch_str: NAS-Bench-201,
// op_idx_list: FBNet).
func Open(nameOrPath string) (*Data, error) {
	if e, ok := embeddedFiles[nameOrPath]; ok {
		e.load()
		if e.err != nil {
			return nil, e.err
		}
		return &Data{NB201: e.nb, FBNet: e.fb}, nil
	}
	header, err := readHeader(nameOrPath)
	if err != nil {
		return nil, err
	}
	switch {
	case slices.Contains(header, "arch_str"):
		t, err := LoadNB201(nameOrPath)
		return &Data{NB201: t}, err
	case slices.Contains(header, "op_idx_list"):
		t, err := LoadFBNet(nameOrPath)
		return &Data{FBNet: t}, err
	}
	return nil, fmt.Errorf("%s:1: header has neither arch_str (NAS-Bench-201) nor op_idx_list (FBNet): %s",
		nameOrPath, strings.Join(header, ","))
}

// OpenNB201 is [Open] for a NAS-Bench-201 table.
func OpenNB201(nameOrPath string) (*NB201Table, error) {
	d, err := Open(nameOrPath)
	if err != nil {
		return nil, err
	}
	if d.NB201 == nil {
		return nil, fmt.Errorf("%s is an FBNet table, not NAS-Bench-201", nameOrPath)
	}
	return d.NB201, nil
}

// OpenFBNet is [Open] for an FBNet-space table.
func OpenFBNet(nameOrPath string) (*FBNetTable, error) {
	d, err := Open(nameOrPath)
	if err != nil {
		return nil, err
	}
	if d.FBNet == nil {
		return nil, fmt.Errorf("%s is a NAS-Bench-201 table, not FBNet", nameOrPath)
	}
	return d.FBNet, nil
}

// readHeader returns the first line of a (possibly gzipped) CSV file, split.
func readHeader(path string) ([]string, error) {
	f, err := openFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("%s: no such file, and not an embedded name (%s)", path, strings.Join(Names(), ", "))
		}
		return nil, err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if strings.TrimSpace(line) == "" {
		return nil, fmt.Errorf("%s: empty file (want a CSV header)", path)
	}
	line = strings.TrimSuffix(strings.TrimPrefix(line, "\ufeff"), "\r")
	fields := strings.Split(line, ",")
	for i := range fields {
		fields[i] = strings.Trim(strings.TrimSpace(fields[i]), `"`)
	}
	return fields, nil
}

// SameMeasurements reports whether column col (exact name) holds the same
// values in a and b on every architecture both tables have, with at least
// one measured such row: the same device's measurements, whatever the files' names,
// row order, extra rows or columns, or number formatting. NAS-Bench-201 rows
// match by cell; FBNet rows by architecture and its occurrence (HELP's
// samples repeat a few architectures). A missing value matches only a
// missing value.
func SameMeasurements(a, b *Data, col string) bool {
	ta, tb := a.Table(), b.Table()
	ia, ib := slices.Index(ta.columns, col), slices.Index(tb.columns, col)
	if ia < 0 || ib < 0 {
		return false
	}
	var rowInB func(i int) (int, bool)
	switch {
	case a.NB201 != nil && b.NB201 != nil:
		rowInB = func(i int) (int, bool) { return b.NB201.Row(a.NB201.Cell(i)) }
	case a.FBNet != nil && b.FBNet != nil:
		type key struct {
			arch FBNetArch
			k    int
		}
		seen := map[FBNetArch]int{}
		rows := map[key]int{}
		for j := range tb.Len() {
			arch := b.FBNet.Arch(j)
			rows[key{arch, seen[arch]}] = j
			seen[arch]++
		}
		clear(seen)
		rowInB = func(i int) (int, bool) {
			arch := a.FBNet.Arch(i)
			j, ok := rows[key{arch, seen[arch]}]
			seen[arch]++
			return j, ok
		}
	default:
		return false
	}
	n := 0
	for i := range ta.Len() {
		j, ok := rowInB(i)
		if !ok {
			continue
		}
		va, oka := ta.Value(i, ia)
		vb, okb := tb.Value(j, ib)
		if oka != okb || oka && va != vb {
			return false
		}
		if oka {
			n++
		}
	}
	return n > 0
}
