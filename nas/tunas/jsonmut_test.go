package tunas

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/multihw/multihw/internal/jsonmut"
	"github.com/multihw/multihw/internal/stats"
	"github.com/multihw/multihw/nas"
)

// TestCheckpointRefusesMalformed: a search checkpoint whose JSON header is
// changed in one node at a time (null, another type, numbers past their
// ranges, a member deleted), re-encoded with a valid checksum, is refused
// by the resume or resumed to the end, never a panic. A controller without
// its Adam moments (m or v null, [] or missing) panicked in restore before.
func TestCheckpointRefusesMalformed(t *testing.T) {
	dir := interruptedSearch(t)
	path := filepath.Join(dir, CheckpointFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hdr := raw[16 : 16+binary.LittleEndian.Uint64(raw[8:16])]
	_ = os.Remove(filepath.Join(dir, PrevCheckpointFile)) // else a refused checkpoint falls back to it
	// Search.Run's steps after the setup (done once: the cost table is the
	// slow part), without writing: open, restore, the remaining steps and the
	// result. Run would turn a panic into an "internal error".
	s := syntheticSearch(10, dir).Resume(true)
	base := &run{s: s, cfg: s.cfg, ctx: context.Background(), prog: newProgress(nil)}
	if err := base.setup(); err != nil {
		t.Fatal(err)
	}
	quiet := *s
	quiet.out = ""
	resume := func(h []byte) error {
		var b bytes.Buffer
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(h)))
		b.WriteString(checkpointMagic)
		b.Write(n[:])
		b.Write(h)
		sum := sha256.Sum256(b.Bytes())
		b.Write(sum[:])
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		r := *base
		ck, err := r.openRun()
		if err != nil {
			return err
		}
		if err := r.restore(ck); err != nil {
			return err
		}
		r.s = &quiet
		if err := r.loop(); err != nil {
			return err
		}
		_, err = r.finish()
		return err
	}
	if err := resume(hdr); err != nil {
		t.Fatalf("the checkpoint re-encoded: %v", err)
	}
	jsonmut.Check(t, "checkpoint header", hdr, resume)
}

// TestResultRefusesMalformed: a search.json changed in one node at a time
// is refused by ReadRun or read (and summarised), never a panic.
func TestResultRefusesMalformed(t *testing.T) {
	dir := t.TempDir()
	if _, err := syntheticSearch(6, dir).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	jsonmut.CheckFile(t, "search result", filepath.Join(dir, ResultFile), func() error {
		r, err := ReadRun(dir)
		if err != nil {
			return err
		}
		_ = r.Result.Summary(dir)
		return nil
	})
}

// TestRankRefusesMalformed: a rank.json changed in one node at a time is
// refused by ReadRank or read (with its findings and summary), never a
// panic.
func TestRankRefusesMalformed(t *testing.T) {
	iv := func(lo, hi float64) stats.Interval { return stats.Interval{Lo: stats.Float(lo), Hi: stats.Float(hi)} }
	rank := RankResult{Format: RankFormat, Config: DefaultRank(), Supernet: "search", Search: syntheticConfig(4), N: 4,
		KendallTau: 0.5, KendallTauCI: iv(0.1, 0.9), Spearman: 0.6, SpearmanCI: iv(0.2, 1),
		NoiseCeilingTau: 0.7, NoiseCeilingCI: iv(0.3, 1), NoiseCeilingN: 2, SeedSD: 0.003, BandTau: 0.2, BandCI: iv(-0.5, 0.8), BandN: 3,
		TopK: []Regret{{K: 1, Regret: 0.004}, {K: 2, Regret: stats.Float(math.NaN())}},
		Archs: []RankArch{
			{Name: "final", Source: "search", Point: nas.Point{1, 0, 2}, Text: "name final\n", T: 1, Seeds: []uint64{1, 2}, OneShot: 0.85,
				StandAlone: []float64{0.91, 0.912}, StandAloneValidation: []float64{0.9, 0.91}, Mean: 0.911, Runs: []string{"final/seed1", "final/seed2"}},
			{Name: "multi_avg", Source: "reference", T: 1.05, InBand: true, Seeds: []uint64{1, 2}, OneShot: 0.7,
				StandAlone: []float64{0.9, 0.89}, Mean: 0.895, Runs: []string{"multi_avg/seed1", "multi_avg/seed2"}},
			{Name: "uniform-01", Source: "uniform", OneShot: 0.5, StandAlone: []float64{0.85}, Mean: 0.85, T: 0.6},
			{Name: "band-01", Source: "band", OneShot: 0.6, StandAlone: []float64{0.88}, Mean: 0.88, T: 0.95, InBand: true},
		}}
	doc, err := json.Marshal(rank)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), RankResultFile)
	jsonmut.Check(t, "rank result", doc, func(b []byte) error {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := ReadRank(path)
		if err != nil {
			return err
		}
		_, _ = res.Findings(), res.Summary()
		return nil
	})
}
