package agent

import (
	"bytes"
	"fmt"
	"os"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"
)

// processCollector exports the agent's own process_* metrics with the
// names and types of client_golang's process collector, from one read of
// /proc/self/stat, one directory read of /proc/self/fd and getrlimit. The
// library's collector also parses limits, status, io and the network
// counters, which made it a tenth of the agent's CPU per scrape.
type processCollector struct {
	cpu, rss, vsize, start, fds, maxFDs *prometheus.Desc
	startTime                           float64
	pageSize                            float64
}

// userHZ is the unit of the times in /proc/PID/stat; Linux fixes it at
// 100 for user space on every architecture we build for.
const userHZ = 100

func newProcessCollector() (prometheus.Collector, error) {
	st, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return nil, err
	}
	f, err := statFields(st)
	if err != nil {
		return nil, err
	}
	startTicks, err := strconv.ParseFloat(string(f[19]), 64)
	if err != nil {
		return nil, fmt.Errorf("/proc/self/stat starttime: %w", err)
	}
	btime, err := bootTime()
	if err != nil {
		return nil, err
	}
	return &processCollector{
		cpu:       prometheus.NewDesc("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", nil, nil),
		rss:       prometheus.NewDesc("process_resident_memory_bytes", "Resident memory size in bytes.", nil, nil),
		vsize:     prometheus.NewDesc("process_virtual_memory_bytes", "Virtual memory size in bytes.", nil, nil),
		start:     prometheus.NewDesc("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", nil, nil),
		fds:       prometheus.NewDesc("process_open_fds", "Number of open file descriptors.", nil, nil),
		maxFDs:    prometheus.NewDesc("process_max_fds", "Maximum number of open file descriptors.", nil, nil),
		startTime: btime + startTicks/userHZ,
		pageSize:  float64(os.Getpagesize()),
	}, nil
}

// statFields returns the fields of a /proc/PID/stat line after the
// command name, so that f[0] is field 3 (state).
func statFields(st []byte) ([][]byte, error) {
	i := bytes.LastIndexByte(st, ')')
	if i < 0 {
		return nil, fmt.Errorf("/proc/self/stat: no command name in %q", st)
	}
	f := bytes.Fields(st[i+1:])
	if len(f) < 22 {
		return nil, fmt.Errorf("/proc/self/stat: %d fields after the command name, want 22 or more", len(f))
	}
	return f, nil
}

func bootTime() (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			return strconv.ParseFloat(string(bytes.TrimSpace(v)), 64)
		}
	}
	return 0, fmt.Errorf("/proc/stat has no btime line")
}

func (c *processCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.cpu, c.rss, c.vsize, c.start, c.fds, c.maxFDs} {
		ch <- d
	}
}

func (c *processCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.start, prometheus.GaugeValue, c.startTime)
	if st, err := os.ReadFile("/proc/self/stat"); err == nil {
		if f, err := statFields(st); err == nil {
			utime, _ := strconv.ParseFloat(string(f[11]), 64)
			stime, _ := strconv.ParseFloat(string(f[12]), 64)
			vsize, _ := strconv.ParseFloat(string(f[20]), 64)
			rss, _ := strconv.ParseFloat(string(f[21]), 64)
			ch <- prometheus.MustNewConstMetric(c.cpu, prometheus.CounterValue, (utime+stime)/userHZ)
			ch <- prometheus.MustNewConstMetric(c.vsize, prometheus.GaugeValue, vsize)
			ch <- prometheus.MustNewConstMetric(c.rss, prometheus.GaugeValue, rss*c.pageSize)
		}
	}
	if d, err := os.Open("/proc/self/fd"); err == nil {
		names, err := d.Readdirnames(-1)
		d.Close()
		if err == nil {
			// The directory itself is open while it is read.
			ch <- prometheus.MustNewConstMetric(c.fds, prometheus.GaugeValue, float64(len(names)-1))
		}
	}
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil {
		ch <- prometheus.MustNewConstMetric(c.maxFDs, prometheus.GaugeValue, float64(lim.Cur))
	}
}
