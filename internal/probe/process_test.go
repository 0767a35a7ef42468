package probe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// hostCheck returns a check of a host kind with its block filled as
// validateKind fills it.
func hostCheck(kind, target string) *checkconfig.Check {
	c := &checkconfig.Check{Name: "t", Kind: kind, Target: target}
	switch kind {
	case checkconfig.KindProcess:
		c.Process = &checkconfig.Process{MinCount: 1}
	case checkconfig.KindPort:
		c.Port = &checkconfig.Port{Protocol: "tcp"}
	case checkconfig.KindSystemd:
		c.Systemd = &checkconfig.Systemd{}
	case checkconfig.KindFileAge:
		c.FileAge = &checkconfig.FileAge{}
	}
	return c
}

// hostMetric returns the value of the sample of r with that name and
// labels (name, value pairs).
func hostMetric(t *testing.T, r Result, name string, labels ...string) (float64, bool) {
	t.Helper()
	var want Result
	want.Add(name, 0, labels...)
	for _, m := range r.Metrics {
		if m.Name == name && slices.Equal(m.Labels, want.Metrics[0].Labels) {
			return m.Value, true
		}
	}
	return 0, false
}

func TestProcessFixture(t *testing.T) {
	const btime = 1763600000 // testdata/proc/stat
	page := float64(os.Getpagesize())
	tests := []struct {
		name     string
		target   string
		regex    string
		min, max int
		success  bool
		reason   string
		count    float64
		cpu      float64
		rss      float64 // pages
		oldest   float64
	}{
		{name: "by name; the zombie and the kernel thread are left out", target: "nginx", success: true, count: 3, cpu: 4 + 15 + 15, rss: 2560 + 5120 + 5120, oldest: btime + 50},
		{name: "above max_count", target: "nginx", max: 2, reason: "3 processes match, at most 2 expected", count: 3, cpu: 34, rss: 12800, oldest: btime + 50},
		{name: "below min_count", target: "nginx", min: 4, reason: "3 processes match, at least 4 expected", count: 3, cpu: 34, rss: 12800, oldest: btime + 50},
		{name: "within bounds", target: "nginx", min: 2, max: 3, success: true, count: 3, cpu: 34, rss: 12800, oldest: btime + 50},
		{name: "name and regex both hold", target: "nginx", regex: `worker process`, success: true, count: 2, cpu: 30, rss: 10240, oldest: btime + 50.1},
		{name: "one process", target: "nginx", regex: `master`, max: 1, success: true, count: 1, cpu: 4, rss: 2560, oldest: btime + 50},
		{name: "one below min", target: "nginx", regex: `master`, min: 2, reason: "1 process matches, at least 2 expected", count: 1, cpu: 4, rss: 2560, oldest: btime + 50},
		{name: "regex only; this agent (self) is left out", regex: `worker\.py --queue`, success: true, count: 1, cpu: 4, rss: 3000, oldest: btime + 70},
		{name: "regex matching this agent only", regex: `--note worker\.py`, reason: `no process with a command line matching "--note worker\\.py" is running`},
		{name: "regex over every command line", regex: `.`, success: true, count: 7, cpu: 1.5 + 4 + 15 + 15 + 0.2 + 0.1 + 4, rss: 1000 + 2560 + 5120 + 5120 + 4000 + 1000 + 3000, oldest: btime + 0.01},
		{name: "name longer than comm, by argv[0]", target: "saypro-agent-long-name", success: true, count: 1, cpu: 0.2, rss: 4000, oldest: btime + 60},
		{name: "comm prefix with another argv[0]", target: "saypro-agent-long-other", reason: "no process named saypro-agent-long-other is running"},
		{name: "comm itself", target: "saypro-agent-lo", success: true, count: 2, cpu: 0.3, rss: 5000, oldest: btime + 60},
		{name: "no such name", target: "apache2", reason: "no process named apache2 is running"},
		{name: "name and regex, none", target: "nginx", regex: `php`, reason: `no process named nginx with a command line matching "php" is running`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := hostCheck(checkconfig.KindProcess, tt.target)
			c.Process.CmdlineRegex = tt.regex
			if tt.min > 0 {
				c.Process.MinCount = tt.min
			}
			c.Process.MaxCount = tt.max
			p, err := New(c, Env{ProcPath: "testdata/proc"})
			require.NoError(t, err)
			r := p.Probe(t.Context())
			require.Equal(t, tt.success, r.Success, r.Reason)
			require.Equal(t, tt.reason, r.Reason)
			v, ok := hostMetric(t, r, "saypro_process_count")
			require.True(t, ok)
			require.Equal(t, tt.count, v)
			v, _ = hostMetric(t, r, "saypro_process_cpu_seconds_total")
			require.InDelta(t, tt.cpu, v, 1e-9)
			v, _ = hostMetric(t, r, "saypro_process_resident_memory_bytes")
			require.Equal(t, tt.rss*page, v)
			v, ok = hostMetric(t, r, "saypro_process_oldest_start_time_seconds")
			require.Equal(t, tt.count > 0, ok)
			require.InDelta(t, tt.oldest, v, 1e-6)
		})
	}
}

func TestProcessErrors(t *testing.T) {
	_, err := New(hostCheck(checkconfig.KindProcess, ""), Env{})
	require.ErrorContains(t, err, "needs a target")

	c := hostCheck(checkconfig.KindProcess, "nginx")
	c.Process.CmdlineRegex = "("
	_, err = New(c, Env{})
	require.ErrorContains(t, err, "cmdline_regex")

	p, err := New(hostCheck(checkconfig.KindProcess, "nginx"), Env{ProcPath: filepath.Join(t.TempDir(), "missing")})
	require.NoError(t, err)
	r := p.Probe(t.Context())
	require.False(t, r.Success)
	require.Contains(t, r.Reason, "reading the process table")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	p, err = New(hostCheck(checkconfig.KindProcess, "nginx"), Env{ProcPath: "testdata/proc"})
	require.NoError(t, err)
	r = p.Probe(ctx)
	require.False(t, r.Success)
	require.Contains(t, r.Reason, "context canceled")
}

// startSleepers copies sleep under name into a new directory and starts n
// of it; they are killed when the test ends.
func startSleepers(t *testing.T, name string, n int) string {
	t.Helper()
	if _, err := os.Stat("/proc/self/comm"); err != nil {
		t.Skip("no /proc here")
	}
	src, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, name)
	in, err := os.Open(src)
	require.NoError(t, err)
	defer in.Close()
	out, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
	for range n {
		cmd := exec.CommandContext(t.Context(), bin, "30")
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
	return bin
}

func TestProcessLive(t *testing.T) {
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	short := "spt" + hex.EncodeToString(suffix)                 // 11 characters: comm holds it
	long := "saypro-test-sleeper-" + hex.EncodeToString(suffix) // cut in comm
	bin := startSleepers(t, short, 2)
	longBin := startSleepers(t, long, 1)

	tests := []struct {
		name     string
		target   string
		regex    string
		min, max int
		success  bool
		reason   string
		count    float64
	}{
		{name: "by name", target: short, success: true, count: 2},
		{name: "long name by argv[0]", target: long, success: true, count: 1},
		{name: "by cmdline regex", regex: "^" + regexp.QuoteMeta(bin) + ` 30$`, success: true, count: 2},
		{name: "name and regex", target: long, regex: regexp.QuoteMeta(longBin), success: true, count: 1},
		{name: "name and a regex that does not hold", target: short, regex: ` 31$`, reason: `no process named ` + short + ` with a command line matching " 31$" is running`},
		{name: "max_count", target: short, max: 1, reason: "2 processes match, at most 1 expected", count: 2},
		{name: "min_count", target: short, min: 3, reason: "2 processes match, at least 3 expected", count: 2},
		{name: "missing", target: short + "x", reason: "no process named " + short + "x is running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := hostCheck(checkconfig.KindProcess, tt.target)
			c.Process.CmdlineRegex = tt.regex
			if tt.min > 0 {
				c.Process.MinCount = tt.min
			}
			c.Process.MaxCount = tt.max
			p, err := New(c, Env{})
			require.NoError(t, err)
			r := p.Probe(t.Context())
			require.Equal(t, tt.success, r.Success, r.Reason)
			require.Equal(t, tt.reason, r.Reason)
			v, _ := hostMetric(t, r, "saypro_process_count")
			require.Equal(t, tt.count, v)
			if tt.count == 0 {
				return
			}
			// A sleeper that has just started can show 0 resident bytes:
			// the kernel may not have folded its page counts in yet.
			// TestProcessResidentMemory checks the sum on a settled process.
			_, ok := hostMetric(t, r, "saypro_process_resident_memory_bytes")
			require.True(t, ok)
			start, ok := hostMetric(t, r, "saypro_process_oldest_start_time_seconds")
			require.True(t, ok)
			require.InDelta(t, float64(time.Now().Unix()), start, 120)
		})
	}
}

// TestProcessResidentMemory checks the memory sum on the test process
// itself, which has been running and faulting pages long enough for the
// kernel's counters to hold its resident set.
func TestProcessResidentMemory(t *testing.T) {
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Skip("no /proc here")
	}
	p, err := New(hostCheck(checkconfig.KindProcess, strings.TrimSpace(string(comm))), Env{})
	require.NoError(t, err)
	r := p.Probe(t.Context())
	require.True(t, r.Success, r.Reason)
	rss, ok := hostMetric(t, r, "saypro_process_resident_memory_bytes")
	require.True(t, ok)
	require.Greater(t, rss, float64(1<<20), "the Go test binary holds more than 1 MiB")
}
