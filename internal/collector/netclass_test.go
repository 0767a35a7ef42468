package collector

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestParseSysInt(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1500", 1500, true},
		{"-1", -1, true},
		{"0x1003", 4099, true},
		{"0X9", 9, true},
		{"0x0", 0, true},
		{"9223372036854775807", 1<<63 - 1, true},
		{"-9223372036854775808", -1 << 63, true},
		{"9223372036854775808", 0, false},
		{"0xffffffffffffffff", 0, false},
		{"", 0, false},
		{"-", 0, false},
		{"0x", 0, false},
		{"1.5", 0, false},
		{"10 Mb/s", 0, false},
		{"--1", 0, false},
		{"0xg", 0, false},
		{"unknown", 0, false},
	} {
		got, ok := parseSysInt([]byte(tc.in))
		require.Equal(t, tc.ok, ok, "%q", tc.in)
		require.Equal(t, tc.want, got, "%q", tc.in)
	}
}

// netclassNode returns a fixture Node on a copy of testdata and its netclass
// collector, whose reads go through readHook when it is set.
func netclassNode(t *testing.T, logs *logRecorder) (string, *Node, *netclassCollector) {
	t.Helper()
	dir := copyTree(t)
	n := newFixtureNode(t, fixtureOptions(dir, logs))
	for _, e := range n.collectors {
		if c, ok := e.c.(*netclassCollector); ok {
			return dir, n, c
		}
	}
	t.Fatal("no netclass collector")
	return "", nil, nil
}

// TestNetclass_ReadErrors: sysfs refuses some reads depending on the link's
// state (speed, carrier, duplex of a down link give EINVAL); those samples
// are left out, or their info label is empty, and the collector succeeds.
// Other errors fail it alone.
func TestNetclass_ReadErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    string // file under eth0 that fails
		err     error
		ok      bool
		missing string // metric of eth0 that has no sample
	}{
		{"speed EINVAL", "speed", unix.EINVAL, true, "node_network_speed_bytes"},
		{"carrier EINVAL", "carrier", unix.EINVAL, true, "node_network_carrier"},
		{"dormant EOPNOTSUPP", "dormant", unix.EOPNOTSUPP, true, "node_network_dormant"},
		{"mtu EACCES", "mtu", unix.EACCES, true, "node_network_mtu_bytes"},
		{"duplex EINVAL", "duplex", unix.EINVAL, true, ""},
		{"speed EIO", "speed", unix.EIO, false, ""},
		{"address EIO", "address", unix.EIO, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &logRecorder{}
			_, n, c := netclassNode(t, logs)
			read := c.read
			c.read = func(dirfd int, dir, name string) ([]byte, error) {
				if filepath.Base(dir) == "eth0" && name == tc.file {
					return nil, &os.PathError{Op: "read", Path: filepath.Join(dir, name), Err: tc.err}
				}
				return read(dirfd, dir, name)
			}
			mfs := gather(t, n)
			s := successes(mfs)
			for name, v := range s {
				require.Equal(t, name != "netclass" || tc.ok, v == 1, "collector %s success", name)
			}
			if !tc.ok {
				require.Nil(t, mfs["node_network_up"], "a failing collector sends nothing")
				require.Equal(t, 1, logs.count(slog.LevelWarn, "netclass"))
				return
			}
			if tc.missing != "" {
				_, ok := value(mfs, tc.missing, "device", "eth0")
				require.False(t, ok, "%s of eth0", tc.missing)
				_, ok = value(mfs, tc.missing, "device", "lo")
				require.Equal(t, tc.missing != "node_network_speed_bytes", ok, "%s of lo", tc.missing)
			}
			duplex := "full"
			if tc.file == "duplex" {
				duplex = ""
			}
			v, ok := value(mfs, "node_network_info", "device", "eth0", "address", "02:fc:00:00:00:01",
				"broadcast", "ff:ff:ff:ff:ff:ff", "duplex", duplex, "ifalias", "uplink to core-sw1 port 7", "operstate", "up")
			require.True(t, ok)
			require.Equal(t, 1.0, v)
			v, ok = value(mfs, "node_network_up", "device", "eth0")
			require.True(t, ok)
			require.Equal(t, 1.0, v)
		})
	}
}

// TestNetclass_Changes: a link that goes down changes node_network_up and
// node_network_info's operstate label, with no stale info series; a new
// interface shows up and one that went away is gone.
func TestNetclass_Changes(t *testing.T) {
	dir, n, _ := netclassNode(t, &logRecorder{})
	mfs := gather(t, n)
	v, _ := value(mfs, "node_network_speed_bytes", "device", "eth0")
	require.Equal(t, 10000*125000.0, v)
	v, _ = value(mfs, "node_network_speed_bytes", "device", "docker0")
	require.Equal(t, -125000.0, v, "speed -1 is exported as node_exporter 1.5 does")

	net := filepath.Join(dir, "sys", "class", "net")
	require.NoError(t, os.WriteFile(filepath.Join(net, "eth0", "operstate"), []byte("down\n"), 0o644))
	require.NoError(t, os.Remove(filepath.Join(net, "eth0", "speed")))
	require.NoError(t, os.RemoveAll(filepath.Join(net, "docker0")))
	require.NoError(t, os.Mkdir(filepath.Join(net, "eth1"), 0o755))
	for file, content := range map[string]string{"operstate": "dormant\n", "mtu": "9000\n", "ifalias": "storage\n"} {
		require.NoError(t, os.WriteFile(filepath.Join(net, "eth1", file), []byte(content), 0o644))
	}

	mfs = gather(t, n)
	require.Equal(t, 1.0, successes(mfs)["netclass"])
	require.Equal(t, []string{"eth0", "eth1", "ifb0", "lo"}, labelValues(mfs, "node_network_info", "device"))
	require.Equal(t, []string{"down", "dormant", "down", "unknown"}, labelValuesByDevice(mfs, "node_network_info", "operstate"))
	v, _ = value(mfs, "node_network_up", "device", "eth0")
	require.Equal(t, 0.0, v)
	_, ok := value(mfs, "node_network_speed_bytes", "device", "eth0")
	require.False(t, ok)
	v, ok = value(mfs, "node_network_mtu_bytes", "device", "eth1")
	require.True(t, ok)
	require.Equal(t, 9000.0, v)
	_, ok = value(mfs, "node_network_carrier", "device", "eth1")
	require.False(t, ok)
}

// labelValuesByDevice returns label's values of a family's series, ordered
// by their device label.
func labelValuesByDevice(mfs map[string]*dto.MetricFamily, name, label string) []string {
	byDevice := map[string]string{}
	for _, m := range mfs[name].GetMetric() {
		var device, v string
		for _, lp := range m.GetLabel() {
			switch lp.GetName() {
			case "device":
				device = lp.GetValue()
			case label:
				v = lp.GetValue()
			}
		}
		byDevice[device] = v
	}
	var out []string
	for _, d := range labelValues(mfs, name, "device") {
		out = append(out, byDevice[d])
	}
	return out
}

// TestNetclass_SkipsFiles: regular files of /sys/class/net (bonding_masters)
// are not interfaces.
func TestNetclass_SkipsFiles(t *testing.T) {
	_, err := os.Stat(filepath.Join("testdata", "sys", "class", "net", "bonding_masters"))
	require.NoError(t, err, "the fixture has bonding_masters")
	var buf []byte
	names, err := listDir(filepath.Join("testdata", "sys", "class", "net"), &buf, nil)
	require.NoError(t, err)
	got := strings.Split(strings.TrimSuffix(string(names), "\x00"), "\x00")
	require.ElementsMatch(t, []string{"docker0", "eth0", "ifb0", "lo"}, got)
	_, err = listDir(filepath.Join("testdata", "sys", "class", "nonet"), &buf, nil)
	require.ErrorIs(t, err, os.ErrNotExist)
}

// BenchmarkNetclass measures the netclass collector alone on this host's
// /sys/class/net.
func BenchmarkNetclass(b *testing.B) {
	n, err := New(Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(b, err)
	var c collector
	for _, e := range n.collectors {
		if e.name == "netclass" {
			c = e.c
		}
	}
	ch := make(chan prometheus.Metric, 4096)
	b.ReportAllocs()
	for b.Loop() {
		n.env.gen++
		if err := c.update(ch); err != nil {
			b.Fatal(err)
		}
		for len(ch) > 0 {
			<-ch
		}
	}
}

func TestReader_ReadSysfsAt(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("x", 40<<10) // larger than the first buffer
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mtu"), []byte("1500\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big"), []byte(big), 0o644))
	dirfd, err := openFile(dir)
	require.NoError(t, err)
	defer unix.Close(dirfd)
	var r reader
	data, err := r.readSysfsAt(dirfd, dir, "mtu")
	require.NoError(t, err)
	require.Equal(t, "1500\n", string(data))
	data, err = r.readSysfsAt(dirfd, dir, "big")
	require.NoError(t, err)
	require.Equal(t, big, string(data))
	_, err = r.readSysfsAt(dirfd, dir, "speed")
	require.ErrorIs(t, err, os.ErrNotExist)
	require.ErrorContains(t, err, filepath.Join(dir, "speed"))
}
