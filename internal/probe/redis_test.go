package probe

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// redisTestAddr is the shared Redis the tests expect; it has no password.
const redisTestAddr = "127.0.0.1:6379"

// redisTestServerBinary starts extra servers with their own settings.
const redisTestServerBinary = "/usr/bin/redis-server"

// redisTestNeed skips the test when the shared Redis is unreachable,
// except in CI, where it must be there.
func redisTestNeed(t *testing.T) {
	t.Helper()
	c, err := net.DialTimeout("tcp", redisTestAddr, time.Second)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis at %s is required in CI: %v", redisTestAddr, err)
		}
		t.Skipf("no redis at %s (%v); start one to run this test", redisTestAddr, err)
	}
	_ = c.Close()
}

// redisTestStart runs a private redis-server on a free port with extra
// arguments and returns its address; it is killed when the test ends.
func redisTestStart(t *testing.T, args ...string) string {
	t.Helper()
	if _, err := os.Stat(redisTestServerBinary); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI: %v", redisTestServerBinary, err)
		}
		t.Skipf("no %s: %v", redisTestServerBinary, err)
	}
	addr := redisTestFreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	argv := append([]string{
		"--port", port, "--bind", "127.0.0.1", "--dir", t.TempDir(),
		"--save", "", "--appendonly", "no", "--logfile", "",
	}, args...)
	cmd := exec.Command(redisTestServerBinary, argv...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return addr
		}
		select {
		case <-exited:
			t.Fatalf("redis-server exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not listen on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// redisTestFreeAddr returns an address nothing listens on (for now).
func redisTestFreeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// redisTestCheck is a validated redis check of target.
func redisTestCheck(t *testing.T, target string, cfg *checkconfig.Redis) *checkconfig.Check {
	t.Helper()
	c := &checkconfig.Check{
		Name: "cache", Kind: checkconfig.KindRedis, Target: target, Redis: cfg,
		Interval: checkconfig.DefaultInterval, Timeout: checkconfig.DefaultTimeout,
	}
	require.Empty(t, c.Validate("checks", 0))
	return c
}

// redisTestProbe builds and runs check c once with timeout.
func redisTestProbe(t *testing.T, c *checkconfig.Check, env Env, timeout time.Duration) (Result, Outcome) {
	t.Helper()
	p, err := New(c, env)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	start := time.Now()
	r := p.Probe(ctx)
	return r, Evaluate(c, "server", start, time.Since(start), r)
}

// redisTestMetric returns the value of the metric name in r.
func redisTestMetric(r Result, name string) (float64, bool) {
	for _, m := range r.Metrics {
		if m.Name == name {
			return m.Value, true
		}
	}
	return 0, false
}

func TestRedisPing(t *testing.T) {
	redisTestNeed(t)
	for _, target := range []string{redisTestAddr, "redis://" + redisTestAddr + "/0"} {
		t.Run(target, func(t *testing.T) {
			r, o := redisTestProbe(t, redisTestCheck(t, target, nil), Env{}, 5*time.Second)
			require.True(t, r.Success, r.Reason)
			require.Equal(t, StateUp, o.State, o.Reason)
			require.Positive(t, r.Latency)
			ping, ok := redisTestMetric(r, "saypro_redis_ping_duration_seconds")
			require.True(t, ok)
			require.InDelta(t, r.Latency.Seconds(), ping, 1e-9)
			clients, ok := redisTestMetric(r, "saypro_redis_connected_clients")
			require.True(t, ok)
			require.GreaterOrEqual(t, clients, 1.0)
			used, ok := redisTestMetric(r, "saypro_redis_memory_used_bytes")
			require.True(t, ok)
			require.Greater(t, used, 100e3)
			_, ok = redisTestMetric(r, "saypro_redis_memory_max_bytes")
			require.True(t, ok)
			_, ok = redisTestMetric(r, "saypro_redis_blocked_clients")
			require.True(t, ok)
			_, ok = redisTestMetric(r, "saypro_redis_rejected_connections_total")
			require.True(t, ok)
			i := slices.IndexFunc(r.Metrics, func(m Metric) bool { return m.Name == "saypro_redis_info" })
			require.GreaterOrEqual(t, i, 0)
			info := r.Metrics[i]
			require.Len(t, info.Labels, 2)
			require.Equal(t, "version", info.Labels[0].Name)
			require.Regexp(t, `^\d+\.\d+`, info.Labels[0].Value)
			require.Equal(t, Label{"role", "master"}, info.Labels[1])
		})
	}
}

func TestRedisMaxMemoryDegraded(t *testing.T) {
	redisTestNeed(t)
	ctx := t.Context()
	rc := redis.NewClient(&redis.Options{Addr: redisTestAddr, MaxRetries: -1})
	defer rc.Close()
	old, err := rc.ConfigGet(ctx, "maxmemory").Result()
	require.NoError(t, err)
	require.Contains(t, old, "maxmemory")
	t.Cleanup(func() {
		// t.Context is done by now.
		c := redis.NewClient(&redis.Options{Addr: redisTestAddr, MaxRetries: -1})
		defer c.Close()
		require.NoError(t, c.ConfigSet(context.Background(), "maxmemory", old["maxmemory"]).Err())
	})
	text, err := rc.Info(ctx, "memory").Result()
	require.NoError(t, err)
	used, err := strconv.ParseInt(parseRedisInfo(text)["used_memory"], 10, 64)
	require.NoError(t, err)
	// Just above what is used: about 98%, over the 90% default.
	require.NoError(t, rc.ConfigSet(ctx, "maxmemory", strconv.FormatInt(used+used/50, 10)).Err())

	r, o := redisTestProbe(t, redisTestCheck(t, redisTestAddr, nil), Env{}, 5*time.Second)
	require.True(t, r.Success, r.Reason)
	require.Equal(t, StateDegraded, o.State)
	require.Contains(t, o.Reason, "of maxmemory")
	require.Contains(t, o.Reason, "threshold 90%")
	limit, ok := redisTestMetric(r, "saypro_redis_memory_max_bytes")
	require.True(t, ok)
	require.Equal(t, float64(used+used/50), limit)

	// A higher threshold takes it back to up.
	r, o = redisTestProbe(t, redisTestCheck(t, redisTestAddr, &checkconfig.Redis{MaxMemoryPercent: 150}), Env{}, 5*time.Second)
	require.True(t, r.Success, r.Reason)
	require.Equal(t, StateUp, o.State, o.Reason)
}

func TestRedisAuth(t *testing.T) {
	const password = "s3cret-Pa55word"
	addr := redisTestStart(t, "--requirepass", password)
	env := Env{Getenv: func(name string) string {
		if name == "REDIS_PASSWORD" {
			return password
		}
		return ""
	}}
	for _, tc := range []struct {
		name      string
		target    string
		cfg       *checkconfig.Redis
		up        bool
		reason    string
		forbidden string // must not appear in the reason
	}{
		{name: "no password", target: addr, reason: "NOAUTH Authentication required"},
		{
			name: "wrong password", target: addr, cfg: &checkconfig.Redis{Password: "wrong-Pa55word"},
			reason: "WRONGPASS", forbidden: "wrong-Pa55word",
		},
		{
			name: "wrong password in URL", target: "redis://:wrong-Pa55word@" + addr,
			reason: "WRONGPASS", forbidden: "wrong-Pa55word",
		},
		{
			name: "wrong user", target: addr, cfg: &checkconfig.Redis{Username: "nobody", PasswordEnv: "REDIS_PASSWORD"},
			reason: "WRONGPASS", forbidden: password,
		},
		{name: "password_env", target: addr, cfg: &checkconfig.Redis{PasswordEnv: "REDIS_PASSWORD"}, up: true},
		{name: "password", target: addr, cfg: &checkconfig.Redis{Password: password}, up: true},
		{name: "password in URL", target: "redis://:" + password + "@" + addr, up: true},
		{
			name: "password_env overrides URL", target: "redis://:wrong-Pa55word@" + addr,
			cfg: &checkconfig.Redis{PasswordEnv: "REDIS_PASSWORD"}, up: true,
		},
		{name: "password_env unset", target: addr, cfg: &checkconfig.Redis{PasswordEnv: "NOT_SET"}, reason: "NOT_SET is empty or not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, o := redisTestProbe(t, redisTestCheck(t, tc.target, tc.cfg), env, 5*time.Second)
			if tc.up {
				require.True(t, r.Success, r.Reason)
				require.Equal(t, StateUp, o.State, o.Reason)
				return
			}
			require.False(t, r.Success)
			require.Equal(t, StateDown, o.State)
			require.Contains(t, o.Reason, tc.reason)
			require.NotContains(t, o.Reason, password)
			if tc.forbidden != "" {
				require.NotContains(t, o.Reason, tc.forbidden)
				require.NotContains(t, o.Target, tc.forbidden)
			}
		})
	}
}

func TestRedisRejectedConnections(t *testing.T) {
	addr := redisTestStart(t, "--maxclients", "1")
	// The one client slot, held until the end of the first half; the
	// server may not have seen redisTestStart's connection close yet.
	var hold net.Conn
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		_, err = c.Write([]byte("PING\r\n"))
		require.NoError(t, err)
		line, err := bufio.NewReader(c).ReadString('\n')
		if err == nil && line == "+PONG\r\n" {
			hold = c
			return true
		}
		_ = c.Close()
		return false
	}, 5*time.Second, 10*time.Millisecond)
	defer hold.Close()

	extra, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	line, err := bufio.NewReader(extra).ReadString('\n')
	require.NoError(t, err)
	require.Contains(t, line, "max number of clients reached")
	_ = extra.Close()

	c := redisTestCheck(t, addr, nil)
	r, o := redisTestProbe(t, c, Env{}, 5*time.Second)
	require.False(t, r.Success)
	require.Equal(t, StateDown, o.State)
	require.Equal(t, "redis replied: ERR max number of clients reached", o.Reason)

	// With the slot free again the probe gets in and sees both refusals.
	require.NoError(t, hold.Close())
	require.Eventually(t, func() bool {
		r, _ = redisTestProbe(t, c, Env{}, 5*time.Second)
		return r.Success
	}, 5*time.Second, 20*time.Millisecond, "last reason: %s", r.Reason)
	rejected, ok := redisTestMetric(r, "saypro_redis_rejected_connections_total")
	require.True(t, ok)
	require.GreaterOrEqual(t, rejected, 2.0)
}

func TestRedisUnreachable(t *testing.T) {
	// Nothing listening.
	addr := redisTestFreeAddr(t)
	r, o := redisTestProbe(t, redisTestCheck(t, addr, nil), Env{}, 5*time.Second)
	require.False(t, r.Success)
	require.Equal(t, StateDown, o.State)
	require.Equal(t, "connecting to "+addr+": connection refused", o.Reason)

	// A server that accepts and never answers: down at the deadline.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	start := time.Now()
	r, o = redisTestProbe(t, redisTestCheck(t, l.Addr().String(), nil), Env{}, 300*time.Millisecond)
	took := time.Since(start)
	require.False(t, r.Success)
	require.Equal(t, StateDown, o.State)
	require.Contains(t, o.Reason, "timed out after")
	require.Less(t, took, 2*time.Second)
	require.GreaterOrEqual(t, took, 250*time.Millisecond)
}

func TestNewRedis(t *testing.T) {
	for _, tc := range []struct {
		target   string
		cfg      *checkconfig.Redis
		addr     string
		db       int
		username string
		tls      bool
		err      string
	}{
		{target: "127.0.0.1:6379", addr: "127.0.0.1:6379"},
		{target: "cache.internal", addr: "cache.internal:6379"},
		{target: "[::1]:6380", addr: "[::1]:6380"},
		{target: "redis://app:pw@cache:6380/2", addr: "cache:6380", db: 2, username: "app"},
		{target: "redis://app:pw@cache", cfg: &checkconfig.Redis{Username: "monitor"}, addr: "cache:6379", username: "monitor"},
		{target: "rediss://cache", addr: "cache:6379", tls: true},
		{target: "cache:6379", cfg: &checkconfig.Redis{TLS: true}, addr: "cache:6379", tls: true},
		{target: "http://cache", err: "invalid URL scheme"},
		{target: "redis://:p%zz@cache", err: "not a redis:// or rediss:// URL"},
		{target: "cache:6379:1", err: "neither host:port nor a redis:// URL"},
		{target: "cache:6379", cfg: &checkconfig.Redis{TLS: true, TLSConfig: checkconfig.TLSConfig{CAFile: "/nonexistent"}}, err: "ca_file"},
	} {
		t.Run(tc.target, func(t *testing.T) {
			c := &checkconfig.Check{Name: "c", Kind: checkconfig.KindRedis, Target: tc.target, Redis: tc.cfg}
			p, err := newRedis(c, Env{})
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				require.NotContains(t, err.Error(), "p%zz")
				return
			}
			require.NoError(t, err)
			rp := p.(*redisProber)
			require.Equal(t, tc.addr, rp.addr)
			require.Equal(t, tc.db, rp.db)
			require.Equal(t, tc.username, rp.username)
			require.Equal(t, tc.tls, rp.tls != nil)
			require.Equal(t, 90.0, rp.maxMemory)
		})
	}
}

func TestRedisEvaluateInfo(t *testing.T) {
	sample, err := os.ReadFile("testdata/redis-info-7.0.txt")
	require.NoError(t, err)
	master := parseRedisInfo(string(sample))
	require.Equal(t, "7.0.15", master["redis_version"])
	require.Equal(t, "master", master["role"])
	require.Equal(t, "941880", master["used_memory"])
	require.Equal(t, "0", master["maxmemory"])
	require.Equal(t, "0", master["cluster_enabled"])
	require.NotContains(t, master, "# Server")

	with := func(base map[string]string, kv ...string) map[string]string {
		m := maps.Clone(base)
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	replica := with(master, "role", "slave", "master_host", "10.0.0.5", "master_port", "6379",
		"master_link_status", "up", "master_last_io_seconds_ago", "3")
	for _, tc := range []struct {
		name    string
		info    map[string]string
		warning string
		metrics map[string]float64
	}{
		{name: "master without maxmemory", info: master, metrics: map[string]float64{
			"saypro_redis_memory_used_bytes": 941880, "saypro_redis_memory_max_bytes": 0,
			"saypro_redis_connected_clients": 1, "saypro_redis_blocked_clients": 0,
		}},
		{name: "memory below threshold", info: with(master, "used_memory", "800", "maxmemory", "1000")},
		{
			name: "memory above threshold", info: with(master, "used_memory", "950", "maxmemory", "1000"),
			warning: "used memory 950B is 95.0% of maxmemory 1000B (threshold 90%)",
		},
		{
			name: "memory in MiB", info: with(master, "used_memory", "104857600", "maxmemory", "110100480"),
			warning: "used memory 100.0MiB is 95.2% of maxmemory 105.0MiB (threshold 90%)",
		},
		{name: "replica in sync", info: replica, metrics: map[string]float64{
			"saypro_redis_master_link_up": 1, "saypro_redis_master_last_io_seconds_ago": 3,
		}},
		{
			name: "replica cut off", info: with(replica, "master_link_status", "down", "master_last_io_seconds_ago", "-1",
				"master_link_down_since_seconds", "42"),
			warning: "replica's link to master 10.0.0.5:6379 is down since 42s",
			metrics: map[string]float64{"saypro_redis_master_link_up": 0},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r Result
			(&redisProber{maxMemory: 90}).evaluateInfo(&r, tc.info)
			require.Equal(t, tc.warning, r.Warning)
			for name, want := range tc.metrics {
				got, ok := redisTestMetric(r, name)
				require.True(t, ok, name)
				require.Equal(t, want, got, name)
			}
			if tc.info["master_last_io_seconds_ago"] == "-1" {
				_, ok := redisTestMetric(r, "saypro_redis_master_last_io_seconds_ago")
				require.False(t, ok)
			}
		})
	}
}

// redisTestFormatInfo writes a parsed INFO back as INFO text.
func redisTestFormatInfo(m map[string]string) string {
	var b strings.Builder
	b.WriteString("# Server\r\n")
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "%s:%s\r\n", k, m[k])
	}
	return b.String()
}

func FuzzRedisInfo(f *testing.F) {
	// Small seeds: the fuzzer minimizes every new input it finds, which
	// takes long on the whole INFO of testdata.
	f.Add("# Server\r\nredis_version:7.0.15\r\nuptime_in_seconds:42\r\n\r\n# Clients\r\nconnected_clients:1\r\nblocked_clients:0\r\n")
	f.Add("# Memory\r\nused_memory:950\r\nmaxmemory:1000\r\n# Stats\r\nrejected_connections:3\r\n")
	f.Add("")
	f.Add("# Replication\nrole:slave\nmaster_host:10.0.0.5\nmaster_port:6379\nmaster_link_status:down\nmaster_last_io_seconds_ago:-1\nmaster_link_down_since_seconds:42\n")
	f.Add("a:b:c\r\n:novalue\r\nnokey\r\n#x:y\r\n\r\r\nk:v\r\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		m := parseRedisInfo(s)
		for k, v := range m {
			if k == "" || k[0] == '#' || strings.ContainsAny(k, ":\n") {
				t.Fatalf("bad key %q", k)
			}
			if strings.Contains(v, "\n") || strings.HasSuffix(v, "\r") {
				t.Fatalf("bad value %q for %q", v, k)
			}
		}
		again := parseRedisInfo(redisTestFormatInfo(m))
		require.Equal(t, m, again)
		var r Result
		(&redisProber{maxMemory: 90}).evaluateInfo(&r, m)
	})
}
