package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// procSample is what /proc says about a process at one moment.
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
// line (fields 14 and 15). The command name (field 2) may hold spaces and
// parentheses, so fields are counted from the last ')'.
func parseStatCPU(stat string) (int64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat: no ')'")
	}
	rest := strings.Fields(stat[i+1:]) // rest[0] is field 3, the state
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

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// seriesCounter is a writer that counts the series of a text-format
// exposition: lines that are neither empty nor comments (# HELP, # TYPE).
// Every histogram bucket, _sum and _count is a series, as a scraper
// stores them.
type seriesCounter struct {
	series  int
	midLine bool // false at the start of a line
}

func (s *seriesCounter) Write(p []byte) (int, error) {
	for _, b := range p {
		if !s.midLine {
			if b == '\n' {
				continue
			}
			if b != '#' {
				s.series++
			}
			s.midLine = true
		}
		if b == '\n' {
			s.midLine = false
		}
	}
	return len(p), nil
}

// sample is one line of the text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseSamples parses the text exposition format just enough to return
// the samples of the named metrics with their labels.
func parseSamples(r io.Reader, names ...string) ([]sample, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []sample
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
		s := sample{name: name, labels: map[string]string{}}
		rest := line[len(name):]
		if strings.HasPrefix(rest, "{") {
			j := strings.LastIndexByte(rest, '}')
			if j < 0 {
				return nil, fmt.Errorf("malformed metric line %q", line)
			}
			if err := parseLabels(rest[1:j], s.labels); err != nil {
				return nil, fmt.Errorf("metric line %q: %w", line, err)
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
		s.value = v
		out = append(out, s)
	}
	return out, sc.Err()
}

// parseLabels parses `a="x",b="y\"z"` into m.
func parseLabels(s string, m map[string]string) error {
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		name, rest, ok := strings.Cut(s, "=")
		if !ok || !strings.HasPrefix(rest, `"`) {
			return fmt.Errorf("bad label pair in %q", s)
		}
		var (
			val strings.Builder
			i   int
		)
		for i = 1; i < len(rest); i++ {
			c := rest[i]
			if c == '\\' && i+1 < len(rest) {
				i++
				switch rest[i] {
				case 'n':
					val.WriteByte('\n')
				default:
					val.WriteByte(rest[i])
				}
				continue
			}
			if c == '"' {
				break
			}
			val.WriteByte(c)
		}
		if i >= len(rest) {
			return fmt.Errorf("unterminated label value in %q", s)
		}
		m[strings.TrimSpace(name)] = val.String()
		s = strings.TrimPrefix(strings.TrimSpace(rest[i+1:]), ",")
	}
	return nil
}
