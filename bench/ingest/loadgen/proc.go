package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procSample is what /proc says about the server process at one moment.
type procSample struct {
	CPUSeconds float64 `json:"cpu_seconds"` // utime + stime
	RSSBytes   int64   `json:"rss_bytes"`   // VmRSS
	HWMBytes   int64   `json:"hwm_bytes"`   // VmHWM: peak RSS so far
}

// readProc reads the CPU time and memory of process pid; clkTck is the
// kernel's clock ticks per second (getconf CLK_TCK).
func readProc(pid int, clkTck float64) (procSample, error) {
	var p procSample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return p, err
	}
	ticks, err := parseStatCPU(string(stat))
	if err != nil {
		return p, err
	}
	p.CPUSeconds = float64(ticks) / clkTck
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return p, err
	}
	p.RSSBytes, p.HWMBytes, err = parseStatusMemory(string(status))
	return p, err
}

// parseStatCPU returns utime+stime in clock ticks from a /proc/PID/stat
// line. The command name (field 2) may hold spaces and parentheses, so
// fields are counted from the last ')'.
func parseStatCPU(stat string) (int64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat: no ')'")
	}
	// After ")": field 3 (state) is rest[0]; utime is field 14, stime 15.
	rest := strings.Fields(stat[i+1:])
	if len(rest) < 13 {
		return 0, fmt.Errorf("malformed /proc stat: %d fields after the name", len(rest))
	}
	var total int64
	for _, f := range rest[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("malformed /proc stat: %w", err)
		}
		total += n
	}
	return total, nil
}

// parseStatusMemory returns VmRSS and VmHWM in bytes from /proc/PID/status.
func parseStatusMemory(status string) (rss, hwm int64, err error) {
	found := 0
	for line := range strings.Lines(status) {
		name, val, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("unexpected %s line %q", name, strings.TrimSpace(line))
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", name, err)
		}
		if name == "VmRSS" {
			rss = n * 1024
		} else {
			hwm = n * 1024
		}
		found++
	}
	if found != 2 {
		return 0, 0, errors.New("VmRSS or VmHWM missing from /proc status")
	}
	return rss, hwm, nil
}

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
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name := line
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name = line[:i]
		}
		if !want[name] {
			continue
		}
		// The value follows the label set (which may contain spaces in
		// quoted values), optionally followed by a timestamp.
		rest := line[len(name):]
		if strings.HasPrefix(rest, "{") {
			j := strings.LastIndexByte(rest, '}')
			if j < 0 {
				return nil, fmt.Errorf("malformed metric line %q", line)
			}
			rest = rest[j+1:]
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return nil, fmt.Errorf("malformed metric line %q", line)
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metric line %q: %w", line, err)
		}
		out[name] += v
	}
	return out, sc.Err()
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
