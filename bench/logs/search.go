package main

import (
	"context"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/saypro/monitor/internal/logs"
)

// query is one search the benchmark times, with the count it must find.
type query struct {
	Name   string
	Filter logs.Filter
	Want   int
	// Contains is a string each returned entry's message must hold.
	Contains string
}

// queryResult is the timing of one query: its count through Histogram
// (the UI's bar chart and total) and its newest 100 through Search (the
// UI's list).
type queryResult struct {
	Name                 string
	Want                 int
	Total                uint64
	Returned             int
	OK                   bool
	Problem              string
	HistCold, SearchCold time.Duration
	HistWarm, SearchWarm time.Duration // medians
}

const histogramBuckets = 60

func queries(g *genResult) []query {
	// The data's own 24 hours (a second of slack each side for lines
	// stamped to the second).
	win := logs.Filter{Start: g.Start.Add(-time.Second), End: g.End.Add(time.Second)}
	with := func(f func(*logs.Filter)) logs.Filter {
		c := win
		f(&c)
		return c
	}
	return []query{
		{Name: "term " + Term, Filter: with(func(f *logs.Filter) { f.Text = Term }), Want: g.TermCount, Contains: Term},
		{Name: "needle " + Needle, Filter: with(func(f *logs.Filter) { f.Text = Needle }), Want: g.NeedleCount, Contains: Needle},
		{Name: "host " + TermHost + " + term " + Term, Filter: with(func(f *logs.Filter) { f.Hosts = []string{TermHost}; f.Text = Term }), Want: g.TermHostCount, Contains: Term},
		{Name: "regex " + Regex, Filter: with(func(f *logs.Filter) { f.Regex = Regex }), Want: g.RegexCount, Contains: "timeout after"},
	}
}

// runSearches times every query: when cold is set, a first run (the
// engine's caches empty after the reopen; the OS page cache is not
// dropped), then runs warm runs of each and their median.
func runSearches(ctx context.Context, st logs.Store, g *genResult, runs int, cold bool, logger *slog.Logger) []queryResult {
	var out []queryResult
	for _, q := range queries(g) {
		r := queryResult{Name: q.Name, Want: q.Want, OK: true}
		step := q.Filter.End.Sub(q.Filter.Start) / histogramBuckets
		hist := func() time.Duration {
			t0 := time.Now()
			_, total, err := st.Histogram(ctx, q.Filter, step)
			d := time.Since(t0)
			if err != nil {
				r.OK, r.Problem = false, "histogram: "+err.Error()
			}
			r.Total = total
			return d
		}
		search := func() time.Duration {
			t0 := time.Now()
			es, _, err := st.Search(ctx, q.Filter, 100, nil)
			d := time.Since(t0)
			if err != nil {
				r.OK, r.Problem = false, "search: "+err.Error()
			}
			r.Returned = len(es)
			for i := range es {
				if !strings.Contains(es[i].Message, q.Contains) {
					r.OK, r.Problem = false, "search returned an entry without "+q.Contains+": "+es[i].Message
					break
				}
				if i > 0 && es[i].Time.After(es[i-1].Time) {
					r.OK, r.Problem = false, "search results are not newest first"
					break
				}
			}
			return d
		}
		if cold {
			r.HistCold = hist()
			r.SearchCold = search()
		}
		var hs, ss []time.Duration
		for range runs {
			hs = append(hs, hist())
			ss = append(ss, search())
		}
		r.HistWarm, r.SearchWarm = median(hs), median(ss)
		if r.OK && r.Total != uint64(q.Want) {
			r.OK, r.Problem = false, "histogram total differs from the generator's count"
		}
		if r.OK && r.Returned != min(100, q.Want) {
			r.OK, r.Problem = false, "search returned the wrong number of entries"
		}
		logger.Info("searched", "query", q.Name, "want", q.Want, "total", r.Total, "hist_cold", r.HistCold, "hist_warm", r.HistWarm,
			"search_cold", r.SearchCold, "search_warm", r.SearchWarm, "ok", r.OK)
		out = append(out, r)
	}
	return out
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// diskUse is the store directory's size: the files' lengths, and the
// blocks they take (as du counts them).
type diskUse struct {
	Files     int
	Apparent  int64
	Allocated int64
}

func (d diskUse) perLine(lines int) float64 { return float64(d.Apparent) / float64(lines) }

func (d diskUse) allocatedPerLine(lines int) float64 { return float64(d.Allocated) / float64(lines) }

func measureDisk(dir string) diskUse {
	var u diskUse
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		u.Files++
		u.Apparent += info.Size()
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			u.Allocated += st.Blocks * 512
		}
		return nil
	})
	return u
}

// settleDisk measures dir until its size holds still (merged parts' old
// files are removed once no reader holds them), at most for timeout.
func settleDisk(dir string, timeout time.Duration) diskUse {
	last := measureDisk(dir)
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); {
		time.Sleep(time.Second)
		u := measureDisk(dir)
		if u == last {
			return u
		}
		last = u
	}
	return last
}
