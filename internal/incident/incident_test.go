package incident

import (
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/state"
	"github.com/saypro/monitor/internal/state/statetest"
)

// clock is a settable time for the manager under test.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// recorder is a Publisher that keeps what it was given.
type recorder struct {
	mu      sync.Mutex
	actions []string
}

func (r *recorder) Publish(kind string, data any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if kind != EventKind {
		panic(kind)
	}
	v := data.(struct {
		Action   string   `json:"action"`
		Message  string   `json:"message,omitempty"`
		Incident Incident `json:"incident"`
	})
	r.actions = append(r.actions, v.Action)
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.actions
	r.actions = nil
	return out
}

type fixture struct {
	m   *Manager
	c   *clock
	reg *prometheus.Registry
	ev  *recorder
}

func newFixture(t *testing.T, db *state.DB) fixture {
	t.Helper()
	f := fixture{c: &clock{t: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}, reg: prometheus.NewRegistry(), ev: &recorder{}}
	m, err := New(t.Context(), Options{
		DB: db, Logger: slog.New(slog.DiscardHandler), Registerer: f.reg,
		ExternalURL: func() string { return "http://mon.example.com:9900/" }, Events: f.ev, Now: f.c.now,
	})
	require.NoError(t, err)
	f.m = m
	return f
}

func firing(name, instance, severity string, starts time.Time) Alert {
	l := map[string]string{"alertname": name, "instance": instance, "job": "node"}
	if severity != "" {
		l["severity"] = severity
	}
	return Alert{Fingerprint: name + "/" + instance, Labels: l, Annotations: map[string]string{"summary": name + " on " + instance}, StartsAt: starts}
}

func resolved(a Alert, ends time.Time) Alert {
	a.Resolved, a.EndsAt = true, ends
	return a
}

func group(key string, alerts ...Alert) Group {
	return Group{Key: key, Receiver: "oncall", Labels: map[string]string{"alertname": alerts[0].Labels["alertname"]}, Alerts: alerts}
}

func kinds(inc Incident) []string {
	var out []string
	for _, e := range inc.Timeline {
		out = append(out, e.Kind)
	}
	return out
}

func TestLifecycle(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		f := newFixture(t, db)
		ctx := t.Context()
		t0 := f.c.t
		a := firing("HighCPU", "web-1", "warning", t0.Add(-time.Minute))
		b := firing("HighCPU", "web-2", "critical", t0)

		// A resolved-only group with no incident refers to nothing.
		ref, err := f.m.Observe(ctx, group("g1", resolved(a, t0)))
		require.NoError(t, err)
		require.Zero(t, ref)

		// Open.
		ref, err = f.m.Observe(ctx, group("g1", a))
		require.NoError(t, err)
		require.NotZero(t, ref.ID)
		require.Equal(t, "http://mon.example.com:9900/incidents/"+itoa(ref.ID), ref.URL)
		require.True(t, strings.HasPrefix(ref.AckURL, ref.URL+"/ack?token="), ref.AckURL)
		require.Equal(t, []string{ActionOpened, ActionAlertFiring}, f.ev.take())
		id := ref.ID

		// The same flush again changes nothing.
		f.c.advance(5 * time.Minute)
		ref2, err := f.m.Observe(ctx, group("g1", a))
		require.NoError(t, err)
		require.Equal(t, ref, ref2)
		require.Empty(t, f.ev.take())

		// Join: a critical alert escalates the severity.
		ref2, err = f.m.Observe(ctx, group("g1", a, b))
		require.NoError(t, err)
		require.Equal(t, id, ref2.ID)
		require.Equal(t, []string{ActionAlertFiring, ActionUpdated}, f.ev.take())

		// Notifications: a sent one and a failed one; another group's is ignored.
		require.NoError(t, f.m.Notified(ctx, Notification{GroupKey: "g1", Receiver: "oncall", Integration: "slack[0]", Firing: 2}))
		require.NoError(t, f.m.Notified(ctx, Notification{GroupKey: "g1", Receiver: "oncall", Integration: "webhook[1]", Firing: 2, Err: errors.New("connection refused"), Retry: true}))
		require.NoError(t, f.m.Notified(ctx, Notification{GroupKey: "other", Integration: "slack[0]", Firing: 1}))

		// Ack after 3 minutes; a second ack is refused.
		f.c.advance(3 * time.Minute)
		require.NoError(t, f.m.Ack(ctx, id, "alice"))
		require.ErrorIs(t, f.m.Ack(ctx, id, "bob"), ErrInvalidTransition)
		require.NoError(t, f.m.AddNote(ctx, id, "alice", "looking at the cron job"))
		require.ErrorIs(t, f.m.AddNote(ctx, id, "alice", "  "), ErrInvalid)

		// One alert resolves, then the other: auto resolution.
		f.c.advance(time.Minute)
		_, err = f.m.Observe(ctx, group("g1", resolved(a, f.c.t), b))
		require.NoError(t, err)
		inc, err := f.m.Get(ctx, id)
		require.NoError(t, err)
		require.Equal(t, StatusAcknowledged, inc.Status)
		f.c.advance(time.Minute)
		_, err = f.m.Observe(ctx, group("g1", resolved(a, t0), resolved(b, f.c.t)))
		require.NoError(t, err)
		// Resolved flushes repeat until sent: nothing more.
		_, err = f.m.Observe(ctx, group("g1", resolved(a, t0), resolved(b, f.c.t)))
		require.NoError(t, err)

		inc, err = f.m.Get(ctx, id)
		require.NoError(t, err)
		require.Equal(t, StatusResolved, inc.Status)
		require.Equal(t, ActorAuto, inc.ResolvedBy)
		require.Equal(t, SeverityCritical, inc.Severity)
		require.Equal(t, "HighCPU", inc.Title)
		require.Equal(t, "node", inc.Service, "job when there is no service label")
		require.Equal(t, "web-1", inc.Host, "from the alerts firing when it opened")
		require.Equal(t, "alice", inc.AcknowledgedBy)
		require.Equal(t, 8*60.0, *inc.MTTASeconds)
		require.Equal(t, 10*60.0, *inc.MTTRSeconds)
		require.Equal(t, []string{
			ActionOpened, ActionAlertFiring, ActionAlertFiring, ActionUpdated, ActionNotified, ActionNotified,
			ActionAcknowledged, ActionNote, ActionAlertResolved, ActionAlertResolved, ActionResolved,
		}, kinds(inc))
		require.Equal(t, "sent to slack[0] (receiver oncall): 2 firing", inc.Timeline[4].Message)
		require.Equal(t, "sending to webhook[1] (receiver oncall) failed: connection refused, will retry", inc.Timeline[5].Message)
		require.Equal(t, "alice", inc.Timeline[6].Actor)
		require.Len(t, inc.Alerts, 2)
		for _, al := range inc.Alerts {
			require.Equal(t, "resolved", al.State)
			require.NotNil(t, al.EndsAt)
		}

		// A new firing opens a new incident.
		f.c.advance(time.Hour)
		ref3, err := f.m.Observe(ctx, group("g1", firing("HighCPU", "web-1", "", f.c.t)))
		require.NoError(t, err)
		require.Greater(t, ref3.ID, id)
		inc3, err := f.m.Get(ctx, ref3.ID)
		require.NoError(t, err)
		require.Equal(t, SeverityWarning, inc3.Severity, "warning by default")
		require.Equal(t, "web-1", inc3.Host, "instance from the alerts' common labels")
		require.Nil(t, inc3.MTTASeconds)
		require.Nil(t, inc3.MTTRSeconds)

		require.Equal(t, 2.0, testutil.ToFloat64(f.m.opened))
		require.Equal(t, 1.0, testutil.ToFloat64(f.m.resolved.WithLabelValues("auto")))
		require.NoError(t, testutil.GatherAndCompare(f.reg, strings.NewReader(`
# HELP saypro_incidents_open Unresolved (open or acknowledged) incidents, by severity.
# TYPE saypro_incidents_open gauge
saypro_incidents_open{severity="critical"} 0
saypro_incidents_open{severity="info"} 0
saypro_incidents_open{severity="warning"} 1
`), "saypro_incidents_open"))
	})
}

func TestManualResolveWhileFiring(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		f := newFixture(t, db)
		ctx := t.Context()
		a := firing("DiskFull", "db-1", "critical", f.c.t)
		ref, err := f.m.Observe(ctx, group("g", a))
		require.NoError(t, err)
		require.NoError(t, f.m.Resolve(ctx, ref.ID, "bob"))
		require.ErrorIs(t, f.m.Resolve(ctx, ref.ID, "bob"), ErrInvalidTransition)
		require.ErrorIs(t, f.m.Ack(ctx, ref.ID, "bob"), ErrInvalidTransition)

		// The same alert still firing: no new incident, the resolved one is referred to.
		f.c.advance(5 * time.Minute)
		again, err := f.m.Observe(ctx, group("g", a))
		require.NoError(t, err)
		require.Equal(t, ref.ID, again.ID)
		_, total, err := f.m.List(ctx, Filter{GroupKey: "g"})
		require.NoError(t, err)
		require.Equal(t, 1, total)

		// It resolves later: recorded on the resolved incident.
		_, err = f.m.Observe(ctx, group("g", resolved(a, f.c.t)))
		require.NoError(t, err)
		inc, err := f.m.Get(ctx, ref.ID)
		require.NoError(t, err)
		require.Equal(t, "bob", inc.ResolvedBy)
		require.Equal(t, []string{ActionOpened, ActionAlertFiring, ActionResolved, ActionAlertResolved}, kinds(inc))

		// A new firing of the same alert (new start) opens a new incident.
		f.c.advance(time.Minute)
		a2 := firing("DiskFull", "db-1", "critical", f.c.t)
		ref2, err := f.m.Observe(ctx, group("g", a2))
		require.NoError(t, err)
		require.NotEqual(t, ref.ID, ref2.ID)
		require.Equal(t, 1.0, testutil.ToFloat64(f.m.resolved.WithLabelValues("manual")))

		// A new alert joining a person's resolved incident's still firing one opens one too.
		require.NoError(t, f.m.Resolve(ctx, ref2.ID, "bob"))
		b := firing("DiskFull", "db-2", "", f.c.t)
		ref3, err := f.m.Observe(ctx, group("g", a2, b))
		require.NoError(t, err)
		require.Greater(t, ref3.ID, ref2.ID)
	})
}

func TestReopenAndUpdate(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		f := newFixture(t, db)
		ctx := t.Context()
		ref, err := f.m.Observe(ctx, group("g", firing("Down", "api", "", f.c.t)))
		require.NoError(t, err)
		id := ref.ID
		f.c.advance(time.Minute)
		require.NoError(t, f.m.Ack(ctx, id, "alice"))
		require.ErrorIs(t, f.m.Reopen(ctx, id, "alice"), ErrInvalidTransition)
		f.c.advance(time.Minute)
		require.NoError(t, f.m.Resolve(ctx, id, "alice"))
		f.c.advance(time.Minute)
		f.ev.take()
		require.NoError(t, f.m.Reopen(ctx, id, "carol"))
		require.Equal(t, []string{ActionReopened}, f.ev.take())
		inc, err := f.m.Get(ctx, id)
		require.NoError(t, err)
		require.Equal(t, StatusOpen, inc.Status)
		require.Nil(t, inc.ResolvedAt)
		require.Empty(t, inc.ResolvedBy)
		require.Equal(t, "alice", inc.AcknowledgedBy, "the acknowledgement is kept")
		// A second ack changes the status but keeps the first time.
		f.c.advance(time.Minute)
		require.NoError(t, f.m.Ack(ctx, id, "dave"))
		inc, err = f.m.Get(ctx, id)
		require.NoError(t, err)
		require.Equal(t, StatusAcknowledged, inc.Status)
		require.Equal(t, "alice", inc.AcknowledgedBy)
		require.Equal(t, 60.0, *inc.MTTASeconds)

		tests := []struct {
			name    string
			patch   Patch
			wantErr error
			check   func(t *testing.T, inc Incident)
		}{
			{name: "empty patch", wantErr: ErrInvalid},
			{name: "bad severity", patch: Patch{Severity: new("fatal")}, wantErr: ErrInvalid},
			{name: "empty title", patch: Patch{Title: new("  ")}, wantErr: ErrInvalid},
			{name: "all fields", patch: Patch{Severity: new("Critical"), Title: new("API down"), RootCause: new("expired certificate")}, check: func(t *testing.T, inc Incident) {
				require.Equal(t, SeverityCritical, inc.Severity)
				require.Equal(t, "API down", inc.Title)
				require.Equal(t, "expired certificate", inc.RootCause)
				last := inc.Timeline[len(inc.Timeline)-1]
				require.Equal(t, ActionUpdated, last.Kind)
				require.Equal(t, "erin", last.Actor)
				require.Equal(t, `severity warning → critical; title "API down"; root cause: expired certificate`, last.Message)
			}},
			{name: "no change adds no entry", patch: Patch{Severity: new("critical")}, check: func(t *testing.T, inc Incident) {
				require.Equal(t, "erin", inc.Timeline[len(inc.Timeline)-1].Actor)
				require.Len(t, inc.Timeline, 7)
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := f.m.Update(ctx, id, tt.patch, "erin")
				if tt.wantErr != nil {
					require.ErrorIs(t, err, tt.wantErr)
					return
				}
				require.NoError(t, err)
				inc, err := f.m.Get(ctx, id)
				require.NoError(t, err)
				tt.check(t, inc)
			})
		}

		// Unknown ids.
		for name, fn := range map[string]func() error{
			"ack":     func() error { return f.m.Ack(ctx, 999, "x") },
			"note":    func() error { return f.m.AddNote(ctx, 999, "x", "y") },
			"update":  func() error { return f.m.Update(ctx, 999, Patch{Title: new("t")}, "x") },
			"resolve": func() error { return f.m.Resolve(ctx, 999, "x") },
			"reopen":  func() error { return f.m.Reopen(ctx, 999, "x") },
			"get":     func() error { _, err := f.m.Get(ctx, 999); return err },
		} {
			require.ErrorIs(t, fn(), ErrNotFound, name)
		}

		// An older incident cannot be reopened while a newer one of its group is open.
		require.NoError(t, f.m.Resolve(ctx, id, "x"))
		ref2, err := f.m.Observe(ctx, group("g", firing("Down", "api", "", f.c.t)))
		require.NoError(t, err)
		require.NotEqual(t, id, ref2.ID)
		err = f.m.Reopen(ctx, id, "x")
		require.ErrorIs(t, err, ErrInvalidTransition)
		require.Contains(t, err.Error(), "incident "+itoa(ref2.ID))
	})
}

func TestListAndStats(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		f := newFixture(t, db)
		ctx := t.Context()
		// Five incidents, one a day from Oct 30: services web/db, hosts h1/h2.
		f.c.t = time.Date(2026, 10, 30, 12, 0, 0, 0, time.UTC)
		type spec struct {
			service, host, sev string
			ackAfter, resAfter time.Duration
		}
		specs := []spec{
			{"web", "h1", "critical", time.Minute, 10 * time.Minute},
			{"web", "h2", "warning", 3 * time.Minute, 0},
			{"db", "h1", "warning", 0, 20 * time.Minute},
			{"web", "h1", "info", 0, 0},
			{"db", "h2", "critical", 5 * time.Minute, 30 * time.Minute},
		}
		var ids []int64
		for i, s := range specs {
			start := f.c.t
			g := Group{Key: "g" + itoa(int64(i)), Labels: map[string]string{"service": s.service, "instance": s.host},
				Alerts: []Alert{{Fingerprint: "fp", Labels: map[string]string{"alertname": "A", "severity": s.sev}, StartsAt: start}}}
			ref, err := f.m.Observe(ctx, g)
			require.NoError(t, err)
			ids = append(ids, ref.ID)
			if s.ackAfter > 0 {
				f.c.t = start.Add(s.ackAfter)
				require.NoError(t, f.m.Ack(ctx, ref.ID, "a"))
			}
			if s.resAfter > 0 {
				f.c.t = start.Add(s.resAfter)
				require.NoError(t, f.m.Resolve(ctx, ref.ID, "a"))
			}
			f.c.t = start.Add(24 * time.Hour)
		}

		listTests := []struct {
			name      string
			filter    Filter
			wantIDs   []int64
			wantTotal int
		}{
			{name: "all newest first", wantIDs: []int64{ids[4], ids[3], ids[2], ids[1], ids[0]}, wantTotal: 5},
			{name: "status", filter: Filter{Status: "resolved"}, wantIDs: []int64{ids[4], ids[2], ids[0]}, wantTotal: 3},
			{name: "statuses", filter: Filter{Status: "open,acknowledged"}, wantIDs: []int64{ids[3], ids[1]}, wantTotal: 2},
			{name: "severity", filter: Filter{Severity: "critical"}, wantIDs: []int64{ids[4], ids[0]}, wantTotal: 2},
			{name: "service and host", filter: Filter{Service: "web", Host: "h1"}, wantIDs: []int64{ids[3], ids[0]}, wantTotal: 2},
			{name: "time window", filter: Filter{From: time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)}, wantIDs: []int64{ids[2], ids[1]}, wantTotal: 2},
			{name: "paging", filter: Filter{Limit: 2, Offset: 1}, wantIDs: []int64{ids[3], ids[2]}, wantTotal: 5},
			{name: "group key", filter: Filter{GroupKey: "g1"}, wantIDs: []int64{ids[1]}, wantTotal: 1},
		}
		for _, tt := range listTests {
			t.Run(tt.name, func(t *testing.T) {
				incs, total, err := f.m.List(ctx, tt.filter)
				require.NoError(t, err)
				require.Equal(t, tt.wantTotal, total)
				var got []int64
				for _, inc := range incs {
					got = append(got, inc.ID)
					require.Nil(t, inc.Timeline)
				}
				require.Equal(t, tt.wantIDs, got)
			})
		}
		_, _, err := f.m.List(ctx, Filter{Status: "closed"})
		require.ErrorIs(t, err, ErrInvalid)
		require.Contains(t, err.Error(), `"closed"`)

		statTests := []struct {
			by       string
			from, to time.Time
			want     []Stat
		}{
			{by: "service", want: []Stat{
				{Key: "db", Incidents: 2, Acknowledged: 1, Resolved: 2, MTTASeconds: 300, MTTRSeconds: 1500},
				{Key: "web", Incidents: 3, Acknowledged: 2, Resolved: 1, MTTASeconds: 120, MTTRSeconds: 600},
			}},
			{by: "host", want: []Stat{
				{Key: "h1", Incidents: 3, Acknowledged: 1, Resolved: 2, MTTASeconds: 60, MTTRSeconds: 900},
				{Key: "h2", Incidents: 2, Acknowledged: 2, Resolved: 1, MTTASeconds: 240, MTTRSeconds: 1800},
			}},
			{by: "month", want: []Stat{
				{Key: "2026-10", Incidents: 2, Acknowledged: 2, Resolved: 1, MTTASeconds: 120, MTTRSeconds: 600},
				{Key: "2026-11", Incidents: 3, Acknowledged: 1, Resolved: 2, MTTASeconds: 300, MTTRSeconds: 1500},
			}},
			{by: "severity", from: time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC), want: []Stat{
				{Key: "critical", Incidents: 1, Acknowledged: 1, Resolved: 1, MTTASeconds: 300, MTTRSeconds: 1800},
				{Key: "warning", Incidents: 2, Acknowledged: 1, Resolved: 1, MTTASeconds: 180, MTTRSeconds: 1200},
				{Key: "info", Incidents: 1},
			}},
		}
		for _, tt := range statTests {
			t.Run("stats by "+tt.by, func(t *testing.T) {
				got, err := f.m.Stats(ctx, tt.by, tt.from, tt.to)
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
			})
		}
		_, err = f.m.Stats(ctx, "team", time.Time{}, time.Time{})
		require.ErrorIs(t, err, ErrInvalid)
	})
}

func TestTitleAndFields(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		labels    map[string]string
		alerts    []Alert
		wantTitle string
		wantSev   string
	}{
		{name: "group label alertname", labels: map[string]string{"alertname": "HighCPU", "job": "node"}, alerts: []Alert{firing("HighCPU", "a", "info", t0)}, wantTitle: "HighCPU (job=node)", wantSev: "info"},
		{name: "several names", labels: map[string]string{"cluster": "eu"}, alerts: []Alert{firing("B", "a", "warning", t0), firing("A", "a", "critical", t0)}, wantTitle: "A, B (cluster=eu)", wantSev: "critical"},
		{name: "many names", alerts: []Alert{firing("A", "a", "", t0), firing("B", "a", "", t0), firing("C", "a", "", t0), firing("D", "a", "", t0), firing("E", "a", "", t0)}, wantTitle: "A, B, C and 2 more", wantSev: "warning"},
		{name: "no names", alerts: []Alert{{Fingerprint: "x", Labels: map[string]string{"severity": "bogus"}}}, wantTitle: "Alerts", wantSev: "warning"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.wantTitle, makeTitle(tt.labels, tt.alerts))
			require.Equal(t, tt.wantSev, highestSeverity(tt.alerts))
		})
	}
}

func TestSecretIsKept(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		f := newFixture(t, db)
		m2, err := New(t.Context(), Options{DB: db, Logger: slog.New(slog.DiscardHandler), Registerer: prometheus.NewRegistry()})
		require.NoError(t, err)
		require.Equal(t, f.m.token(42), m2.token(42))
		require.NotEqual(t, f.m.token(42), f.m.token(43))
		require.Equal(t, "/incidents/42", m2.ref(42).URL, "without ExternalURL links are relative")
	})
}

func TestNewValidates(t *testing.T) {
	_, err := New(t.Context(), Options{})
	require.ErrorContains(t, err, "DB is required")
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
