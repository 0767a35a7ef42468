package collector

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseNumbers(t *testing.T) {
	for _, tc := range []struct {
		in  string
		u   uint64
		uOK bool
		f   float64
		fOK bool
		h   uint64
		hOK bool
	}{
		{"0", 0, true, 0, true, 0, true},
		{"42", 42, true, 42, true, 0x42, true},
		{"18446744073709551615", 1<<64 - 1, true, 1<<64 - 1, true, 0, false},
		{"18446744073709551616", 0, false, 18446744073709551616, true, 0, false},
		{"-1", 0, false, -1, true, 0, false},
		{"0.25", 0, false, 0.25, true, 0, false},
		{"0A", 0, false, 0, false, 10, true},
		{"ffffffffffffffff", 0, false, 0, false, 1<<64 - 1, true},
		{"1ffffffffffffffff", 0, false, 0, false, 0, false},
		{"", 0, false, 0, false, 0, false},
		{"1 2", 0, false, 0, false, 0, false},
	} {
		u, ok := parseUint([]byte(tc.in))
		require.Equal(t, tc.uOK, ok, "parseUint(%q)", tc.in)
		require.Equal(t, tc.u, u, "parseUint(%q)", tc.in)
		f, ok := parseNumber([]byte(tc.in))
		require.Equal(t, tc.fOK, ok, "parseNumber(%q)", tc.in)
		require.Equal(t, tc.f, f, "parseNumber(%q)", tc.in)
		h, ok := parseHex([]byte(tc.in))
		require.Equal(t, tc.hOK, ok, "parseHex(%q)", tc.in)
		require.Equal(t, tc.h, h, "parseHex(%q)", tc.in)
	}
}

func TestReader_Grows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	want := bytes.Repeat([]byte("0123456789abcdef\n"), 10000) // 170 kB
	require.NoError(t, os.WriteFile(path, want, 0o644))
	var r reader
	got, err := r.read(path)
	require.NoError(t, err)
	require.Equal(t, want, got)
	got, err = r.read(path) // again, into the grown buffer
	require.NoError(t, err)
	require.Equal(t, want, got)
	_, err = r.read(filepath.Join(t.TempDir(), "missing"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestLineScanner(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		buf      int
		want     []string
	}{
		{"short lines", "a\nbb\nccc\n", 4, []string{"a", "bb", "ccc"}},
		{"no final newline", "a\nbb", 4, []string{"a", "bb"}},
		{"line of buffer size", "abcd\nef\n", 4, []string{"abcd", "ef"}},
		{"overlong line is cut", "abcdefghij\nxy\n", 4, []string{"abcd", "xy"}},
		{"overlong last line", "xy\nabcdefghij", 4, []string{"xy", "abcd"}},
		{"empty lines", "\n\na\n", 4, []string{"", "", "a"}},
		{"empty file", "", 4, nil},
		{"large buffer", "a b c\nd e f\n", 4096, []string{"a b c", "d e f"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			require.NoError(t, os.WriteFile(path, []byte(tc.in), 0o644))
			var s lineScanner
			require.NoError(t, s.open(path, make([]byte, tc.buf)))
			defer s.close()
			var got []string
			for {
				line, ok := s.next()
				if !ok {
					break
				}
				got = append(got, string(line))
			}
			require.NoError(t, s.err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseCPUTimes(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []cpuTimes
		err      string
	}{
		{
			name: "current kernel, total line skipped",
			in:   "cpu  10 0 10 10 0 0 0 0 0 0\ncpu0 100 2 300 400 5 6 7 8 9 10\nintr 5\n",
			want: []cpuTimes{{cpu: 0, n: 10, t: [10]float64{1, .02, 3, 4, .05, .06, .07, .08, .09, .1}}},
		},
		{
			name: "old kernel without steal and guest",
			in:   "cpu3 100 0 100 100 0 0 0\n",
			want: []cpuTimes{{cpu: 3, n: 7, t: [10]float64{1, 0, 1, 1}}},
		},
		{
			name: "extra fields of a future kernel are ignored",
			in:   "cpu1 1 1 1 1 1 1 1 1 1 1 99 99\n",
			want: []cpuTimes{{cpu: 1, n: 10, t: [10]float64{.01, .01, .01, .01, .01, .01, .01, .01, .01, .01}}},
		},
		{name: "no cpu lines", in: "cpu  1 2 3 4\nctxt 1\n", err: "no per-CPU lines"},
		{name: "bad number", in: "cpu0 1 2 x 4\n", err: "malformed"},
		{name: "too few fields", in: "cpu0 1 2\n", err: "2 fields"},
		{name: "huge cpu number", in: "cpu99999999 1 2 3 4\n", err: "cpu line"},
		{name: "not a cpu", in: "cpufreq 1 2 3 4\n", err: "no per-CPU lines"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCPUTimes([]byte(tc.in), nil)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, len(tc.want), len(got))
			for i := range got {
				require.Equal(t, tc.want[i].cpu, got[i].cpu)
				require.Equal(t, tc.want[i].n, got[i].n)
				require.InDeltaSlice(t, tc.want[i].t[:], got[i].t[:], 1e-9)
			}
		})
	}
}

func TestCPU_CountersNeverGoBack(t *testing.T) {
	dir := copyTree(t)
	stat := filepath.Join(dir, "proc", "stat")
	write := func(idle, iowait int) {
		content := "cpu0 100 0 100 " + strconv.Itoa(idle) + " " + strconv.Itoa(iowait) + " 0 0 0 0 0\nbtime 1\nctxt 1\n"
		require.NoError(t, os.WriteFile(stat, []byte(content), 0o644))
	}
	o := fixtureOptions(dir, &logRecorder{})
	n := newFixtureNode(t, o)
	idle := func() (float64, float64) {
		mfs := gather(t, n)
		i, ok := value(mfs, "node_cpu_seconds_total", "cpu", "0", "mode", "idle")
		require.True(t, ok)
		w, _ := value(mfs, "node_cpu_seconds_total", "cpu", "0", "mode", "iowait")
		return i, w
	}
	write(5000, 300)
	i, w := idle()
	require.Equal(t, []float64{50, 3}, []float64{i, w})
	write(4990, 250) // the kernel moved them back
	i, w = idle()
	require.Equal(t, []float64{50, 3}, []float64{i, w})
	write(5100, 310)
	i, w = idle()
	require.Equal(t, []float64{51, 3.1}, []float64{i, w})
}

func TestParseKernelStats(t *testing.T) {
	s, err := parseKernelStats([]byte("cpu  1 2 3 4\ncpu0 1 2 3 4\nintr 12345 1 2 3 4 5\nctxt 99\nbtime 1700000000\nprocesses 77\nprocs_running 3\nprocs_blocked 1\nsoftirq 5 1 2\n"))
	require.NoError(t, err)
	require.Equal(t, kernelStats{have: 63, bootTime: 1700000000, contextSwitches: 99, forks: 77, interrupts: 12345, procsRunning: 3, procsBlocked: 1}, s)

	s, err = parseKernelStats([]byte("ctxt 5\n"))
	require.NoError(t, err)
	require.Equal(t, haveContextSwitches, s.have, "only what is there")

	_, err = parseKernelStats([]byte("cpu0 1 2 3 4\n"))
	require.ErrorContains(t, err, "no btime or ctxt")
	_, err = parseKernelStats([]byte("ctxt many\n"))
	require.ErrorContains(t, err, "malformed")
}

func TestParseMeminfo(t *testing.T) {
	type field struct {
		name string
		v    float64
	}
	for _, tc := range []struct {
		name, in string
		want     []field
		err      string
	}{
		{
			name: "fields, units and names",
			in:   "MemTotal:       25276514 kB\nActive(anon):     123 kB\nHugePages_Total:       5\nHugepagesize:       2048 kB\n\n",
			want: []field{
				{"node_memory_MemTotal_bytes", 25276514 * 1024},
				{"node_memory_Active_anon_bytes", 123 * 1024},
				{"node_memory_HugePages_Total", 5},
				{"node_memory_Hugepagesize_bytes", 2048 * 1024},
			},
		},
		{name: "no colon", in: "MemTotal 1 kB\n", err: "malformed"},
		{name: "bad value", in: "MemTotal: x kB\n", err: "malformed"},
		{name: "unknown unit", in: "MemTotal: 1 MB\n", err: "unit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []field
			err := parseMeminfo([]byte(tc.in), func(key []byte, v uint64, kB bool) {
				x := float64(v)
				if kB {
					x *= 1024
				}
				got = append(got, field{meminfoMetricName(string(key), kB), x})
			})
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestVmstatField(t *testing.T) {
	for name, want := range map[string]bool{
		"pgfault": true, "pgmajfault": true, "pgpgin": true, "pgpgout": true, "pswpin": true, "pswpout": true,
		"oom_kill": true, "pgmajfault_s": true,
		"nr_free_pages": false, "pgscan_kswapd": false, "thp_fault_alloc": false, "pgfree": false, "pg": false,
	} {
		require.Equal(t, want, vmstatField(name), name)
	}
	var got []string
	require.NoError(t, parseVmstat([]byte("nr_free_pages 5\npgfault 7\n\n"), func(name []byte, v float64) {
		got = append(got, string(name))
	}))
	require.Equal(t, []string{"nr_free_pages", "pgfault"}, got)
	require.ErrorContains(t, parseVmstat([]byte("pgfault\n"), func([]byte, float64) {}), "malformed")
}

func TestParseDiskstatsLine(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		n        int
		first    uint64
		last     uint64
		err      string
	}{
		{name: "Linux 2.6 to 4.17", in: " 8 0 sda 1 2 3 4 5 6 7 8 9 10 11", n: 11, first: 1, last: 11},
		{name: "with discards", in: "8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15", n: 15, first: 1, last: 15},
		{name: "with flushes", in: "259 0 nvme0n1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", n: 17, first: 1, last: 17},
		{name: "future fields ignored", in: "8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20", n: 17, first: 1, last: 17},
		{name: "blank", in: "   ", n: 0},
		{name: "old partition line", in: "8 1 sda1 1 2 3 4", err: "4 fields"},
		{name: "no name", in: "8 0", err: "malformed"},
		{name: "bad value", in: "8 0 sda 1 2 -3 4 5 6 7 8 9 10 11", err: "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := parseDiskstatsLine([]byte(tc.in))
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.n, d.n)
			if tc.n > 0 {
				require.Equal(t, tc.first, d.v[0])
				require.Equal(t, tc.last, d.v[d.n-1])
			}
		})
	}
}

func TestParseNetdevLine(t *testing.T) {
	d, err := parseNetdevLine([]byte("  eth0:535906712   32291    0    1    2     3          4         5  2340290   23271    6    7    8     9      10         11"))
	require.NoError(t, err)
	require.Equal(t, "eth0", string(d.name))
	require.Equal(t, [16]uint64{535906712, 32291, 0, 1, 2, 3, 4, 5, 2340290, 23271, 6, 7, 8, 9, 10, 11}, d.v)

	for _, header := range []string{"Inter-|   Receive                                                |  Transmit", " face |bytes    packets errs drop fifo frame compressed multicast|bytes", ""} {
		d, err := parseNetdevLine([]byte(header))
		require.NoError(t, err)
		require.Empty(t, d.name)
	}
	_, err = parseNetdevLine([]byte("eth0: 1 2 3"))
	require.ErrorContains(t, err, "column 4")
	_, err = parseNetdevLine([]byte(": 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"))
	require.ErrorContains(t, err, "malformed")
	_, err = parseNetdevLine([]byte("eth0: 18446744073709551616 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"))
	require.ErrorContains(t, err, "column 1")
}

func TestParseMountinfoLine(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     mountinfo
		err      string
	}{
		{
			name: "optional fields",
			in:   "27 1 254:0 / / rw,relatime shared:1 master:2 - ext4 /dev/vda rw,discard",
			want: mountinfo{mountPoint: "/", fsType: "ext4", source: "/dev/vda"},
		},
		{
			name: "no optional fields",
			in:   "22 27 0:21 / /proc rw,relatime - proc proc rw",
			want: mountinfo{mountPoint: "/proc", fsType: "proc", source: "proc"},
		},
		{
			name: "escapes",
			in:   `53 27 259:1 / /srv/my\040files\011x\134y rw - ext4 /dev/disk\040a rw`,
			want: mountinfo{mountPoint: "/srv/my files\tx\\y", fsType: "ext4", source: "/dev/disk a"},
		},
		{
			name: "bad escapes kept",
			in:   `53 27 259:1 / /a\9b\04 rw - ext4 x rw`,
			want: mountinfo{mountPoint: `/a\9b\04`, fsType: "ext4", source: "x"},
		},
		{
			name: "read-only mount",
			in:   "28 27 0:25 / /mnt/ro ro,nosuid - tmpfs tmpfs rw,size=4k",
			want: mountinfo{mountPoint: "/mnt/ro", fsType: "tmpfs", source: "tmpfs", readonly: true},
		},
		{
			name: "read-only super block",
			in:   "59 27 0:48 / /boot/efi rw,relatime - vfat /dev/sda2 ro,fmask=0077",
			want: mountinfo{mountPoint: "/boot/efi", fsType: "vfat", source: "/dev/sda2", readonly: true},
		},
		{
			name: "options with ro inside a word",
			in:   "59 27 0:48 / /x rw,errors=remount-ro - ext4 /dev/sdb1 rw,errors=remount-ro",
			want: mountinfo{mountPoint: "/x", fsType: "ext4", source: "/dev/sdb1"},
		},
		{name: "no separator", in: "22 27 0:21 / /proc rw proc proc rw", err: "no separator"},
		{name: "too short", in: "22 27 0:21 /", err: "malformed"},
		{name: "nothing after separator", in: "22 27 0:21 / /proc rw -", err: "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMountinfoLine([]byte(tc.in))
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestTCPCounts(t *testing.T) {
	var c tcpCounts
	for _, line := range []string{
		"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
		"   0: 0100007F:1111 00000000:0000 0A 00000000:00000080 00:00000000 00000000   106        0 7375 1 0 100 0 0 10 0",
		"   1: 0F02000A:0016 0102000A:D431 01 00000024:00000003 00:00000000 00000000  1000        0 1 1 0 20 4 30 10 -1",
		"   2: 0F02000A:0016 0102000A:D432 01 00000010:00000000 00:00000000 00000000  1000        0 1 1 0 20 4 30 10 -1",
		"   3: 0F02000A:0016 0102000A:D433 0C 00000010:00000000 00:00000000 00000000  1000        0 1 1 0 20 4 30 10 -1",
		"",
	} {
		require.NoError(t, c.add([]byte(line)))
	}
	require.EqualValues(t, 1, c.states[tcpListen])
	require.EqualValues(t, 2, c.states[1])
	require.EqualValues(t, 0x24+0x10, c.txQueued)
	require.EqualValues(t, 3, c.rxQueued, "listen backlog is not queued bytes")

	for _, bad := range []string{
		"   0: 0100007F:1111 00000000:0000 XX 00000000:00000000",
		"   0: 0100007F:1111 00000000:0000 0A 0000000000000000",
		"   0: 0100007F:1111 00000000:0000 0A 0000000g:00000000",
		"   0: 0100007F:1111",
	} {
		require.ErrorContains(t, c.add([]byte(bad)), "malformed", bad)
	}
}

func TestNetstatFields(t *testing.T) {
	for key, want := range map[string]bool{
		"Tcp_RetransSegs": true, "Tcp_OutRsts": true, "Tcp_ActiveOpens": true, "Tcp_PassiveOpens": true,
		"Tcp_CurrEstab": true, "Tcp_InErrs": true, "Tcp_InSegs": true, "Tcp_OutSegs": true,
		"TcpExt_ListenOverflows": true, "TcpExt_ListenDrops": true, "TcpExt_TCPSynRetrans": true,
		"TcpExt_SyncookiesSent": true, "TcpExt_TCPTimeouts": true, "Udp_InDatagrams": true,
		"Udp6_SndbufErrors": true, "Ip_Forwarding": true, "IpExt_InOctets": true, "Ip6_OutOctets": true,
		"Icmp_InMsgs": true, "Icmp6_OutMsgs": true, "UdpLite_InErrors": true, "Icmp_InErrors": true,
		"Tcp_MaxConn": false, "Ip_DefaultTTL": false, "TcpExt_TCPLostRetransmit": false, "UdpLite_InDatagrams": false,
		"Ip_InOctets": false, "IcmpMsg_InType3": false, "MPTcpExt_MPCapableSYNRX": false,
	} {
		proto, field, _ := strings.Cut(key, "_")
		require.Equal(t, want, netstatField(proto, field), key)
	}
	for name, want := range map[string][2]string{
		"Ip6InOctets": {"Ip6", "InOctets"}, "Icmp6InMsgs": {"Icmp6", "InMsgs"},
		"UdpLite6InErrors": {"UdpLite6", "InErrors"}, "Odd": {"", "Odd"},
	} {
		p, f := snmp6Proto(name)
		require.Equal(t, want, [2]string{p, f}, name)
	}
}

func TestParseNetstatPairs(t *testing.T) {
	var got []string
	err := parseNetstatPairs("snmp", []byte("Ip: Forwarding DefaultTTL\nIp: 1 64\n\nTcp: MaxConn\nTcp: -1\n"), func(h, v []byte) error {
		got = append(got, string(h)+"|"+string(v))
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{"Ip: Forwarding DefaultTTL|Ip: 1 64", "Tcp: MaxConn|Tcp: -1"}, got)
	nop := func(h, v []byte) error { return nil }
	for in, want := range map[string]string{
		"Ip: Forwarding\n":            "not followed",
		"Ip: Forwarding\nTcp: 1\n":    "not followed",
		"Ip: Forwarding A\nIp: 1\n":   "2 names but 1 values",
		"Forwarding\n1\n":             "not followed",
		"Ip: Forwarding\nIp: 1 2 3\n": "1 names but 3 values",
	} {
		require.ErrorContains(t, parseNetstatPairs("snmp", []byte(in), nop), want, in)
	}
}

func TestParseSmallFiles(t *testing.T) {
	a, m, err := parseFileNr([]byte("763\t0\t2466183\n"))
	require.NoError(t, err)
	require.Equal(t, [2]uint64{763, 2466183}, [2]uint64{a, m})
	_, _, err = parseFileNr([]byte("763\t0\n"))
	require.ErrorContains(t, err, "malformed")

	up, err := parseUptime([]byte("1692.16 2235.28\n"))
	require.NoError(t, err)
	require.Equal(t, 1692.16, up)
	up, err = parseUptime([]byte("35\n"))
	require.NoError(t, err)
	require.Equal(t, 35.0, up)
	for _, bad := range []string{"", "\n", "x 1", "-5 1"} {
		_, err = parseUptime([]byte(bad))
		require.Error(t, err, bad)
	}

	v, err := parseSingleUint("poolsize", []byte("256\n"))
	require.NoError(t, err)
	require.EqualValues(t, 256, v)
	_, err = parseSingleUint("poolsize", []byte("25 6\n"))
	require.Error(t, err)

	for in, want := range map[string]int{"0-1": 2, "0": 1, "0-3,6,8-9": 7, "": 0} {
		n, ok := countCPUList([]byte(in))
		require.True(t, ok, in)
		require.Equal(t, want, n, in)
	}
	for _, bad := range []string{"a", "3-1", "0-", "0-99999999"} {
		_, ok := countCPUList([]byte(bad))
		require.False(t, ok, bad)
	}
}

func TestParseOSRelease(t *testing.T) {
	got := parseOSRelease([]byte("# comment\nNAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\n\nVERSION_ID=\"22.04\"\nVARIANT='Server \\\"x\\\"'\nPRETTY_NAME=\"A \\\"quoted\\\" \\$name \\\\ \\`x\\`\"\nBROKEN\n=novalue\n  SPACED=yes  \n"))
	require.Equal(t, map[string]string{
		"NAME":        "Ubuntu",
		"ID":          "ubuntu",
		"ID_LIKE":     "debian",
		"VERSION_ID":  "22.04",
		"VARIANT":     `Server \"x\"`,
		"PRETTY_NAME": "A \"quoted\" $name \\ `x`",
		"SPACED":      "yes",
	}, got)
	for in, want := range map[string]float64{"12": 12, "22.04": 22.04, "9.2.1": 9.2, "7.": 7, "rolling": 0, "": 0, ".5": 0, "3a": 3} {
		require.Equal(t, want, osVersion(in), in)
	}
}

func TestOSReleaseCache(t *testing.T) {
	dir := copyTree(t)
	path := filepath.Join(dir, "root", "etc", "os-release")
	n := newFixtureNode(t, fixtureOptions(dir, &logRecorder{}))
	now := fixtureTime
	n.env.now = func() time.Time { return now }
	id := func() string {
		mfs := gather(t, n)
		return labelValues(mfs, "node_os_version", "id")[0]
	}
	require.Equal(t, "debian", id())
	require.NoError(t, os.WriteFile(path, []byte("ID=ubuntu\nVERSION_ID=24.04\n"), 0o644))
	now = now.Add(osReleaseMaxAge - time.Second)
	require.Equal(t, "debian", id(), "cached")
	now = now.Add(time.Second)
	require.Equal(t, "ubuntu", id(), "read again after osReleaseMaxAge")
	v, _ := value(gather(t, n), "node_os_version", "id", "ubuntu", "id_like", "", "name", "")
	require.Equal(t, 24.04, v)

	// /usr/lib/os-release is the fallback.
	require.NoError(t, os.Remove(path))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "root", "usr", "lib"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "root", "usr", "lib", "os-release"), []byte("ID=arch\n"), 0o644))
	now = now.Add(osReleaseMaxAge)
	require.Equal(t, "arch", id())
}

// FuzzParsers feeds arbitrary input to every parser of kernel files: none
// may panic, whatever the input.
func FuzzParsers(f *testing.F) {
	for _, p := range []string{"stat", "meminfo", "vmstat", "diskstats", "1/mountinfo", "net/dev", "net/tcp", "net/netstat", "net/snmp", "net/snmp6", "sys/fs/file-nr", "uptime", "loadavg", "pressure/io", "net/sockstat"} {
		data, err := os.ReadFile(filepath.Join("testdata", "proc", p))
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add([]byte("cpu0 1\ncpu1\n\x00\xff:\\0\\777 - -"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = parseCPUTimes(data, nil)
		_, _ = parseKernelStats(data)
		_ = parseMeminfo(data, func(key []byte, v uint64, kB bool) { _ = meminfoMetricName(string(key), kB) })
		_ = parseVmstat(data, func([]byte, float64) {})
		_ = parseNetstatPairs("f", data, func(h, v []byte) error { return nil })
		_, _, _ = parseFileNr(data)
		_, _ = parseUptime(data)
		_ = parseOSRelease(data)
		_ = osVersion(string(data))
		_, _ = countCPUList(data)
		_, _ = parseLoadavg(data)
		_, _ = parsePSI("f", data)
		_ = parseSockstat("f", data, func([]byte, []byte, uint64) {})
		var tcp tcpCounts
		for rest := data; len(rest) > 0; {
			var line []byte
			line, rest = cutLine(rest)
			_, _ = parseDiskstatsLine(line)
			_, _ = parseNetdevLine(line)
			_, _ = parseMountinfoLine(line)
			_, _ = parseSysInt(line)
			_ = tcp.add(line)
			_ = validMetricName(string(line))
			_ = labelPairs("x", string(line))
		}
	})
}

func TestParseLoadavgPSISockstat(t *testing.T) {
	loads, err := parseLoadavg([]byte("0.49 0.28 0.47 2/213 4711\n"))
	require.NoError(t, err)
	require.Equal(t, [3]float64{0.49, 0.28, 0.47}, loads)
	for _, bad := range []string{"", "0.1 0.2\n", "0.1 x 0.3 1/2 3\n"} {
		_, err := parseLoadavg([]byte(bad))
		require.ErrorContains(t, err, "malformed", bad)
	}

	p, err := parsePSI("io", []byte("some avg10=0.12 avg60=0.04 avg300=0.72 total=18022502\nfull avg10=0.12 avg60=0.04 avg300=0.69 total=14907343\n"))
	require.NoError(t, err)
	require.Equal(t, psiTotals{some: 18022502, full: 14907343, hasSome: true, hasFull: true}, p)
	p, err = parsePSI("cpu", []byte("some avg10=0.24 avg60=0.08 avg300=3.49 total=299481715\nfuture x=1\n"))
	require.NoError(t, err)
	require.Equal(t, psiTotals{some: 299481715, hasSome: true}, p, "cpu has no full line before Linux 5.13")
	_, err = parsePSI("io", []byte("some avg10=0.12 total=x\n"))
	require.ErrorContains(t, err, "no total")

	type kv struct {
		proto, key string
		v          uint64
	}
	var got []kv
	require.NoError(t, parseSockstat("sockstat", []byte("sockets: used 32\nTCP: inuse 13 orphan 0 tw 2 alloc 16 mem 7\nFRAG: inuse 0 memory 0\n\n"), func(proto, key []byte, v uint64) {
		got = append(got, kv{string(proto), string(key), v})
	}))
	require.Equal(t, []kv{{"sockets", "used", 32}, {"TCP", "inuse", 13}, {"TCP", "orphan", 0}, {"TCP", "tw", 2}, {"TCP", "alloc", 16}, {"TCP", "mem", 7}, {"FRAG", "inuse", 0}, {"FRAG", "memory", 0}}, got)
	for _, bad := range []string{"TCP inuse 1\n", "TCP: inuse\n", "TCP: inuse x\n", ": inuse 1\n"} {
		require.ErrorContains(t, parseSockstat("sockstat", []byte(bad), func([]byte, []byte, uint64) {}), "malformed", bad)
	}
	for key, want := range map[[2]string]bool{
		{"sockets", "used"}: true, {"TCP", "inuse"}: true, {"TCP", "mem"}: true, {"FRAG6", "memory"}: true,
		{"sockets", "inuse"}: false, {"TCP", "pressure"}: false,
	} {
		require.Equal(t, want, sockstatField(key[0], key[1]), key)
	}
}
