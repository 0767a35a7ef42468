package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/saypro/monitor/bench/promtext"
)

// scrapeMetrics fetches a Prometheus text exposition and returns the sum
// of the samples of each metric name asked for (over all label sets); a
// name with no samples is absent from the map.
func scrapeMetrics(ctx context.Context, client *http.Client, url string, names ...string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return sumMetrics(resp.Body, names...)
}

// sumMetrics parses the text exposition format just enough to add up the
// values of the named metrics.
func sumMetrics(r io.Reader, names ...string) (map[string]float64, error) {
	out := map[string]float64{}
	err := promtext.Scan(r, names, func(name, _ string, value float64) error {
		out[name] += value
		return nil
	})
	return out, err
}

// DiskUsage is the space a data directory takes.
type DiskUsage struct {
	Bytes int64 `json:"bytes"` // allocated, as du reports
	// For Prometheus TSDB layouts: the persisted blocks only.
	Blocks       int   `json:"blocks"`
	BlockBytes   int64 `json:"block_bytes"`
	BlockSamples int64 `json:"block_samples"`
}

// diskUsage adds up the allocated size of every file under dir and, for
// each TSDB block found (a directory with meta.json), its size and sample
// count.
func diskUsage(dir string) (DiskUsage, error) {
	var u DiskUsage
	dir = filepath.Clean(dir)
	// The bytes under each directory, to add up those of the blocks.
	blockBytes := map[string]int64{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			// Files vanish while a TSDB compacts or merges; skip them.
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		size := info.Size()
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			size = st.Blocks * 512
		}
		u.Bytes += size
		if d.IsDir() {
			return nil
		}
		parent := filepath.Dir(path)
		if d.Name() == "meta.json" {
			n, err := blockSamples(path)
			if err != nil {
				return err
			}
			u.Blocks++
			u.BlockSamples += n
		}
		for p := parent; strings.HasPrefix(p, dir) && p != dir; p = filepath.Dir(p) {
			blockBytes[p] += size
		}
		return nil
	})
	for p, n := range blockBytes {
		if _, err := os.Stat(filepath.Join(p, "meta.json")); err == nil {
			u.BlockBytes += n
		}
	}
	return u, err
}

// blockSamples reads numSamples from a TSDB block's meta.json.
func blockSamples(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var m struct {
		Stats struct {
			NumSamples int64 `json:"numSamples"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return m.Stats.NumSamples, nil
}

// poll calls check every interval until it returns true, an error, or the
// timeout passes (false, nil).
func poll(ctx context.Context, timeout, interval time.Duration, check func() (bool, error)) (bool, error) {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := check()
		if ok || err != nil {
			return ok, err
		}
		if time.Now().Add(interval).After(deadline) {
			return false, nil
		}
		select {
		case <-time.After(interval):
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}
