package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/logs"
)

// cpuTimes is the process's user and system CPU time so far (all threads:
// the reader, the pipeline, the store's background work, the GC).
func cpuTimes() (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// maxRSS is the process's peak resident set size in bytes.
func maxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024
}

// phase is one measured stretch of work.
type phase struct {
	Name      string
	Lines     int
	Wall      time.Duration
	User, Sys time.Duration
}

// CPU is user + system time.
func (p phase) CPU() time.Duration { return p.User + p.Sys }

// LinesPerCPUSecond is the throughput per CPU-second.
func (p phase) LinesPerCPUSecond() float64 {
	if p.CPU() <= 0 {
		return 0
	}
	return float64(p.Lines) / p.CPU().Seconds()
}

// measure runs fn and returns its wall and CPU time. It collects garbage
// first, so that an earlier phase's garbage is not charged to this one.
func measure(name string, lines int, fn func() error) (phase, error) {
	runtime.GC()
	u0, s0 := cpuTimes()
	t0 := time.Now()
	err := fn()
	wall := time.Since(t0)
	u1, s1 := cpuTimes()
	return phase{Name: name, Lines: lines, Wall: wall, User: u1 - u0, Sys: s1 - s0}, err
}

// sink takes one agent batch: the pipeline's IngestAgent, or nothing.
type sink func(ctx context.Context, b agentapi.LogBatch) error

// replay reads the raw text and its sidecar and hands the lines to sink in
// per-host batches of at most batchSize entries, as agents post them, from
// workers goroutines (as the server handles concurrent posts). It returns
// the number of lines read.
func replay(ctx context.Context, rawPath, metaPath string, res *genResult, batchSize, workers int, to sink, progress string, logger *slog.Logger) (int, error) {
	raw, err := os.Open(rawPath)
	if err != nil {
		return 0, err
	}
	defer raw.Close()
	meta, err := os.Open(metaPath)
	if err != nil {
		return 0, err
	}
	defer meta.Close()
	rr := bufio.NewReaderSize(raw, 1<<20)
	mr := bufio.NewReaderSize(meta, 1<<16)

	batches := make(chan agentapi.LogBatch, workers)
	var (
		wg       sync.WaitGroup
		firstErr atomic.Pointer[error]
	)
	for range workers {
		wg.Go(func() {
			for b := range batches {
				if err := to(ctx, b); err != nil {
					firstErr.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	pending := make([][]agentapi.LogEntry, len(res.Hosts))
	send := func(h int) {
		if len(pending[h]) == 0 {
			return
		}
		batches <- agentapi.LogBatch{Host: res.Hosts[h], Entries: pending[h]}
		pending[h] = nil
	}
	var rec [metaBytes]byte
	n := 0
	for {
		line, err := rr.ReadSlice('\n')
		if errors.Is(err, io.EOF) && len(line) == 0 {
			break
		}
		if err != nil && !errors.Is(err, io.EOF) {
			close(batches)
			wg.Wait()
			return n, fmt.Errorf("reading %s: %w (lines must be shorter than 1 MiB)", rawPath, err)
		}
		if _, err := io.ReadFull(mr, rec[:]); err != nil {
			close(batches)
			wg.Wait()
			return n, fmt.Errorf("reading %s at line %d: %w", metaPath, n+1, err)
		}
		if len(line) > 0 && line[len(line)-1] == '\n' {
			line = line[:len(line)-1]
		}
		h, k := int(rec[0]), kind(rec[1])
		ki := &kindInfo[k]
		if pending[h] == nil {
			pending[h] = make([]agentapi.LogEntry, 0, batchSize)
		}
		pending[h] = append(pending[h], agentapi.LogEntry{
			Time:    res.Start.Add(time.Duration(binary.LittleEndian.Uint32(rec[2:])) * time.Millisecond),
			Source:  ki.source,
			File:    ki.file,
			Format:  ki.format,
			Message: string(line),
		})
		if len(pending[h]) >= batchSize {
			send(h)
		}
		n++
		if progress != "" && n%1_000_000 == 0 {
			logger.Info(progress, "lines", n, "of", res.Lines)
		}
	}
	for h := range pending {
		send(h)
	}
	close(batches)
	wg.Wait()
	if p := firstErr.Load(); p != nil {
		return n, *p
	}
	return n, nil
}

// countingStore is a logs.Store that only counts what it is given, to
// measure the pipeline without the store.
type countingStore struct {
	entries atomic.Int64
	fields  atomic.Int64
}

func (c *countingStore) Add(entries []logs.Entry) error {
	f := 0
	for i := range entries {
		f += len(entries[i].Fields)
	}
	c.entries.Add(int64(len(entries)))
	c.fields.Add(int64(f))
	return nil
}

func (c *countingStore) Search(context.Context, logs.Filter, int, *logs.Cursor) ([]logs.Entry, *logs.Cursor, error) {
	return nil, nil, nil
}

func (c *countingStore) Histogram(context.Context, logs.Filter, time.Duration) ([]logs.Bucket, uint64, error) {
	return nil, 0, nil
}

func (c *countingStore) Values(context.Context, logs.Filter, string, int) ([]logs.Value, error) {
	return nil, nil
}

func (c *countingStore) CountBy(context.Context, logs.Filter, []string, uint64) ([]logs.Group, error) {
	return nil, nil
}

var _ logs.Store = (*countingStore)(nil)

// startProfile starts a CPU profile into path ("" does nothing) and
// returns the function that stops it.
func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// fieldDropper leaves parsed fields out of the entries it hands to the
// store (an experiment: what the fields cost in CPU and on disk).
type fieldDropper struct {
	logs.Store
	all  bool
	drop []string
}

func newFieldDropper(st logs.Store, spec string) *fieldDropper {
	d := &fieldDropper{Store: st}
	for f := range strings.SplitSeq(spec, ",") {
		if f = strings.TrimSpace(f); f == "all" {
			d.all = true
		} else if f != "" {
			d.drop = append(d.drop, f)
		}
	}
	return d
}

func (d *fieldDropper) Add(entries []logs.Entry) error {
	for i := range entries {
		if d.all {
			entries[i].Fields = nil
			continue
		}
		for _, f := range d.drop {
			delete(entries[i].Fields, f)
		}
	}
	return d.Store.Add(entries)
}
