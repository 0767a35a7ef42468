package collector

import (
	"io"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/procfs"
	"github.com/prometheus/procfs/blockdevice"
	"github.com/stretchr/testify/require"
)

// benchNodes are the Nodes of the benchmarks: this host, and the fixture
// trees (whose statfs is the fixture's, so no system call).
func benchNodes(b *testing.B) map[string]*Node {
	real, err := New(Options{Logger: slog.New(slog.DiscardHandler), AgentVersion: "bench"})
	require.NoError(b, err)
	return map[string]*Node{
		"real":    real,
		"fixture": newFixtureNode(b, fixtureOptions("testdata", &logRecorder{})),
	}
}

// BenchmarkCollect measures one collection of every collector: reading and
// parsing the files and building the samples (Node.Collect).
func BenchmarkCollect(b *testing.B) {
	for _, name := range []string{"real", "fixture"} {
		b.Run(name, func(b *testing.B) {
			n := benchNodes(b)[name]
			ch := make(chan prometheus.Metric, 4096)
			series := 0
			b.ReportAllocs()
			for b.Loop() {
				n.Collect(ch)
				series = len(ch)
				for len(ch) > 0 {
					<-ch
				}
			}
			b.ReportMetric(float64(series), "series")
		})
	}
}

// BenchmarkScrape measures what a scrape of /metrics costs without the
// network: collection, the registry's Gather and the text encoding.
func BenchmarkScrape(b *testing.B) {
	for _, name := range []string{"real", "fixture"} {
		b.Run(name, func(b *testing.B) {
			reg := prometheus.NewRegistry()
			require.NoError(b, reg.Register(benchNodes(b)[name]))
			b.ReportAllocs()
			for b.Loop() {
				mfs, err := reg.Gather()
				if err != nil {
					b.Fatal(err)
				}
				enc := expfmt.NewEncoder(io.Discard, expfmt.NewFormat(expfmt.TypeTextPlain))
				for _, mf := range mfs {
					if err := enc.Encode(mf); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkParse compares this package's parsers of the files read on every
// collection with procfs's, on this host's /proc: the reason they exist.
func BenchmarkParse(b *testing.B) {
	fs, err := procfs.NewFS("/proc")
	require.NoError(b, err)
	bfs, err := blockdevice.NewFS("/proc", "/sys")
	require.NoError(b, err)
	var r reader
	var times []cpuTimes
	for _, bc := range []struct {
		name string
		fn   func() error
	}{
		{"stat/ours", func() error {
			data, err := r.read("/proc/stat")
			if err != nil {
				return err
			}
			if times, err = parseCPUTimes(data, times[:0]); err != nil {
				return err
			}
			_, err = parseKernelStats(data)
			return err
		}},
		{"stat/procfs", func() error { _, err := fs.Stat(); return err }},
		{"diskstats/ours", func() error {
			data, err := r.read("/proc/diskstats")
			for len(data) > 0 && err == nil {
				var line []byte
				line, data = cutLine(data)
				_, err = parseDiskstatsLine(line)
			}
			return err
		}},
		{"diskstats/procfs", func() error { _, err := bfs.ProcDiskstats(); return err }},
		{"meminfo/ours", func() error {
			data, err := r.read("/proc/meminfo")
			if err != nil {
				return err
			}
			return parseMeminfo(data, func([]byte, uint64, bool) {})
		}},
		{"meminfo/procfs", func() error { _, err := fs.Meminfo(); return err }},
		{"netdev/ours", func() error {
			data, err := r.read("/proc/net/dev")
			for len(data) > 0 && err == nil {
				var line []byte
				line, data = cutLine(data)
				_, err = parseNetdevLine(line)
			}
			return err
		}},
		{"netdev/procfs", func() error { _, err := fs.NetDev(); return err }},
		{"mountinfo/ours", func() error {
			data, err := r.read("/proc/1/mountinfo")
			for len(data) > 0 && err == nil {
				var line []byte
				line, data = cutLine(data)
				_, err = parseMountinfoLine(line)
			}
			return err
		}},
		{"mountinfo/procfs", func() error { _, err := procfs.GetProcMounts(1); return err }},
		{"loadavg/ours", func() error {
			data, err := r.read("/proc/loadavg")
			if err == nil {
				_, err = parseLoadavg(data)
			}
			return err
		}},
		{"loadavg/procfs", func() error { _, err := fs.LoadAvg(); return err }},
		{"pressure/ours", func() error {
			data, err := r.read("/proc/pressure/io")
			if err == nil {
				_, err = parsePSI("io", data)
			}
			return err
		}},
		{"pressure/procfs", func() error { _, err := fs.PSIStatsForResource("io"); return err }},
		{"sockstat/ours", func() error {
			data, err := r.read("/proc/net/sockstat")
			if err == nil {
				err = parseSockstat("sockstat", data, func([]byte, []byte, uint64) {})
			}
			return err
		}},
		{"sockstat/procfs", func() error { _, err := fs.NetSockstat(); return err }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTCPStat compares counting this host's TCP sockets over netlink
// sock_diag with reading /proc/net/tcp and tcp6.
func BenchmarkTCPStat(b *testing.B) {
	buf := make([]byte, 64<<10)
	for _, mode := range []struct {
		name   string
		compat bool
	}{{"netlink-one-dump", true}, {"netlink-per-family", false}} {
		b.Run(mode.name, func(b *testing.B) {
			if !netlinkTCPSupported {
				b.Skip("no netlink here")
			}
			b.ReportAllocs()
			for b.Loop() {
				var t tcpCounts
				compat := mode.compat
				if err := countTCPNetlink(&t, buf, &compat); err != nil {
					b.Skip(err)
				}
				if compat != mode.compat {
					b.Skip("one dump refused")
				}
			}
		})
	}
	b.Run("proc", func(b *testing.B) {
		c := &tcpstatCollector{paths: [2]string{"/proc/net/tcp", "/proc/net/tcp6"}, buf: buf}
		b.ReportAllocs()
		for b.Loop() {
			var t tcpCounts
			for _, p := range c.paths {
				if err := c.count(p, &t); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
