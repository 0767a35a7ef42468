package probe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
	"github.com/godbus/dbus/v5/prop"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// startDBusDaemon starts a private bus and returns its address. Without
// dbus-daemon the test is skipped, unless CI is set.
func startDBusDaemon(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("dbus-daemon")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("dbus-daemon is needed in CI: %v", err)
		}
		t.Skipf("no dbus-daemon: %v", err)
	}
	// Socket paths are short (108 bytes): not under t.TempDir's long name.
	dir, err := os.MkdirTemp("", "sdbus")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	cmd := exec.Command(bin, "--session", "--print-address", "--nofork", "--address=unix:path="+filepath.Join(dir, "bus"))
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case addr := <-line:
		require.NotEmpty(t, addr, "dbus-daemon printed no address")
		return addr
	case <-time.After(10 * time.Second):
		t.Fatal("dbus-daemon printed no address in 10s")
	}
	return ""
}

// fakeUnit is a unit of fakeSystemd: its org.freedesktop.systemd1.Unit
// properties, and Service properties for a service (nil: none).
type fakeUnit struct {
	load, active, sub string
	service           map[string]any
}

// fakeSystemd serves the parts of systemd's D-Bus API the check calls:
// Manager.GetUnit and LoadUnit on /org/freedesktop/systemd1, and the
// properties of unit objects.
type fakeSystemd struct {
	conn *dbus.Conn

	mu     sync.Mutex
	units  map[string]fakeUnit        // loaded units
	paths  map[string]dbus.ObjectPath // exported objects
	calls  []string
	denied string
}

func startFakeSystemd(t *testing.T, addr string, units map[string]fakeUnit) *fakeSystemd {
	t.Helper()
	conn, err := dbus.Connect(addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	f := &fakeSystemd{conn: conn, units: units, paths: map[string]dbus.ObjectPath{}}
	require.NoError(t, conn.Export(f, systemdPath, systemdManager))
	node := &introspect.Node{
		Name: string(systemdPath),
		Interfaces: []introspect.Interface{
			introspect.IntrospectData,
			{Name: systemdManager, Methods: introspect.Methods(f)},
		},
	}
	require.NoError(t, conn.Export(introspect.NewIntrospectable(node), systemdPath, "org.freedesktop.DBus.Introspectable"))
	reply, err := conn.RequestName(systemdBusName, dbus.NameFlagDoNotQueue)
	require.NoError(t, err)
	require.Equal(t, dbus.RequestNameReplyPrimaryOwner, reply)
	return f
}

// unitPath is systemd's object path of a unit: bytes other than letters
// and digits are escaped as _xx.
func unitPath(name string) dbus.ObjectPath {
	var b strings.Builder
	for _, c := range []byte(name) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	return dbus.ObjectPath("/org/freedesktop/systemd1/unit/" + b.String())
}

// export makes the unit's object; f.mu is held.
func (f *fakeSystemd) export(name string, u fakeUnit) (dbus.ObjectPath, *dbus.Error) {
	if p, ok := f.paths[name]; ok {
		return p, nil
	}
	p := unitPath(name)
	ro := func(v any) *prop.Prop { return &prop.Prop{Value: v, Emit: prop.EmitFalse} }
	props := prop.Map{systemdUnit: {
		"Id": ro(name), "LoadState": ro(u.load), "ActiveState": ro(u.active), "SubState": ro(u.sub),
	}}
	if u.service != nil {
		props[systemdService] = map[string]*prop.Prop{}
		for k, v := range u.service {
			props[systemdService][k] = ro(v)
		}
	}
	if _, err := prop.Export(f.conn, p, props); err != nil {
		return "", dbus.MakeFailedError(err)
	}
	f.paths[name] = p
	return p, nil
}

// GetUnit returns a loaded unit's object, as systemd's Manager.GetUnit.
func (f *fakeSystemd) GetUnit(name string) (dbus.ObjectPath, *dbus.Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "GetUnit "+name)
	if name == f.denied {
		return "", dbus.NewError("org.freedesktop.DBus.Error.AccessDenied", []any{"Access denied"})
	}
	u, ok := f.units[name]
	if !ok {
		return "", dbus.NewError(systemdNoSuchUnit, []any{"Unit " + name + " not loaded."})
	}
	return f.export(name, u)
}

// LoadUnit returns a unit's object, loading it: a unit without a file is
// not-found, inactive and dead.
func (f *fakeSystemd) LoadUnit(name string) (dbus.ObjectPath, *dbus.Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "LoadUnit "+name)
	u, ok := f.units[name]
	if !ok {
		u = fakeUnit{load: "not-found", active: "inactive", sub: "dead"}
	}
	return f.export(name, u)
}

func (f *fakeSystemd) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func newTestSystemd(t *testing.T, target, busAddress string, systemctl func(context.Context, string) ([]byte, error)) *systemdProber {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("systemd checks run on Linux")
	}
	p, err := New(hostCheck(checkconfig.KindSystemd, target), Env{})
	require.NoError(t, err)
	s := p.(*systemdProber)
	s.busAddress = busAddress
	s.systemctl = systemctl
	if systemctl == nil {
		s.systemctl = func(context.Context, string) ([]byte, error) {
			t.Error("systemctl called though the bus answered")
			return nil, errors.New("unexpected")
		}
	}
	return s
}

func TestSystemdDBus(t *testing.T) {
	addr := startDBusDaemon(t)
	const started = 1763600000123456 // µs
	fake := startFakeSystemd(t, addr, map[string]fakeUnit{
		"nginx.service":      {"loaded", "active", "running", map[string]any{"NRestarts": uint32(2), "ExecMainStartTimestamp": uint64(started)}},
		"bad.service":        {"loaded", "failed", "failed", map[string]any{"NRestarts": uint32(5), "ExecMainStartTimestamp": uint64(0)}},
		"stopped.service":    {"loaded", "inactive", "dead", map[string]any{"NRestarts": uint32(0), "ExecMainStartTimestamp": uint64(0)}},
		"starting.service":   {"loaded", "activating", "start", map[string]any{"NRestarts": uint32(1), "ExecMainStartTimestamp": uint64(0)}},
		"reload.service":     {"loaded", "reloading", "reload", map[string]any{"NRestarts": uint32(0), "ExecMainStartTimestamp": uint64(started)}},
		"old.service":        {"loaded", "active", "running", map[string]any{}}, // systemd before 235: no NRestarts
		"masked.service":     {"masked", "inactive", "dead", map[string]any{"NRestarts": uint32(0)}},
		"weird.service":      {"loaded", "exploded", "bits", map[string]any{"NRestarts": uint32(0)}},
		"cron.timer":         {"loaded", "active", "waiting", nil},
		"php8.2-fpm.service": {"loaded", "active", "running", map[string]any{"NRestarts": uint32(0)}},
	})
	fake.denied = "denied.service"

	tests := []struct {
		target   string
		calls    []string
		success  bool
		reason   string
		warning  string
		state    string
		restarts float64 // -1: no series
		start    float64
	}{
		{target: "nginx", calls: []string{"GetUnit nginx.service"}, success: true, state: "active", restarts: 2, start: started / 1e6},
		{target: "bad.service", reason: "unit bad.service is failed (sub-state failed)", state: "failed", restarts: 5},
		{target: "stopped", reason: "unit stopped.service is inactive (sub-state dead)", state: "inactive", restarts: 0},
		{target: "gone", calls: []string{"GetUnit gone.service", "LoadUnit gone.service"}, reason: "unit gone.service is not loaded (not-found)", state: "inactive", restarts: -1},
		{target: "masked.service", reason: "unit masked.service is not loaded (masked)", state: "inactive", restarts: -1},
		{target: "starting", success: true, warning: "unit starting.service is activating (sub-state start)", state: "activating", restarts: 1},
		{target: "reload.service", success: true, warning: "unit reload.service is reloading (sub-state reload)", state: "reloading", restarts: 0, start: started / 1e6},
		{target: "old", success: true, state: "active", restarts: -1},
		{target: "cron.timer", calls: []string{"GetUnit cron.timer"}, success: true, state: "active", restarts: -1},
		{target: "php8.2-fpm", calls: []string{"GetUnit php8.2-fpm.service"}, success: true, state: "active", restarts: 0},
		{target: "weird", reason: "unit weird.service is exploded (sub-state bits)", state: "exploded", restarts: 0},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			fake.takeCalls()
			r := newTestSystemd(t, tt.target, addr, nil).Probe(t.Context())
			require.Equal(t, tt.success, r.Success, r.Reason)
			require.Equal(t, tt.reason, r.Reason)
			require.Equal(t, tt.warning, r.Warning)
			if tt.calls != nil {
				require.Equal(t, tt.calls, fake.takeCalls())
			}
			states := 0
			for _, m := range r.Metrics {
				if m.Name != "saypro_systemd_unit_state" {
					continue
				}
				states++
				require.Equal(t, m.Labels[0].Value == tt.state, m.Value == 1, m.Labels[0].Value)
			}
			want := len(systemdActiveStates)
			if tt.state == "exploded" {
				want++
			}
			require.Equal(t, want, states)
			v, ok := hostMetric(t, r, "saypro_systemd_unit_state", "state", tt.state)
			require.True(t, ok)
			require.Equal(t, 1.0, v)
			v, ok = hostMetric(t, r, "saypro_systemd_unit_restarts_total")
			require.Equal(t, tt.restarts >= 0, ok)
			if ok {
				require.Equal(t, tt.restarts, v)
			}
			v, ok = hostMetric(t, r, "saypro_systemd_unit_start_time_seconds")
			require.Equal(t, tt.start > 0, ok)
			require.InDelta(t, tt.start, v, 1e-6)
		})
	}

	t.Run("a D-Bus error is reported, not hidden by systemctl", func(t *testing.T) {
		r := newTestSystemd(t, "denied", addr, nil).Probe(t.Context())
		require.False(t, r.Success)
		require.Equal(t, "asking systemd about denied.service: Access denied", r.Reason)
	})
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		r := newTestSystemd(t, "nginx", addr, func(ctx context.Context, _ string) ([]byte, error) { return nil, ctx.Err() }).Probe(ctx)
		require.False(t, r.Success)
		require.Contains(t, r.Reason, "context canceled")
	})
}

func TestSystemdFallback(t *testing.T) {
	active, err := os.ReadFile("testdata/systemctl/active.txt")
	require.NoError(t, err)
	systemctl := func(_ context.Context, unit string) ([]byte, error) {
		if unit != "nginx.service" {
			return nil, fmt.Errorf("exit status 1: unexpected unit %s", unit)
		}
		return active, nil
	}
	noBus := "unix:path=" + filepath.Join(t.TempDir(), "none")

	t.Run("no bus", func(t *testing.T) {
		r := newTestSystemd(t, "nginx", noBus, systemctl).Probe(t.Context())
		require.True(t, r.Success, r.Reason)
		v, _ := hostMetric(t, r, "saypro_systemd_unit_restarts_total")
		require.Equal(t, 3.0, v)
		v, _ = hostMetric(t, r, "saypro_systemd_unit_state", "state", "active")
		require.Equal(t, 1.0, v)
	})
	t.Run("no bus, no systemctl", func(t *testing.T) {
		r := newTestSystemd(t, "ssh", noBus, systemctl).Probe(t.Context())
		require.False(t, r.Success)
		require.Contains(t, r.Reason, "cannot ask systemd about ssh.service: D-Bus: connecting to the bus: ")
		require.Contains(t, r.Reason, "; systemctl: exit status 1: unexpected unit ssh.service")
	})
	t.Run("a bus without systemd", func(t *testing.T) {
		addr := startDBusDaemon(t)
		r := newTestSystemd(t, "nginx", addr, systemctl).Probe(t.Context())
		require.True(t, r.Success, r.Reason)
	})
}

func TestParseSystemctlShow(t *testing.T) {
	tests := []struct {
		file string
		want unitStatus
		err  string
	}{
		{file: "active.txt", want: unitStatus{LoadState: "loaded", ActiveState: "active", SubState: "running", Restarts: 3, HasRestarts: true}},
		{file: "failed.txt", want: unitStatus{LoadState: "loaded", ActiveState: "failed", SubState: "failed", Restarts: 0, HasRestarts: true}},
		{file: "notfound.txt", want: unitStatus{LoadState: "not-found", ActiveState: "inactive", SubState: "dead"}},
		{file: "old.txt", want: unitStatus{LoadState: "loaded", ActiveState: "activating", SubState: "auto-restart"}},
		{file: "empty.txt", err: "no LoadState or ActiveState"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "systemctl", tt.file))
			require.NoError(t, err)
			st, err := parseSystemctlShow(b)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, st)
		})
	}
}

// FuzzSystemctlShow feeds text to the `systemctl show` parser: it must
// not panic, a status it accepts has a load and an active state, and
// printing that status back parses to the same status.
func FuzzSystemctlShow(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "systemctl", "*.txt"))
	require.NoError(f, err)
	for _, file := range files {
		b, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte("LoadState=loaded\nActiveState=active\nNRestarts=99999999999\n"))
	f.Add([]byte("=\n=="))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := parseSystemctlShow(data)
		if err != nil {
			return
		}
		require.NotEmpty(t, st.LoadState)
		require.NotEmpty(t, st.ActiveState)
		text := fmt.Sprintf("LoadState=%s\nActiveState=%s\nSubState=%s\n", st.LoadState, st.ActiveState, st.SubState)
		if st.HasRestarts {
			text += fmt.Sprintf("NRestarts=%d\n", st.Restarts)
		}
		again, err := parseSystemctlShow([]byte(text))
		require.NoError(t, err)
		require.Equal(t, st, again)
	})
}
