package collector

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.prom and testdata/node_exporter_shared.txt")

// fixtureTime is the clock of fixture collections.
var fixtureTime = time.Date(2026, 1, 2, 3, 4, 5, 500_000_000, time.UTC)

// fixtureStatfs answers statfs for the mount points of the fixture
// mountinfo under root. Unknown paths give ENOENT, so a mount the collector
// should have skipped shows in the golden file.
func fixtureStatfs(root string) func(string, *unix.Statfs_t) error {
	return func(path string, buf *unix.Statfs_t) error {
		mp := strings.TrimPrefix(path, root)
		if mp == "" {
			mp = "/"
		}
		return fixtureStatfsMount(mp, buf)
	}
}

// fixtureStatfsMount answers statfs for a mount point of the fixture.
func fixtureStatfsMount(mp string, buf *unix.Statfs_t) error {
	type fs struct{ bsize, blocks, bfree, bavail, files, ffree uint64 }
	known := map[string]fs{
		"/":               {4096, 66053997, 61832702, 19645227, 16777216, 16288800},
		"/run":            {4096, 617102, 616800, 616800, 617102, 616000},
		"/data":           {4096, 244190208, 122095104, 122095104, 488374272, 488000000},
		"/srv/my files":   {1024, 1000000, 10, 0, 65536, 0},
		"/mnt/nfs":        {1048576, 1024000, 512000, 512000, 0, 0},
		"/boot/efi":       {512, 1048576, 1000000, 1000000, 0, 0},
		"/var/lib/docker": {4096, 26214400, 13107200, 11796480, 6553600, 6000000},
		"/mnt/sandboxing/model_tools_env/v1/python": {4096, 1, 1, 1, 3085512, 3085511},
	}
	if mp == "/mnt/broken" {
		return unix.EIO
	}
	f, ok := known[mp]
	if !ok {
		return unix.ENOENT
	}
	*buf = unix.Statfs_t{Bsize: int64(f.bsize), Blocks: f.blocks, Bfree: f.bfree, Bavail: f.bavail, Files: f.files, Ffree: f.ffree}
	return nil
}

// logRecorder is a slog.Handler that keeps what is logged.
type logRecorder struct {
	mu      sync.Mutex
	records []logRecord
	attrs   []slog.Attr
	parent  *logRecorder
}

// logRecord is one logged message with its attributes as strings.
type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (h *logRecorder) root() *logRecorder {
	if h.parent != nil {
		return h.parent
	}
	return h
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	for _, a := range h.attrs {
		rec.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	root := h.root()
	root.mu.Lock()
	root.records = append(root.records, rec)
	root.mu.Unlock()
	return nil
}

func (h *logRecorder) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logRecorder{attrs: append(append([]slog.Attr{}, h.attrs...), attrs...), parent: h.root()}
}

func (h *logRecorder) WithGroup(string) slog.Handler { return h }

// count returns how many records about a collector's own state (failed, no
// data, recovered) have the level and collector attribute.
func (h *logRecorder) count(level slog.Level, collector string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.records {
		if r.level == level && r.attrs["collector"] == collector && strings.HasPrefix(r.msg, "collector ") {
			n++
		}
	}
	return n
}

// fixtureOptions returns Options on the fixture trees under dir.
func fixtureOptions(dir string, logs *logRecorder) Options {
	return Options{
		ProcPath:     filepath.Join(dir, "proc"),
		SysPath:      filepath.Join(dir, "sys"),
		RootPath:     filepath.Join(dir, "root"),
		AgentVersion: "1.2.3",
		Statfs:       fixtureStatfs(filepath.Join(dir, "root")),
		Logger:       slog.New(logs),
	}
}

// newFixtureNode builds a Node whose clock, uname and adjtimex are fixed.
func newFixtureNode(t testing.TB, o Options) *Node {
	t.Helper()
	n, err := New(o)
	require.NoError(t, err)
	n.env.now = func() time.Time { return fixtureTime }
	n.env.uname = func(u *unix.Utsname) error {
		*u = unix.Utsname{}
		copy(u.Sysname[:], "Linux")
		copy(u.Nodename[:], "fixture-host")
		copy(u.Release[:], "6.1.0-18-amd64")
		copy(u.Version[:], "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)")
		copy(u.Machine[:], "x86_64")
		copy(u.Domainname[:], "(none)")
		return nil
	}
	n.env.clock = func() (clockState, error) {
		return clockState{synced: true, offset: -1234, freq: 655360, maxError: 16000, estError: 12,
			status: 0x2001, constant: 7, tick: 10000, tai: 37, nano: true}, nil
	}
	return n
}

// describeAll registers a Node with every descriptor it collects, so that a
// pedantic registry checks each metric's labels against its descriptor.
type describeAll struct{ *Node }

func (d describeAll) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(d, ch) }

// gather collects n once through a fresh registry.
func gather(t testing.TB, n *Node) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(n))
	return gatherFrom(t, reg)
}

// gatherPedantic collects n through a fresh pedantic registry, which checks
// every metric's labels against its descriptor. Registering collects once
// more, to describe the metrics.
func gatherPedantic(t testing.TB, n *Node) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(describeAll{n}))
	return gatherFrom(t, reg)
}

func gatherFrom(t testing.TB, reg prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// exposition renders families in the text format, without the scrape
// durations, and with the Go version replaced by GOVERSION.
func exposition(t testing.TB, mfs map[string]*dto.MetricFamily) string {
	t.Helper()
	names := make([]string, 0, len(mfs))
	for name := range mfs {
		if name != "node_scrape_collector_duration_seconds" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var b bytes.Buffer
	for _, name := range names {
		_, err := expfmt.MetricFamilyToText(&b, mfs[name])
		require.NoError(t, err)
	}
	return strings.ReplaceAll(b.String(), `goversion="`+runtime.Version()+`"`, `goversion="GOVERSION"`)
}

// successes returns node_scrape_collector_success by collector.
func successes(mfs map[string]*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, m := range mfs["node_scrape_collector_success"].GetMetric() {
		out[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
	}
	return out
}

// value returns the value of the series of name with the given labels (all
// of them), and whether it exists.
func value(mfs map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	want := map[string]string{}
	for j := 0; j+1 < len(labels); j += 2 {
		want[labels[j]] = labels[j+1]
	}
	for _, m := range mfs[name].GetMetric() {
		if len(m.GetLabel()) != len(want) {
			continue
		}
		match := true
		for _, lp := range m.GetLabel() {
			if v, ok := want[lp.GetName()]; !ok || v != lp.GetValue() {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		default:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// labelValues returns the values of label over the series of name, sorted.
func labelValues(mfs map[string]*dto.MetricFamily, name, label string) []string {
	var out []string
	for _, m := range mfs[name].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == label {
				out = append(out, lp.GetValue())
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestCollect_Golden(t *testing.T) {
	logs := &logRecorder{}
	n := newFixtureNode(t, fixtureOptions("testdata", logs))
	got := exposition(t, gatherPedantic(t, n))
	golden := filepath.Join("testdata", "golden.prom")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	require.Equal(t, string(want), got, "run go test ./internal/collector -update to accept the new output")

	// A second collection gives the same output: the caches change nothing.
	require.Equal(t, got, exposition(t, gather(t, n)))
	// The only complaint is the fixture's failing mount.
	for _, r := range logs.records {
		require.Equal(t, "/mnt/broken", r.attrs["mountpoint"], "unexpected log %q %v", r.msg, r.attrs)
	}
}

func TestNames(t *testing.T) {
	names := Names()
	require.True(t, sort.StringsAreSorted(names))
	require.Contains(t, names, "tcpstat")
	require.Len(t, names, len(factories))
}

func TestNew_Errors(t *testing.T) {
	logger := slog.New(&logRecorder{})
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"no logger", Options{}, "Logger is required"},
		{"unknown collector", Options{Logger: logger, Disabled: []string{"cpu", "nosuch"}}, `unknown collector "nosuch"`},
		{"bad disk regexp", Options{Logger: logger, DiskDeviceExclude: "("}, "disk device exclude"},
		{"bad mount regexp", Options{Logger: logger, FilesystemMountPointsExclude: "[z-a]"}, "mount points exclude"},
		{"bad fstype regexp", Options{Logger: logger, FilesystemFSTypesExclude: "*"}, "types exclude"},
		{"bad netdev regexp", Options{Logger: logger, NetworkDeviceExclude: "(?P<"}, "network device exclude"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.o)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestNew_Disabled(t *testing.T) {
	o := fixtureOptions("testdata", &logRecorder{})
	o.Disabled = []string{"tcpstat", "filesystem"}
	mfs := gather(t, newFixtureNode(t, o))
	s := successes(mfs)
	require.NotContains(t, s, "tcpstat")
	require.NotContains(t, s, "filesystem")
	require.Contains(t, s, "cpu")
	require.NotContains(t, mfs, "node_tcp_connection_states")
	require.NotContains(t, mfs, "node_filesystem_size_bytes")
}

// copyTree copies the fixture trees into a temporary directory that a test
// may break.
func copyTree(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir("testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("testdata", path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	require.NoError(t, err)
	return dst
}

func TestCollect_Faults(t *testing.T) {
	remove := func(rel string) func(string) error {
		return func(dir string) error { return os.RemoveAll(filepath.Join(dir, rel)) }
	}
	write := func(rel, content string) func(string) error {
		return func(dir string) error { return os.WriteFile(filepath.Join(dir, rel), []byte(content), 0o644) }
	}
	for _, tc := range []struct {
		name   string
		break_ func(dir string) error
		failed []string // collectors that report success 0
		debug  bool     // logged at debug level (no data), not as a failure
	}{
		{"stat missing", remove("proc/stat"), []string{"cpu", "stat"}, false},
		{"stat malformed cpu", write("proc/stat", "cpu0 1 2 x 4\nbtime 1\nctxt 2\n"), []string{"cpu"}, false},
		{"stat without counters", write("proc/stat", "cpu0 1 2 3 4 5 6 7 8 9 10\n"), []string{"stat"}, false},
		{"loadavg missing", remove("proc/loadavg"), []string{"loadavg"}, false},
		{"loadavg malformed", write("proc/loadavg", "0.1 zero\n"), []string{"loadavg"}, false},
		{"meminfo missing", remove("proc/meminfo"), []string{"meminfo"}, false},
		{"meminfo malformed", write("proc/meminfo", "MemTotal: lots kB\n"), []string{"meminfo"}, false},
		{"meminfo empty", write("proc/meminfo", ""), []string{"meminfo"}, false},
		{"vmstat missing", remove("proc/vmstat"), []string{"vmstat"}, false},
		{"vmstat malformed", write("proc/vmstat", "pgfault many\n"), []string{"vmstat"}, false},
		{"pressure missing", remove("proc/pressure"), []string{"pressure"}, true},
		{"pressure malformed", write("proc/pressure/io", "some avg10=x\n"), []string{"pressure"}, false},
		{"diskstats missing", remove("proc/diskstats"), []string{"diskstats"}, false},
		{"diskstats malformed", write("proc/diskstats", "8 0 sda 1 2 three 4 5 6 7 8 9 10 11\n"), []string{"diskstats"}, false},
		{"diskstats short", write("proc/diskstats", "8 0 sda 1 2 3 4\n"), []string{"diskstats"}, false},
		{"mountinfo missing", remove("proc/1/mountinfo"), []string{"filesystem"}, false},
		{"mountinfo malformed", write("proc/1/mountinfo", "22 27 0:21 / /proc rw,relatime proc proc rw\n"), []string{"filesystem"}, false},
		{"net/dev missing", remove("proc/net/dev"), []string{"netdev"}, false},
		{"net/dev malformed", write("proc/net/dev", "eth0: 1 2 3\n"), []string{"netdev"}, false},
		{"class/net missing", remove("sys/class/net"), []string{"netclass"}, false},
		{"class/net mtu malformed", write("sys/class/net/eth0/mtu", "1500 bytes\n"), []string{"netclass"}, false},
		{"class/net flags malformed", write("sys/class/net/lo/flags", "0xzz\n"), []string{"netclass"}, false},
		{"class/net speed empty", write("sys/class/net/eth0/speed", ""), []string{"netclass"}, false},
		{"class/net speed missing is fine", remove("sys/class/net/eth0/speed"), nil, false},
		{"class/net operstate missing is fine", remove("sys/class/net/docker0/operstate"), nil, false},
		{"class/net interface gone is fine", remove("sys/class/net/ifb0"), nil, false},
		{"net/tcp missing", remove("proc/net/tcp"), []string{"tcpstat"}, false},
		{"net/tcp malformed", write("proc/net/tcp", "  sl local rem st\n 0: a b ZZ 0:0\n"), []string{"tcpstat"}, false},
		{"net/tcp6 missing is fine", remove("proc/net/tcp6"), nil, false},
		{"sockstat missing", remove("proc/net/sockstat"), []string{"sockstat"}, false},
		{"sockstat6 missing is fine", remove("proc/net/sockstat6"), nil, false},
		{"netstat missing", remove("proc/net/netstat"), []string{"netstat"}, false},
		{"snmp without values", write("proc/net/snmp", "Ip: Forwarding DefaultTTL\n"), []string{"netstat"}, false},
		{"snmp values mismatch", write("proc/net/snmp", "Ip: Forwarding DefaultTTL\nIp: 1\n"), []string{"netstat"}, false},
		{"snmp6 missing is fine", remove("proc/net/snmp6"), nil, false},
		{"file-nr missing", remove("proc/sys/fs/file-nr"), []string{"filefd"}, false},
		{"file-nr malformed", write("proc/sys/fs/file-nr", "12\n"), []string{"filefd"}, false},
		{"entropy missing", remove("proc/sys/kernel/random/entropy_avail"), []string{"entropy"}, false},
		{"poolsize malformed", write("proc/sys/kernel/random/poolsize", "big\n"), []string{"entropy"}, false},
		{"uptime missing", remove("proc/uptime"), []string{"uptime"}, false},
		{"uptime malformed", write("proc/uptime", "-\n"), []string{"uptime"}, false},
		{"os-release missing", remove("root/etc/os-release"), []string{"os"}, false},
		{"clocksource missing is fine", remove("sys/devices/system/clocksource"), nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyTree(t)
			logs := &logRecorder{}
			n := newFixtureNode(t, fixtureOptions(dir, logs))
			require.NoError(t, tc.break_(dir))

			level := slog.LevelWarn
			if tc.debug {
				level = slog.LevelDebug
			}
			for range 2 {
				mfs := gather(t, n)
				for name, ok := range successes(mfs) {
					require.Equal(t, !slices.Contains(tc.failed, name), ok == 1, "collector %s success", name)
				}
			}
			for _, name := range Names() {
				want := 0
				if slices.Contains(tc.failed, name) {
					want = 1
				}
				require.Equal(t, want, logs.count(level, name), "failures of %s logged once over two collections", name)
				require.Zero(t, logs.count(slog.LevelError, name))
			}
			if len(tc.failed) == 0 {
				return
			}

			// Repaired, the collectors recover and say so once; broken again,
			// they are logged again.
			fresh := copyTree(t)
			require.NoError(t, os.RemoveAll(dir))
			require.NoError(t, os.Rename(fresh, dir))
			for name, ok := range successes(gather(t, n)) {
				require.Equal(t, 1.0, ok, "collector %s after repair", name)
			}
			for _, name := range tc.failed {
				require.Equal(t, 1, logs.count(slog.LevelInfo, name), "recovery of %s logged", name)
			}
			require.NoError(t, tc.break_(dir))
			n.env.now = func() time.Time { return fixtureTime.Add(osReleaseMaxAge) } // past the os-release cache
			gather(t, n)
			for _, name := range tc.failed {
				require.Equal(t, 2, logs.count(level, name), "%s logged again after recovering", name)
			}
		})
	}
}

func TestCollect_MountinfoFallback(t *testing.T) {
	dir := copyTree(t)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "proc", "self"), 0o755))
	require.NoError(t, os.Rename(filepath.Join(dir, "proc", "1", "mountinfo"), filepath.Join(dir, "proc", "self", "mountinfo")))
	mfs := gather(t, newFixtureNode(t, fixtureOptions(dir, &logRecorder{})))
	require.Equal(t, 1.0, successes(mfs)["filesystem"])
	v, ok := value(mfs, "node_filesystem_size_bytes", "device", "/dev/sda1", "fstype", "xfs", "mountpoint", "/data")
	require.True(t, ok)
	require.Equal(t, 4096.0*244190208, v)
}

// panicky is a collector that panics.
type panicky struct{}

func (panicky) update(chan<- prometheus.Metric) error { panic("odd input") }

func TestCollect_PanicIsAFailure(t *testing.T) {
	logs := &logRecorder{}
	n := newFixtureNode(t, fixtureOptions("testdata", logs))
	n.collectors = append(n.collectors, &entry{name: "panicky", c: panicky{}, labels: labelPairs("collector", "panicky"), logger: slog.New(logs).With("collector", "panicky")})
	s := successes(gather(t, n))
	require.Equal(t, 0.0, s["panicky"])
	require.Equal(t, 1.0, s["cpu"])
	require.Equal(t, 1, logs.count(slog.LevelWarn, "panicky"))
}

func TestCollect_Excludes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		set    func(*Options)
		metric string
		label  string
		want   []string
	}{
		{"disks default", func(*Options) {}, "node_disk_reads_completed_total", "device",
			[]string{"dm-0", "mmcblk0", "nvme0n1", "sda", "sr0", "vda"}},
		{"disks custom", func(o *Options) { o.DiskDeviceExclude = `^(loop|sr)\d+$` }, "node_disk_reads_completed_total", "device",
			[]string{"dm-0", "mmcblk0", "mmcblk0p1", "nvme0n1", "nvme0n1p1", "ram0", "sda", "sda1", "vda", "zram0"}},
		{"mount points default", func(*Options) {}, "node_filesystem_size_bytes", "mountpoint",
			[]string{"/", "/boot/efi", "/data", "/mnt/nfs", "/mnt/sandboxing/model_tools_env/v1/python", "/run", "/srv/my files", "/var/lib/docker"}},
		{"mount points custom", func(o *Options) { o.FilesystemMountPointsExclude = `^/(mnt|run|sys|proc|dev)(/|$)` }, "node_filesystem_size_bytes", "mountpoint",
			[]string{"/", "/boot/efi", "/data", "/srv/my files", "/var/lib/docker"}},
		{"fs types custom", func(o *Options) {
			o.FilesystemFSTypesExclude = `^(tmpfs|nfs4|cifs|vfat|devtmpfs|devpts|proc|sysfs|cgroup2?)$`
		},
			"node_filesystem_size_bytes", "mountpoint",
			[]string{"/", "/data", "/srv/my files", "/var/lib/docker"}},
		{"network default", func(*Options) {}, "node_network_receive_bytes_total", "device",
			[]string{"docker0", "eth0", "ifb0", "ifb1", "lo", "vethab12cd3", "wlp0s20f3"}},
		{"network custom", func(o *Options) { o.NetworkDeviceExclude = `^(veth.*|docker\d+|lo)$` }, "node_network_receive_bytes_total", "device",
			[]string{"eth0", "ifb0", "ifb1", "wlp0s20f3"}},
		{"netclass default", func(*Options) {}, "node_network_up", "device",
			[]string{"docker0", "eth0", "ifb0", "lo"}},
		{"netclass custom", func(o *Options) { o.NetworkDeviceExclude = `^(veth.*|docker\d+|lo)$` }, "node_network_info", "device",
			[]string{"eth0", "ifb0"}},
		{"netclass custom mtu", func(o *Options) { o.NetworkDeviceExclude = `^(veth.*|docker\d+|lo)$` }, "node_network_mtu_bytes", "device",
			[]string{"eth0", "ifb0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := fixtureOptions("testdata", &logRecorder{})
			tc.set(&o)
			mfs := gather(t, newFixtureNode(t, o))
			require.Equal(t, tc.want, labelValues(mfs, tc.metric, tc.label))
		})
	}
}

func TestHostInfo(t *testing.T) {
	n := newFixtureNode(t, fixtureOptions("testdata", &logRecorder{}))
	h, err := n.HostInfo()
	require.NoError(t, err)
	require.Equal(t, HostInfo{
		Hostname:    "fixture-host",
		OS:          "Debian GNU/Linux 12 (bookworm)",
		OSID:        "debian",
		OSVersion:   "12",
		Kernel:      "6.1.0-18-amd64",
		Arch:        "x86_64",
		CPUs:        2,
		MemoryBytes: mustMemTotal(t, "testdata/proc/meminfo"),
		BootTime:    time.Unix(mustBtime(t, "testdata/proc/stat"), 0),
	}, h)

	// Without os-release and the sysfs CPU list, the rest still works.
	dir := copyTree(t)
	require.NoError(t, os.Remove(filepath.Join(dir, "root", "etc", "os-release")))
	require.NoError(t, os.Remove(filepath.Join(dir, "sys", "devices", "system", "cpu", "online")))
	h, err = newFixtureNode(t, fixtureOptions(dir, &logRecorder{})).HostInfo()
	require.NoError(t, err)
	require.Empty(t, h.OS)
	require.Equal(t, 3, h.CPUs, "cpuN lines of the fixture /proc/stat")

	// Without /proc/stat it fails.
	require.NoError(t, os.Remove(filepath.Join(dir, "proc", "stat")))
	_, err = newFixtureNode(t, fixtureOptions(dir, &logRecorder{})).HostInfo()
	require.True(t, errors.Is(err, fs.ErrNotExist), "%v", err)
}

func mustMemTotal(t *testing.T, path string) uint64 {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var total uint64
	require.NoError(t, parseMeminfo(data, func(key []byte, v uint64, kB bool) {
		if string(key) == "MemTotal" {
			total = v * 1024
		}
	}))
	require.NotZero(t, total)
	return total
}

func mustBtime(t *testing.T, path string) int64 {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	s, err := parseKernelStats(data)
	require.NoError(t, err)
	return int64(s.bootTime)
}

func TestCollect_Concurrent(t *testing.T) {
	n := newFixtureNode(t, fixtureOptions("testdata", &logRecorder{}))
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(n))
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				_, err := reg.Gather()
				require.NoError(t, err)
				_, err = n.HostInfo()
				require.NoError(t, err)
			}
		}()
	}
	wg.Wait()
}

func TestTCPStat_NetlinkFallback(t *testing.T) {
	logs := &logRecorder{}
	n := newFixtureNode(t, fixtureOptions("testdata", logs))
	var c *tcpstatCollector
	for _, e := range n.collectors {
		if tc, ok := e.c.(*tcpstatCollector); ok {
			c = tc
		}
	}
	require.False(t, c.useNetlink, "fixtures are read from files")
	calls := 0
	c.useNetlink = true
	c.netlink = func(tc *tcpCounts, _ []byte, _ *bool) error {
		calls++
		tc.states[1] = 1000 // a partial count must not leak into the result
		return unix.EPROTONOSUPPORT
	}
	for range 2 {
		mfs := gather(t, n)
		require.Equal(t, 1.0, successes(mfs)["tcpstat"])
		v, ok := value(mfs, "node_tcp_connection_states", "state", "established")
		require.True(t, ok)
		require.Equal(t, 5.0, v, "from the fixture files")
	}
	require.Equal(t, 1, calls, "netlink is not tried again")
}
