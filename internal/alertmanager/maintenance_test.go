package alertmanager

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/alertmanager/silence"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config"
)

func TestOccurrences(t *testing.T) {
	jhb, err := time.LoadLocation("Africa/Johannesburg")
	require.NoError(t, err)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, jhb)
		require.NoError(t, err)
		return v
	}
	tests := []struct {
		name     string
		w        config.MaintenanceWindow
		from, to string
		want     []string // starts
	}{
		{
			name: "daily, one open now",
			w:    config.MaintenanceWindow{Every: "day", StartOffset: 23 * time.Hour, Duration: config.DefaultAlertmanager.Retention / 60}, // 2h
			from: "2026-11-21 00:30", to: "2026-11-22 00:00",
			want: []string{"2026-11-20 23:00", "2026-11-21 23:00"},
		},
		{
			name: "weekly on Tuesday and Thursday",
			w:    config.MaintenanceWindow{Every: "week", Days: []time.Weekday{time.Tuesday, time.Thursday}, StartOffset: 2 * time.Hour, Duration: 7200e9},
			from: "2026-11-21 00:00", to: "2026-11-28 00:00",
			want: []string{"2026-11-24 02:00", "2026-11-26 02:00"},
		},
		{
			name: "monthly on the 1st and the last day",
			w:    config.MaintenanceWindow{Every: "month", DaysOfMonth: []int{1, -1}, StartOffset: 22*time.Hour + 30*time.Minute, Duration: 10800e9},
			from: "2026-11-21 00:00", to: "2027-01-02 00:00",
			want: []string{"2026-11-30 22:30", "2026-12-01 22:30", "2026-12-31 22:30", "2027-01-01 22:30"},
		},
		{
			name: "February's last day",
			w:    config.MaintenanceWindow{Every: "month", DaysOfMonth: []int{-1}, StartOffset: 0, Duration: 3600e9},
			from: "2027-02-01 00:00", to: "2027-03-01 00:00",
			want: []string{"2027-02-28 00:00"},
		},
		{
			name: "a window that ended is not returned",
			w:    config.MaintenanceWindow{Every: "day", StartOffset: time.Hour, Duration: 3600e9},
			from: "2026-11-21 03:00", to: "2026-11-21 23:00",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.w.Location = jhb
			var got []string
			for _, o := range occurrences(&tt.w, at(tt.from), at(tt.to)) {
				require.Equal(t, time.Duration(tt.w.Duration), o.end.Sub(o.start))
				got = append(got, o.start.In(jhb).Format("2006-01-02 15:04"))
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestMaintenanceWindowMutes(t *testing.T) {
	hook := &webhook{}
	srv := newServer(t, hook)
	am := newAM(t, t.TempDir(), Options{})
	now := time.Now()
	start := now.Add(-30 * time.Minute)
	cfg := testConfig(t, sprintf(hookConfig, srv.URL))
	cfg.MaintenanceWindows = []config.MaintenanceWindow{{
		Name: "nightly", Selectors: mustMatchers(t, `instance="db1"`), Every: "day",
		StartOffset: time.Duration(start.Hour())*time.Hour + time.Duration(start.Minute())*time.Minute,
		Duration:    7200e9, Location: time.Local,
	}}
	require.NoError(t, am.Apply(cfg))
	require.Eventually(t, func() bool {
		n, _ := am.silences.CountState(context.Background(), silence.SilenceStateActive)
		return n == 1
	}, 5*time.Second, 20*time.Millisecond, "the open window has an active silence")
	// Once more: nothing is created twice.
	am.syncWindows(context.Background(), cfg.MaintenanceWindows, time.Now())
	sils, _, err := am.silences.Query(context.Background())
	require.NoError(t, err)
	require.Len(t, sils, 2, "today's occurrence, active, and tomorrow's, pending")

	require.NoError(t, am.Put(context.Background(), firing("HostDown", "db1"), firing("HostDown", "web1")))
	require.Eventually(t, func() bool { return len(hook.got()) == 1 }, 5*time.Second, 20*time.Millisecond)
	time.Sleep(1500 * time.Millisecond)
	got := hook.got()
	require.Len(t, got, 1)
	require.Equal(t, "web1", got[0].Alerts[0].Labels["instance"], "the host in maintenance sends nothing")

	// Removing the window expires its silences.
	am.syncWindows(context.Background(), nil, time.Now())
	n, err := am.silences.CountState(context.Background(), silence.SilenceStateActive, silence.SilenceStatePending)
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestSilenceReminder(t *testing.T) {
	hook := &webhook{}
	srv := newServer(t, hook)
	am := newAM(t, t.TempDir(), Options{})
	cfg := testConfig(t, sprintf(hookConfig, srv.URL))
	require.NoError(t, am.Apply(cfg))
	ctx := context.Background()
	now := time.Now()
	short := silenceFor(t, am, now.Add(-time.Hour), now.Add(20*time.Minute))
	silenceFor(t, am, now.Add(-time.Hour), now.Add(5*time.Hour)) // far from its end

	reminded := map[string]time.Time{}
	am.remind(ctx, cfg.SilenceReminder, now, reminded)
	require.Len(t, reminded, 1)
	require.Contains(t, reminded, short)
	require.Eventually(t, func() bool { return len(hook.got()) == 1 }, 5*time.Second, 20*time.Millisecond)
	p := hook.got()[0]
	require.Equal(t, ReminderAlertName, p.Alerts[0].Labels["alertname"])
	require.Equal(t, short, p.Alerts[0].Labels["silence_id"])
	require.Contains(t, p.Alerts[0].Annotations["summary"], "ends in 20m")

	// Extended: the reminder resolves.
	require.NoError(t, am.silences.Expire(ctx, short))
	am.remind(ctx, cfg.SilenceReminder, time.Now(), reminded)
	require.Empty(t, reminded)
	require.Eventually(t, func() bool {
		got := hook.got()
		return len(got) == 2 && got[1].Status == "resolved"
	}, 5*time.Second, 20*time.Millisecond)
}

func mustMatchers(t *testing.T, s string) labels.Matchers {
	t.Helper()
	ms, err := labels.ParseMatchers(s)
	require.NoError(t, err)
	return ms
}
