package inventory

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/state"
	"github.com/saypro/monitor/internal/state/statetest"
)

func TestNewRequiresDependencies(t *testing.T) {
	db := statetest.Open(t, state.DriverSQLite)
	logger := statetest.Logger(t)
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"no DB", Options{Logger: logger, Registerer: prometheus.NewRegistry()}, "required"},
		{"no logger", Options{DB: db, Registerer: prometheus.NewRegistry()}, "required"},
		{"no registerer", Options{DB: db, Logger: logger}, "required"},
		{"negative down_after", Options{DB: db, Logger: logger, Registerer: prometheus.NewRegistry(), DownAfter: -time.Second}, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.o)
			require.ErrorContains(t, err, tc.want)
		})
	}
	inv, err := New(Options{DB: db, Logger: logger, Registerer: prometheus.NewRegistry()})
	require.NoError(t, err)
	require.Equal(t, DefaultDownAfter, inv.DownAfter())
}

func TestRegistrationAndUpdates(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		f := newFixture(t, db, 0)
		hb := heartbeat("web-1")
		f.heartbeat(hb)

		h, events := f.host("web-1")
		require.Equal(t, Host{
			Instance:          "web-1",
			Hostname:          "web-1",
			OS:                "Debian GNU/Linux 12 (bookworm)",
			OSID:              "debian",
			OSVersion:         "12",
			Kernel:            "6.1.0-18-amd64",
			Arch:              "x86_64",
			CPUs:              4,
			MemoryBytes:       8 << 30,
			AgentVersion:      "1.0.0",
			Labels:            map[string]string{"env": "prod"},
			BootTime:          hb.BootTime,
			AgentStartTime:    hb.AgentStartTime.Truncate(time.Millisecond),
			FirstSeen:         t0,
			LastSeen:          t0,
			Status:            StatusUp,
			StatusSince:       t0,
			RemoteAddr:        "192.0.2.10",
			HeartbeatInterval: 15 * time.Second,
		}, h)
		require.Len(t, events, 1)
		require.Equal(t, EventRegistered, events[0].Kind)
		require.Equal(t, t0, events[0].Time)
		require.Contains(t, events[0].Message, "host registered: web-1, Debian GNU/Linux 12 (bookworm), kernel 6.1.0-18-amd64 x86_64, 4 CPUs, 8.0 GiB memory, agent 1.0.0")
		require.Equal(t, "6.1.0-18-amd64", events[0].Details["kernel"])

		// A later heartbeat updates the facts, the labels and last_seen, and
		// records nothing more.
		now := f.clock.Advance(15 * time.Second)
		hb.MemoryBytes = 16 << 30
		hb.CPUs = 8
		hb.Labels = map[string]string{"env": "staging", "role": "web"}
		hb.Interval = agentapi.Seconds(30 * time.Second)
		f.heartbeat(hb)
		h, events = f.host("web-1")
		require.Equal(t, uint64(16<<30), h.MemoryBytes)
		require.Equal(t, 8, h.CPUs)
		require.Equal(t, map[string]string{"env": "staging", "role": "web"}, h.Labels)
		require.Equal(t, 30*time.Second, h.HeartbeatInterval)
		require.Equal(t, t0, h.FirstSeen)
		require.Equal(t, now, h.LastSeen)
		require.Equal(t, t0, h.StatusSince)
		require.Equal(t, []EventKind{EventRegistered}, kinds(events))

		// Labels removed entirely.
		hb.Labels = nil
		f.heartbeat(hb)
		h, _ = f.host("web-1")
		require.Nil(t, h.Labels)

		f.requireHeartbeats(3, 0, 0)
	})
}

func TestRebootAndAgentRestart(t *testing.T) {
	boot := t0.Add(-72 * time.Hour)
	agentStart := boot.Add(20 * time.Second)
	// The host reboots between two heartbeats, at t0 and t0+15s.
	newBoot := t0.Add(5 * time.Second)
	newAgentStart := newBoot.Add(8*time.Second + 500*time.Millisecond)
	for _, tc := range []struct {
		name   string
		change func(hb *agentapi.Heartbeat)
		// want is the new event, if any, and its time.
		want     EventKind
		wantTime time.Time
		wantMsg  []string
	}{
		{
			name:   "btime jitter of 1 s is not a reboot",
			change: func(hb *agentapi.Heartbeat) { hb.BootTime = boot.Add(time.Second) },
		},
		{
			name:   "btime jitter of -1 s is not a reboot",
			change: func(hb *agentapi.Heartbeat) { hb.BootTime = boot.Add(-time.Second) },
		},
		{
			name:   "btime at the tolerance is not a reboot",
			change: func(hb *agentapi.Heartbeat) { hb.BootTime = boot.Add(BootTimeTolerance) },
		},
		{
			name:   "boot time moved under a running agent is a clock step",
			change: func(hb *agentapi.Heartbeat) { hb.BootTime = boot.Add(30 * time.Second) },
		},
		{
			name: "reboot: new boot time and a new agent",
			change: func(hb *agentapi.Heartbeat) {
				hb.BootTime, hb.AgentStartTime = newBoot, newAgentStart
			},
			want:     EventReboot,
			wantTime: newBoot,
			wantMsg:  []string{"host rebooted at 2025-03-10T09:00:05Z (previous boot 2025-03-07T09:00:00Z)", "agent started at 2025-03-10T09:00:13.5Z"},
		},
		{
			name: "reboot into a new kernel",
			change: func(hb *agentapi.Heartbeat) {
				hb.BootTime, hb.AgentStartTime, hb.Kernel = newBoot, newAgentStart, "6.1.0-20-amd64"
			},
			want:     EventReboot,
			wantTime: newBoot,
			wantMsg:  []string{"host rebooted at", "kernel 6.1.0-20-amd64, was 6.1.0-18-amd64"},
		},
		{
			name: "reboot without agent start times",
			change: func(hb *agentapi.Heartbeat) {
				hb.BootTime, hb.AgentStartTime = newBoot, time.Time{}
			},
			want:     EventReboot,
			wantTime: newBoot,
			wantMsg:  []string{"host rebooted at 2025-03-10T09:00:05Z"},
		},
		{
			name:     "agent restart",
			change:   func(hb *agentapi.Heartbeat) { hb.AgentStartTime = newAgentStart },
			want:     EventAgentRestart,
			wantTime: newAgentStart,
			wantMsg:  []string{"agent restarted at 2025-03-10T09:00:13.5Z (previous start 2025-03-07T09:00:20Z)"},
		},
		{
			name: "agent upgrade",
			change: func(hb *agentapi.Heartbeat) {
				hb.AgentStartTime, hb.AgentVersion = newAgentStart, "1.1.0"
			},
			want:     EventAgentRestart,
			wantTime: newAgentStart,
			wantMsg:  []string{"agent restarted at", "version 1.1.0, was 1.0.0"},
		},
		{
			name:   "agent start time within the same millisecond",
			change: func(hb *agentapi.Heartbeat) { hb.AgentStartTime = agentStart.Add(100 * time.Microsecond) },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			statetest.Run(t, func(t *testing.T, db *state.DB) {
				f := newFixture(t, db, 0)
				hb := heartbeat("db-1")
				hb.BootTime, hb.AgentStartTime = boot, agentStart
				if tc.name == "reboot without agent start times" {
					hb.AgentStartTime = time.Time{}
				}
				f.heartbeat(hb)
				f.clock.Advance(15 * time.Second)
				tc.change(&hb)
				f.heartbeat(hb)

				h, events := f.host("db-1")
				require.Equal(t, hb.BootTime, h.BootTime, "the latest boot time is kept")
				if tc.want == "" {
					require.Equal(t, []EventKind{EventRegistered}, kinds(events))
					return
				}
				require.Equal(t, []EventKind{tc.want, EventRegistered}, kinds(events))
				require.Equal(t, tc.wantTime, events[0].Time)
				for _, m := range tc.wantMsg {
					require.Contains(t, events[0].Message, m)
				}
				if tc.want == EventReboot && !hb.AgentStartTime.IsZero() {
					require.Equal(t, "2025-03-10T09:00:13.5Z", events[0].Details["agent_start_time"])
				}

				// The same heartbeat again records nothing new.
				f.clock.Advance(15 * time.Second)
				f.heartbeat(hb)
				_, again := f.host("db-1")
				require.Len(t, again, len(events))
			})
		})
	}
}

func TestDownAndUp(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		f := newFixture(t, db, 2*time.Minute)
		f.heartbeat(heartbeat("web-1"))
		f.heartbeat(heartbeat("web-2"))
		f.requireHostUp(map[string]int{"web-1": 1, "web-2": 1})
		f.requireHostCounts(2, 0)

		// web-2 keeps reporting, web-1 falls silent.
		for range 8 {
			f.clock.Advance(15 * time.Second)
			hb := heartbeat("web-2")
			f.heartbeat(hb)
			f.sweep()
		}
		// t0+2m: silent for exactly DownAfter, still up.
		h, _ := f.host("web-1")
		require.Equal(t, StatusUp, h.Status)

		downAt := f.clock.Advance(time.Second)
		f.sweep()
		h, events := f.host("web-1")
		require.Equal(t, StatusDown, h.Status)
		require.Equal(t, downAt, h.StatusSince)
		require.Equal(t, t0, h.LastSeen)
		require.Equal(t, []EventKind{EventDown, EventRegistered}, kinds(events))
		require.Equal(t, downAt, events[0].Time)
		require.Equal(t, "no heartbeat since 2025-03-10T09:00:00Z (2m1s ago; hosts are marked down after 2m0s of silence)", events[0].Message)
		require.Equal(t, "2025-03-10T09:00:00Z", events[0].Details["last_seen"])
		require.InDelta(t, 120.0, events[0].Details["down_after_seconds"], 0)
		f.requireHostUp(map[string]int{"web-1": 0, "web-2": 1})
		f.requireHostCounts(1, 1)

		// Sweeping again records nothing more.
		f.clock.Advance(time.Minute)
		f.sweep()
		_, events = f.host("web-1")
		require.Len(t, events, 2)

		upAt := f.clock.Advance(4 * time.Minute)
		f.heartbeat(heartbeat("web-1"))
		h, events = f.host("web-1")
		require.Equal(t, StatusUp, h.Status)
		require.Equal(t, upAt, h.StatusSince)
		require.Equal(t, []EventKind{EventUp, EventDown, EventRegistered}, kinds(events))
		require.Equal(t, upAt, events[0].Time)
		require.Equal(t, "host is reporting again after 7m1s without heartbeats (last heartbeat 2025-03-10T09:00:00Z, marked down at 2025-03-10T09:02:01Z)", events[0].Message)
		f.sweep() // web-2 has been silent since t0+2m
		f.requireHostUp(map[string]int{"web-1": 1, "web-2": 0})
	})
}

func TestServerStartGrace(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		f := newFixture(t, db, 2*time.Minute)
		f.heartbeat(heartbeat("web-1"))
		f.heartbeat(heartbeat("old-1"))
		f.clock.Advance(3 * time.Minute)
		f.heartbeat(heartbeat("web-1"))
		f.sweep() // old-1 is down before the server stops
		h, _ := f.host("old-1")
		require.Equal(t, StatusDown, h.Status)

		// The server is stopped for an hour, then starts again.
		f.clock.Advance(time.Hour)
		f.restart(2 * time.Minute)
		f.requireHostUp(map[string]int{"old-1": 0, "web-1": 1})

		// Within DownAfter of the start nothing is marked down, although
		// web-1 has not reported for an hour.
		f.clock.Advance(2 * time.Minute)
		f.sweep()
		h, events := f.host("web-1")
		require.Equal(t, StatusUp, h.Status)
		require.Equal(t, []EventKind{EventRegistered}, kinds(events))

		// An agent that reports during the grace stays up; one that does
		// not is marked down when the grace ends.
		f.heartbeat(heartbeat("web-2"))
		f.clock.Advance(time.Second)
		f.sweep()
		h, events = f.host("web-1")
		require.Equal(t, StatusDown, h.Status)
		require.Equal(t, []EventKind{EventDown, EventRegistered}, kinds(events))
		h, _ = f.host("web-2")
		require.Equal(t, StatusUp, h.Status)
	})
}

func TestDownAfterFollowsSlowAgentsAndReload(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		f := newFixture(t, db, 2*time.Minute)
		slow := heartbeat("slow-1")
		slow.Interval = agentapi.Seconds(90 * time.Second)
		f.heartbeat(slow)
		f.heartbeat(heartbeat("fast-1"))

		// Two missed 90-second heartbeats, not two minutes.
		f.clock.Advance(2*time.Minute + time.Second)
		f.sweep()
		h, _ := f.host("slow-1")
		require.Equal(t, StatusUp, h.Status)
		h, _ = f.host("fast-1")
		require.Equal(t, StatusDown, h.Status)
		f.clock.Advance(time.Minute)
		f.sweep()
		h, _ = f.host("slow-1")
		require.Equal(t, StatusDown, h.Status)

		// A shorter DownAfter applies at the next sweep.
		f.heartbeat(heartbeat("fast-1"))
		f.inv.SetDownAfter(30 * time.Second)
		require.Equal(t, 30*time.Second, f.inv.DownAfter())
		f.clock.Advance(31 * time.Second)
		f.sweep()
		h, events := f.host("fast-1")
		require.Equal(t, StatusDown, h.Status)
		require.Equal(t, []EventKind{EventDown, EventUp, EventDown, EventRegistered}, kinds(events))
		require.Contains(t, events[0].Message, "marked down after 30s of silence")

		f.inv.SetDownAfter(0)
		require.Equal(t, DefaultDownAfter, f.inv.DownAfter())
	})
}

func TestRunSweepsUntilCancelled(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		f := newFixture(t, db, 2*time.Minute)
		f.inv.sweepEvery = 5 * time.Millisecond
		f.heartbeat(heartbeat("web-1"))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- f.inv.Run(ctx) }()
		f.clock.Advance(3 * time.Minute)
		require.Eventually(t, func() bool {
			h, _, err := f.inv.Host(t.Context(), "web-1", 1)
			return err == nil && h.Status == StatusDown
		}, 10*time.Second, 10*time.Millisecond)
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after its context was cancelled")
		}
	})
}

func TestValidation(t *testing.T) {
	tooManyLabels := map[string]string{}
	for i := range MaxLabels + 1 {
		tooManyLabels[fmt.Sprintf("l%d", i)] = "x"
	}
	long := func(n int) string { return string(make([]byte, n)) }
	for _, tc := range []struct {
		name   string
		change func(hb *agentapi.Heartbeat)
		want   string
	}{
		{"instance required", func(hb *agentapi.Heartbeat) { hb.Instance = "" }, "invalid heartbeat: instance is required"},
		{"blank instance", func(hb *agentapi.Heartbeat) { hb.Instance = "  " }, "instance is required"},
		{"long instance", func(hb *agentapi.Heartbeat) { hb.Instance = "h" + fmt.Sprintf("%0300d", 0) }, "instance is 301 bytes long, more than 253"},
		{"control character", func(hb *agentapi.Heartbeat) { hb.Hostname = "web\x00" }, "hostname contains control characters"},
		{"invalid UTF-8", func(hb *agentapi.Heartbeat) { hb.OS = "\xff" }, "os is not valid UTF-8"},
		{"long kernel", func(hb *agentapi.Heartbeat) { hb.Kernel = long(300) }, "kernel is 300 bytes long, more than 256"},
		{"negative cpus", func(hb *agentapi.Heartbeat) { hb.CPUs = -1 }, "cpus -1 is out of range"},
		{"huge memory", func(hb *agentapi.Heartbeat) { hb.MemoryBytes = 1 << 63 }, "memory_bytes 9223372036854775808 is out of range"},
		{"negative interval", func(hb *agentapi.Heartbeat) { hb.Interval = -1 }, "interval_seconds -1 is out of range"},
		{"boot before 1970", func(hb *agentapi.Heartbeat) { hb.BootTime = time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC) }, "boot_time 1969-01-01T00:00:00Z is before 1970"},
		{"too many labels", func(hb *agentapi.Heartbeat) { hb.Labels = tooManyLabels }, "65 labels, more than 64"},
		{"bad label name", func(hb *agentapi.Heartbeat) { hb.Labels = map[string]string{"2x": "y"} }, `invalid label name "2x"`},
		{"reserved label name", func(hb *agentapi.Heartbeat) { hb.Labels = map[string]string{"__name__": "y"} }, `invalid label name "__name__"`},
		{"agent's label", func(hb *agentapi.Heartbeat) { hb.Labels = map[string]string{"instance": "y"} }, `label "instance" is set by the agent`},
		{"empty label value", func(hb *agentapi.Heartbeat) { hb.Labels = map[string]string{"env": ""} }, `label "env" has an empty value`},
		{"long label value", func(hb *agentapi.Heartbeat) { hb.Labels = map[string]string{"env": long(1025)} }, `label "env" is 1025 bytes long, more than 1024`},
		{
			"every problem at once",
			func(hb *agentapi.Heartbeat) { hb.Instance, hb.CPUs = "", -2 },
			"invalid heartbeat: instance is required; cpus -2 is out of range 0 to 1048576",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hb := heartbeat("web-1")
			tc.change(&hb)
			err := validate(&hb)
			require.ErrorIs(t, err, ErrInvalidHeartbeat)
			require.Contains(t, err.Error(), tc.want)
		})
	}
	hb := heartbeat("web-1")
	require.NoError(t, validate(&hb))
}

func TestConcurrentHeartbeats(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		f := newFixture(t, db, 2*time.Minute)
		const hosts, beats = 50, 4
		ctx := t.Context()
		var wg sync.WaitGroup
		errs := make(chan error, hosts*beats+2*beats)
		for i := range hosts {
			wg.Go(func() {
				hb := heartbeat(fmt.Sprintf("host-%02d", i))
				hb.Labels = map[string]string{"rack": fmt.Sprint(i % 5)}
				for b := range beats {
					if b == beats-1 {
						hb.AgentStartTime = hb.AgentStartTime.Add(time.Minute) // one restart each
					}
					errs <- f.inv.Heartbeat(ctx, hb, "192.0.2.1:1234")
				}
			})
		}
		// Sweeps and reads run alongside.
		wg.Go(func() {
			for range beats {
				errs <- f.inv.sweep(ctx)
			}
		})
		wg.Go(func() {
			for range beats {
				_, err := f.inv.Hosts(ctx, Filter{Labels: map[string]string{"rack": "1"}})
				errs <- err
			}
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		all, err := f.inv.Hosts(ctx, Filter{})
		require.NoError(t, err)
		require.Len(t, all, hosts)
		for _, h := range all {
			_, events := f.host(h.Instance)
			// The restart time is the agent's, which may sort either way.
			require.ElementsMatch(t, []EventKind{EventAgentRestart, EventRegistered}, kinds(events), h.Instance)
		}
		rack1, err := f.inv.Hosts(ctx, Filter{Labels: map[string]string{"rack": "1"}})
		require.NoError(t, err)
		require.Len(t, rack1, hosts/5)
		f.requireHostCounts(50, 0)
	})
}

func TestDetectEventsClockStep(t *testing.T) {
	boot := t0.Add(-time.Hour)
	prev := Host{Status: StatusUp, BootTime: boot, AgentStartTime: boot.Add(time.Minute)}
	for _, tc := range []struct {
		name      string
		boot      time.Time
		agent     time.Time
		wantStep  time.Duration
		wantKinds []EventKind
	}{
		{"jitter", boot.Add(time.Second), prev.AgentStartTime, 0, nil},
		{"clock stepped forward", boot.Add(30 * time.Second), prev.AgentStartTime, 30 * time.Second, nil},
		{"clock stepped back", boot.Add(-time.Minute), prev.AgentStartTime, -time.Minute, nil},
		{"reboot", t0.Add(-time.Minute), t0, 0, []EventKind{EventReboot}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := detectEvents(prev, Host{BootTime: tc.boot, AgentStartTime: tc.agent}, t0)
			require.Equal(t, tc.wantStep, rec.clockStep)
			var got []EventKind
			for _, e := range rec.events {
				got = append(got, e.Kind)
			}
			require.Equal(t, tc.wantKinds, got)
		})
	}
}

func TestOldEventsArePruned(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		f := newFixture(t, db, 2*time.Minute)
		f.inv.SetEventRetention(24 * time.Hour)
		f.heartbeat(heartbeat("old-host"))
		f.clock.Advance(23 * time.Hour)
		hb := heartbeat("new-host")
		hb.Time = f.clock.Now()
		f.heartbeat(hb)

		n, err := f.inv.prune(t.Context())
		require.NoError(t, err)
		require.Zero(t, n, "nothing is older than a day yet")

		f.clock.Advance(2 * time.Hour)
		n, err = f.inv.prune(t.Context())
		require.NoError(t, err)
		require.EqualValues(t, 1, n, "the first registration is 25 hours old")
		_, events := f.host("old-host")
		require.Empty(t, events)
		_, events = f.host("new-host")
		require.Len(t, events, 1)
	})
}
