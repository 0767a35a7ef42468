// Package procstat reads a process's CPU time and memory from /proc for the
// benchmarks (bench/agent/scrapeload and bench/ingest/loadgen). It is
// Linux-only and uses the standard library only.
package procstat

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Sample is what /proc says about a process at one moment.
type Sample struct {
	CPUSeconds float64 `json:"cpu_seconds"` // utime + stime
	RSSBytes   int64   `json:"rss_bytes"`   // VmRSS
	HWMBytes   int64   `json:"hwm_bytes"`   // VmHWM: peak RSS so far
}

// Read reads the CPU time and memory of process pid; clkTck is the
// kernel's clock ticks per second (getconf CLK_TCK).
func Read(pid int, clkTck float64) (Sample, error) {
	var p Sample
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
// line (fields 14 and 15). The command name (field 2) may hold spaces and
// parentheses, so fields are counted from the last ')'.
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
		return 0, 0, errors.New("VmRSS or VmHWM missing from /proc status (a kernel thread or a zombie?)")
	}
	return rss, hwm, nil
}
