package collector

import (
	"bufio"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// sharedNamesFile lists the metric names our collectors share with
// node_exporter 1.5 in its default configuration, one per line.
var sharedNamesFile = filepath.Join("testdata", "node_exporter_shared.txt")

// nonDefaultShared are names we share with node_exporter collectors that
// it only runs when asked (--collector.tcpstat). They are not in
// sharedNamesFile, whose readers run node_exporter with its defaults.
var nonDefaultShared = []string{"node_tcp_connection_states"}

// seriesDiffer are shared names whose series legitimately differ between
// two scrapes or two exporters: the collector sets differ, and connection
// states come and go.
var seriesDiffer = map[string]bool{
	"node_scrape_collector_success":          true,
	"node_scrape_collector_duration_seconds": true,
	"node_tcp_connection_states":             true,
}

// nodeExporter returns the path of Debian's node_exporter, skipping the
// test without it (failing it when CI is set).
func nodeExporter(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/prometheus-node-exporter", "prometheus-node-exporter", "node_exporter"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("node_exporter is not installed (apt-get install prometheus-node-exporter)")
	}
	t.Skip("node_exporter is not installed (apt-get install prometheus-node-exporter)")
	return ""
}

// startNodeExporter runs node_exporter on a free loopback port with our
// default exclusions and returns its /metrics URL.
func startNodeExporter(t *testing.T, bin string) string {
	t.Helper()
	for attempt := 0; attempt < 5; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		cmd := exec.Command(bin,
			"--web.listen-address="+addr,
			"--collector.tcpstat",
			"--collector.diskstats.device-exclude="+defaultDiskDeviceExclude,
			"--collector.filesystem.mount-points-exclude="+defaultMountPointsExclude,
			"--collector.filesystem.fs-types-exclude="+defaultFSTypesExclude,
			"--collector.netdev.device-exclude="+defaultNetworkDeviceExclude,
		)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		url := "http://" + addr + "/metrics"
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case <-exited:
				t.Logf("node_exporter exited (port taken?): %s", stderr.String())
				deadline = time.Time{}
				continue
			default:
			}
			if resp, err := http.Get(url); err == nil {
				resp.Body.Close()
				t.Cleanup(func() {
					_ = cmd.Process.Kill()
					<-exited
				})
				return url
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = cmd.Process.Kill()
		<-exited
	}
	t.Fatal("node_exporter did not start")
	return ""
}

// scrape fetches and parses a text exposition.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return mfs
}

// sortedLabelNames returns the label names used by a family's series.
func sortedLabelNames(mf *dto.MetricFamily) []string {
	set := map[string]bool{}
	for _, m := range mf.GetMetric() {
		for _, lp := range m.GetLabel() {
			set[lp.GetName()] = true
		}
	}
	out := make([]string, 0, len(set))
	for name := range set {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// seriesSet returns a family's series as sorted label strings.
func seriesSet(mf *dto.MetricFamily) []string {
	out := make([]string, 0, len(mf.GetMetric()))
	for _, m := range mf.GetMetric() {
		var b strings.Builder
		for _, lp := range m.GetLabel() {
			fmt.Fprintf(&b, "%s=%q,", lp.GetName(), lp.GetValue())
		}
		out = append(out, b.String())
	}
	sort.Strings(out)
	return out
}

// readSharedNames reads sharedNamesFile.
func readSharedNames(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(sharedNamesFile)
	require.NoError(t, err)
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			names = append(names, line)
		}
	}
	require.NoError(t, sc.Err())
	return names
}

// writeSharedNames writes the node_* names both outputs have.
func writeSharedNames(t *testing.T, ours, theirs map[string]*dto.MetricFamily) {
	t.Helper()
	var names []string
	for name := range ours {
		if _, ok := theirs[name]; ok && strings.HasPrefix(name, "node_") && !slices.Contains(nonDefaultShared, name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	header := "# Metric names that internal/collector shares with node_exporter 1.5 in its default\n" +
		"# configuration: same name, type and label names. Generated by\n" +
		"# `go test ./internal/collector -run TestCompat -update` on a host with node_exporter.\n" +
		"# node_tcp_connection_states is shared too, with node_exporter's --collector.tcpstat;\n" +
		"# compat_test.go checks it separately.\n"
	require.NoError(t, os.WriteFile(sharedNamesFile, []byte(header+strings.Join(names, "\n")+"\n"), 0o644))
}

// TestCompat_NodeExporter scrapes Debian's node_exporter and our Node on
// this host and checks every shared metric: present in both, same type,
// same label names, and, where both exporters see the same things, the same
// series and values of the same magnitude.
func TestCompat_NodeExporter(t *testing.T) {
	bin := nodeExporter(t)
	neURL := startNodeExporter(t, bin)

	n, err := New(Options{Logger: slog.New(slog.DiscardHandler), AgentVersion: "test"})
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(n))
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()

	theirs := scrape(t, neURL)
	ours := scrape(t, srv.URL)

	if *update {
		writeSharedNames(t, ours, theirs)
	}
	names := append(readSharedNames(t), nonDefaultShared...)
	require.Greater(t, len(names), 100, "shared names")
	checked := 0
	for _, name := range names {
		o, oOK := ours[name]
		ne, neOK := theirs[name]
		if !oOK && !neOK {
			t.Logf("%s: absent from both on this host", name)
			continue
		}
		require.True(t, oOK, "%s: node_exporter has it, we do not", name)
		require.True(t, neOK, "%s: we have it, node_exporter does not", name)
		require.Equal(t, ne.GetType(), o.GetType(), "%s: type", name)
		require.Equal(t, sortedLabelNames(ne), sortedLabelNames(o), "%s: label names", name)
		if !seriesDiffer[name] {
			require.Equal(t, seriesSet(ne), seriesSet(o), "%s: series", name)
		}
		checked++
	}
	t.Logf("%d shared metrics have the same type, label names and series in both", checked)

	// Units: values of the same series agree. Counters were read a moment
	// later by us, so they may have grown a little.
	for _, tc := range []struct {
		name   string
		growth float64 // allowed relative growth; 0 = equal
	}{
		{"node_memory_MemTotal_bytes", 0},
		{"node_memory_SwapTotal_bytes", 0},
		{"node_memory_HugePages_Total", 0},
		{"node_boot_time_seconds", 0},
		{"node_filefd_maximum", 0},
		{"node_entropy_pool_size_bits", 0},
		{"node_filesystem_size_bytes", 0},
		{"node_filesystem_files", 0},
		{"node_timex_tick_seconds", 0},
		{"node_os_version", 0},
		{"node_network_mtu_bytes", 0},
		{"node_network_flags", 0},
		{"node_network_iface_id", 0},
		{"node_network_speed_bytes", 0},
		{"node_network_transmit_queue_length", 0},
		{"node_cpu_seconds_total", 0.05},
		{"node_disk_read_bytes_total", 0.05},
		{"node_disk_io_time_seconds_total", 0.05},
		{"node_disk_read_time_seconds_total", 0.05},
		{"node_network_receive_bytes_total", 0.05},
		{"node_pressure_cpu_waiting_seconds_total", 0.05},
		{"node_netstat_Tcp_ActiveOpens", 0.2},
		{"node_vmstat_pgfault", 0.05},
		{"node_forks_total", 0.05},
	} {
		o, ne := ours[tc.name], theirs[tc.name]
		if o == nil || ne == nil {
			continue
		}
		theirValues := map[string]float64{}
		for _, m := range ne.GetMetric() {
			theirValues[seriesSet(&dto.MetricFamily{Metric: []*dto.Metric{m}})[0]] = metricValue(m)
		}
		for _, m := range o.GetMetric() {
			key := seriesSet(&dto.MetricFamily{Metric: []*dto.Metric{m}})[0]
			want, ok := theirValues[key]
			if !ok {
				continue
			}
			got := metricValue(m)
			if tc.growth == 0 {
				require.Equal(t, want, got, "%s{%s}", tc.name, key)
				continue
			}
			require.GreaterOrEqual(t, got, want, "%s{%s}: counter behind node_exporter's", tc.name, key)
			require.LessOrEqual(t, got, want*(1+tc.growth)+10, "%s{%s}: far above node_exporter's (unit?)", tc.name, key)
		}
	}
}

// metricValue returns a sample's value, whatever its type.
func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Untyped != nil:
		return m.GetUntyped().GetValue()
	}
	return math.NaN()
}
