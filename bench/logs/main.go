// Command logs is the log performance benchmark: it generates realistic log
// lines from a fleet of hosts (Debian syslog, auth and kernel files, nginx
// access logs with $request_time, application logs) into a raw text file,
// ingests that file through the server's real path (agentapi.LogBatch ->
// logs.Pipeline.IngestAgent -> vlstore) and measures lines per CPU-second,
// bytes on disk per line and search latency over the 24 hours of data, and
// times grep over the same raw text as the floor. Run it with
// bench/logs/run.sh or `make bench-logs`; see bench/README.md.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/config"
	"github.com/saypro/monitor/internal/logs"
	"github.com/saypro/monitor/internal/logs/vlstore"
)

// Goals from the issue.
const (
	goalLinesPerCPUSecond = 166_000
	goalBytesPerLine      = 35
	goalSearch            = time.Second
)

type options struct {
	lines       int
	dir         string
	keep        bool
	seed        uint64
	batch       int
	workers     int
	runs        int
	grepRuns    int
	out         string
	cpuprofile  string
	pipeprofile string
	dropFields  string
	breakdown   bool
	merge       bool
}

func main() {
	var o options
	fs := flag.NewFlagSet("logs", flag.ExitOnError)
	fs.IntVar(&o.lines, "lines", 10_000_000, "lines to generate and ingest")
	fs.StringVar(&o.dir, "dir", os.TempDir(), "data directory: a new directory for the raw text and the store is made in it")
	fs.BoolVar(&o.keep, "keep", false, "keep the raw text and the store afterwards")
	fs.Uint64Var(&o.seed, "seed", 1, "generator seed")
	fs.IntVar(&o.batch, "batch", 5000, "entries per agent batch (the agent sends at most 5000)")
	fs.IntVar(&o.workers, "workers", 2, "batches ingested concurrently (as concurrent agent posts)")
	fs.IntVar(&o.runs, "runs", 5, "warm runs of each query (the median is reported)")
	fs.IntVar(&o.grepRuns, "grep-runs", 3, "runs of each grep (the median is reported)")
	fs.StringVar(&o.out, "out", "bench/results/logs.txt", "where the table is written (also printed)")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the ingest through the store to this file")
	fs.StringVar(&o.pipeprofile, "pipeline-cpuprofile", "", "write a CPU profile of the pipeline pass (counting store) to this file")
	fs.StringVar(&o.dropFields, "drop-fields", "", "experiment: parsed fields to leave out of the store (comma-separated, or all), to see what they cost")
	fs.BoolVar(&o.breakdown, "breakdown", true, "also replay the file without the pipeline, and through the pipeline into a counting store, to split the CPU cost")
	fs.BoolVar(&o.merge, "merge", true, "after the searches, force-merge the store and measure its size and the searches again")
	_ = fs.Parse(os.Args[1:])
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := run(context.Background(), o, os.Args, logger); err != nil {
		logger.Error("bench-logs failed", "err", err)
		os.Exit(1)
	}
}

// report is everything the run measured.
type report struct {
	Command             string
	Started             time.Time
	LoadStart, LoadEnd  string
	Machine             string
	Commit              string
	Gen                 genResult
	GenWall             time.Duration
	Phases              []phase
	Full                phase
	Close               phase
	Reopen              time.Duration
	Merge               *phase
	Counters            map[string]float64
	StoreRows           uint64
	DroppedTooOld       uint64
	DroppedFuture       uint64
	Disk, DiskMerged    diskUse
	Searches, Merged    []queryResult
	Greps               []grepResult
	PeakRSS             int64
	Batch, Workers      int
	Runs                int
	PipelineFields      int64
	PipelineEntries     int64
	PipelineRedactions  string
	RateLimit           string
	CPUProfile          string
	MemoryLimit         int64
	MinFreeDisk         int64
	StoreDir            string
	KeptDir             string
	GrepLocaleDefault   string
	SearchStateReopened string
	DropFields          string
}

func run(ctx context.Context, o options, args []string, logger *slog.Logger) error {
	if o.lines < 1000 {
		return errors.New("-lines must be at least 1000")
	}
	if o.batch < 1 || o.workers < 1 || o.runs < 1 || o.grepRuns < 1 {
		return errors.New("-batch, -workers, -runs and -grep-runs must be positive")
	}
	if err := os.MkdirAll(o.dir, 0o750); err != nil {
		return err
	}
	work, err := os.MkdirTemp(o.dir, "saypro-bench-logs-")
	if err != nil {
		return err
	}
	if o.keep {
		logger.Info("keeping the data", "dir", work)
	} else {
		defer os.RemoveAll(work)
	}
	rp := &report{
		Command: shellJoin(args), Started: time.Now(), LoadStart: loadAvg(), Machine: machine(), Commit: gitCommit(),
		Batch: o.batch, Workers: o.workers, Runs: o.runs, CPUProfile: o.cpuprofile,
	}
	if o.keep {
		rp.KeptDir = work
	}
	logger.Info("starting", "lines", o.lines, "dir", work, "load_average", rp.LoadStart)

	// 1. Generate (not measured as ingest).
	rawPath, metaPath := filepath.Join(work, "raw.txt"), filepath.Join(work, "raw.meta")
	raw, meta, err := createFiles(rawPath, metaPath)
	if err != nil {
		return err
	}
	t0 := time.Now()
	rp.Gen, err = generate(genConfig{Lines: o.lines, Seed: o.seed, End: time.Now(), Loc: time.Local}, raw, meta, logger)
	if err2 := errors.Join(raw.Close(), meta.Close()); err == nil {
		err = err2
	}
	if err != nil {
		return fmt.Errorf("generating: %w", err)
	}
	rp.GenWall = time.Since(t0)
	logger.Info("generated", "lines", rp.Gen.Lines, "bytes", rp.Gen.Bytes, "took", rp.GenWall.Round(time.Millisecond))

	key := make([]byte, 32)
	_, _ = rand.Read(key)
	lc := config.DefaultLogs
	newPipeline := func(store logs.Store, reg prometheus.Registerer) (*logs.Pipeline, error) {
		red, err := logs.NewRedactor(logs.RedactOptions{
			Emails: lc.Redact.Emails, IPAddresses: lc.Redact.IPAddresses, URLSecrets: lc.Redact.URLSecrets, Key: key,
		})
		if err != nil {
			return nil, err
		}
		return logs.NewPipeline(logs.Options{
			Store:        store,
			MaxLineBytes: int(lc.MaxLineSize),
			MaxAge:       time.Duration(lc.MaxAge),
			MaxAhead:     time.Duration(lc.MaxAhead),
			// Raised: a replay sends a day of lines in about a minute,
			// which the default (5000 lines/s per host and source)
			// would cut; the bucket's cost is still paid.
			RatePerSecond: 1e12,
			Burst:         1 << 40,
			Redactor:      red,
			AccessMetrics: lc.AccessMetrics,
			Registerer:    reg,
		})
	}
	rp.PipelineRedactions = fmt.Sprintf("emails=%v ip_addresses=%v url_secrets=%v", lc.Redact.Emails, lc.Redact.IPAddresses, lc.Redact.URLSecrets)
	rp.RateLimit = fmt.Sprintf("raised from %g lines/s (burst %d) per host and source to unlimited for the replay", lc.RateLimit.LinesPerSecond, lc.RateLimit.Burst)

	// 2. Breakdown passes: reading alone, then the pipeline into a
	// counting store. They run before the store pass so that the store's
	// background merges cannot run during them.
	if o.breakdown {
		ph, err := measure("read the file, build batches", rp.Gen.Lines, func() error {
			_, err := replay(ctx, rawPath, metaPath, &rp.Gen, o.batch, o.workers, func(context.Context, agentapi.LogBatch) error { return nil }, "", logger)
			return err
		})
		if err != nil {
			return err
		}
		rp.Phases = append(rp.Phases, ph)
		logger.Info("read pass done", "cpu", ph.CPU().Round(time.Millisecond), "wall", ph.Wall.Round(time.Millisecond))
		cs := &countingStore{}
		pl, err := newPipeline(cs, prometheus.NewRegistry())
		if err != nil {
			return err
		}
		stopProfile, err := startProfile(o.pipeprofile)
		if err != nil {
			return err
		}
		ph, err = measure("read + pipeline (counting store)", rp.Gen.Lines, func() error {
			_, err := replay(ctx, rawPath, metaPath, &rp.Gen, o.batch, o.workers, pl.IngestAgent, "pipeline pass", logger)
			return err
		})
		stopProfile()
		if err != nil {
			return err
		}
		rp.Phases = append(rp.Phases, ph)
		rp.PipelineEntries, rp.PipelineFields = cs.entries.Load(), cs.fields.Load()
		logger.Info("pipeline pass done", "cpu", ph.CPU().Round(time.Millisecond), "wall", ph.Wall.Round(time.Millisecond))
	}

	// 3. The real path into the store.
	storeDir := filepath.Join(work, "store")
	rp.StoreDir = storeDir
	rp.MemoryLimit, rp.MinFreeDisk = int64(lc.MemoryLimit), int64(lc.MinFreeDisk)
	engineLog := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	openStore := func() (*vlstore.Store, error) {
		return vlstore.Open(vlstore.Options{
			Dir:              storeDir,
			Retention:        time.Duration(lc.Retention),
			MaxDiskBytes:     int64(lc.MaxDiskSize),
			MinFreeDiskBytes: int64(lc.MinFreeDisk),
			MemoryLimitBytes: int64(lc.MemoryLimit),
			Logger:           engineLog,
		})
	}
	store, err := openStore()
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	var into logs.Store = store
	if o.dropFields != "" {
		into = newFieldDropper(store, o.dropFields)
		rp.DropFields = o.dropFields
	}
	pl, err := newPipeline(into, reg)
	if err != nil {
		store.Close()
		return err
	}
	stopProfile, err := startProfile(o.cpuprofile)
	if err != nil {
		store.Close()
		return err
	}
	rp.Full, err = measure("read + pipeline + store (vlstore)", rp.Gen.Lines, func() error {
		_, err := replay(ctx, rawPath, metaPath, &rp.Gen, o.batch, o.workers, pl.IngestAgent, "ingesting", logger)
		return err
	})
	stopProfile()
	if err != nil {
		store.Close()
		return err
	}
	logger.Info("ingest done", "cpu", rp.Full.CPU().Round(time.Millisecond), "wall", rp.Full.Wall.Round(time.Millisecond),
		"lines_per_cpu_second", int(rp.Full.LinesPerCPUSecond()))
	rp.Counters = gatherCounters(reg)
	rp.Close, _ = measure("close (flush to disk)", rp.Gen.Lines, func() error { store.Close(); return nil })
	logger.Info("store closed", "cpu", rp.Close.CPU().Round(time.Millisecond), "wall", rp.Close.Wall.Round(time.Millisecond))

	// 4. Reopen: size on disk, then the searches.
	t0 = time.Now()
	store, err = openStore()
	if err != nil {
		return err
	}
	defer func() {
		if store != nil {
			store.Close()
		}
	}()
	rp.Reopen = time.Since(t0)
	st := store.Stats()
	rp.StoreRows, rp.DroppedTooOld, rp.DroppedFuture = st.Rows, st.DroppedTooOld, st.DroppedFuture
	rp.Disk = measureDisk(storeDir)
	logger.Info("reopened", "rows", st.Rows, "bytes", rp.Disk.Apparent, "bytes_per_line", rp.Disk.perLine(rp.Gen.Lines))
	rp.SearchStateReopened = "closed and reopened after ingest (rows flushed to parts; merges not forced)"
	rp.Searches = runSearches(ctx, store, &rp.Gen, o.runs, true, logger)

	if o.merge {
		ph, _ := measure("force merge", rp.Gen.Lines, func() error { store.ForceMerge(); return nil })
		rp.Merge = &ph
		rp.DiskMerged = settleDisk(storeDir, 30*time.Second)
		logger.Info("merged", "cpu", ph.CPU().Round(time.Millisecond), "wall", ph.Wall.Round(time.Millisecond), "bytes", rp.DiskMerged.Apparent)
		rp.Merged = runSearches(ctx, store, &rp.Gen, o.runs, false, logger)
	}
	store.Close()
	store = nil

	// 5. grep over the same bytes: the floor.
	rp.GrepLocaleDefault = os.Getenv("LC_ALL")
	if rp.GrepLocaleDefault == "" {
		rp.GrepLocaleDefault = os.Getenv("LANG")
	}
	rp.Greps, err = runGreps(rawPath, &rp.Gen, o.grepRuns, logger)
	if err != nil {
		return err
	}
	rp.PeakRSS = maxRSS()
	rp.LoadEnd = loadAvg()

	text := rp.format()
	fmt.Print(text)
	if o.out != "" {
		if err := os.MkdirAll(filepath.Dir(o.out), 0o750); err != nil {
			return err
		}
		if err := os.WriteFile(o.out, []byte(text), 0o640); err != nil {
			return err
		}
		logger.Info("wrote the table", "file", o.out)
	}
	if !rp.searchesOK() {
		return errors.New("a search returned the wrong count (see the table)")
	}
	for _, g := range rp.Greps {
		if g.Count != g.Want {
			return fmt.Errorf("grep %s counted %d lines, not the generator's %d", strings.Join(g.Args, " "), g.Count, g.Want)
		}
	}
	if int(rp.StoreRows) != rp.Gen.Lines {
		return fmt.Errorf("the store holds %d rows, not the %d lines ingested", rp.StoreRows, rp.Gen.Lines)
	}
	return nil
}

// gatherCounters sums each counter family of reg over its labels.
func gatherCounters(reg *prometheus.Registry) map[string]float64 {
	out := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		return out
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if c := m.GetCounter(); c != nil {
				out[mf.GetName()] += c.GetValue()
			}
			if h := m.GetHistogram(); h != nil {
				out[mf.GetName()+"_count"] += float64(h.GetSampleCount())
			}
		}
	}
	return out
}
