package forward

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/template"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config/notifyconfig"
)

const password = "pw-s3cr3t-value"

// target plays the other Alertmanager: it decodes the body with
// Alertmanager's own API models and validates it as its API would.
type target struct {
	mu       sync.Mutex
	path     string
	user     string
	pass     string
	ctype    string
	alerts   models.PostableAlerts
	status   int
	response string
}

func (tg *target) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	tg.path, tg.ctype = r.URL.Path, r.Header.Get("Content-Type")
	tg.user, tg.pass, _ = r.BasicAuth()
	if tg.status != 0 {
		w.WriteHeader(tg.status)
		fmt.Fprint(w, tg.response)
		return
	}
	var alerts models.PostableAlerts
	if err := json.NewDecoder(r.Body).Decode(&alerts); err != nil {
		http.Error(w, "decode: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := alerts.Validate(strfmt.Default); err != nil {
		http.Error(w, "validate: "+err.Error(), http.StatusBadRequest)
		return
	}
	tg.alerts = alerts
	w.WriteHeader(http.StatusOK)
}

func notifyContext(now time.Time, repeat time.Duration) context.Context {
	ctx := notify.WithGroupKey(context.Background(), `{}:{alertname="HostHighCPU"}`)
	ctx = notify.WithReceiverName(ctx, "oncall")
	ctx = notify.WithGroupLabels(ctx, model.LabelSet{"alertname": "HostHighCPU"})
	ctx = notify.WithRepeatInterval(ctx, repeat)
	return notify.WithNow(ctx, now)
}

func newNotifier(t *testing.T, c *notifyconfig.ForwardConfig, logs *bytes.Buffer) *Notifier {
	t.Helper()
	tmpl, err := template.FromGlobs(nil)
	require.NoError(t, err)
	tmpl.ExternalURL, err = url.Parse("http://monitor.example.com")
	require.NoError(t, err)
	n, err := New(c, tmpl, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	require.NoError(t, err)
	return n
}

func config(u string) *notifyconfig.ForwardConfig {
	c := notifyconfig.DefaultForwardConfig
	c.URL = u
	c.HTTPConfig = &commoncfg.HTTPClientConfig{
		BasicAuth: &commoncfg.BasicAuth{Username: "monitor", Password: commoncfg.Secret(password)},
	}
	return &c
}

func TestPayload(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	started := now.Add(-time.Hour)
	firing := &alert.Alert{Alert: model.Alert{
		Labels:       model.LabelSet{"alertname": "HostHighCPU", "instance": "web1", "severity": "critical"},
		Annotations:  model.LabelSet{"summary": "CPU above 85%"},
		StartsAt:     started,
		EndsAt:       now.Add(5 * time.Minute), // Alertmanager's resolve timeout
		GeneratorURL: "http://monitor.example.com/graph?g0.expr=up",
	}}
	resolvedAt := now.Add(-2 * time.Minute)
	resolved := &alert.Alert{Alert: model.Alert{
		Labels:   model.LabelSet{"alertname": "HostHighCPU", "instance": "web2"},
		StartsAt: started,
		EndsAt:   resolvedAt,
	}}

	for _, tc := range []struct {
		name       string
		base       string
		repeat     time.Duration
		wantPath   string
		wantEndsAt time.Time
	}{
		{"base url", "", 4 * time.Hour, "/api/v2/alerts", now.Add(4*time.Hour + FiringGrace)},
		{"path prefix with slash", "/am/", 4 * time.Hour, "/am/api/v2/alerts", now.Add(4*time.Hour + FiringGrace)},
		{"short repeat interval", "", time.Minute, "/api/v2/alerts", now.Add(time.Minute + FiringGrace)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := &target{}
			srv := httptest.NewServer(tg)
			defer srv.Close()
			var logs bytes.Buffer
			n := newNotifier(t, config(srv.URL+tc.base), &logs)

			retry, err := n.Notify(notifyContext(now, tc.repeat), firing, resolved)
			require.NoError(t, err)
			require.False(t, retry)

			require.Equal(t, tc.wantPath, tg.path)
			require.Equal(t, "application/json", tg.ctype)
			require.Equal(t, "monitor", tg.user)
			require.Equal(t, password, tg.pass)
			require.Len(t, tg.alerts, 2)

			f := tg.alerts[0]
			require.Equal(t, models.LabelSet{"alertname": "HostHighCPU", "instance": "web1", "severity": "critical"}, f.Labels)
			require.Equal(t, models.LabelSet{"summary": "CPU above 85%"}, f.Annotations)
			require.Equal(t, strfmt.URI("http://monitor.example.com/graph?g0.expr=up"), f.GeneratorURL)
			require.True(t, started.Equal(time.Time(f.StartsAt)))
			require.True(t, tc.wantEndsAt.Equal(time.Time(f.EndsAt)), "firing endsAt %v", time.Time(f.EndsAt))

			r := tg.alerts[1]
			require.True(t, resolvedAt.Equal(time.Time(r.EndsAt)), "a resolved alert keeps its endsAt")
			require.Empty(t, r.Annotations)
			require.Empty(t, r.GeneratorURL)

			require.NotContains(t, logs.String(), password)
		})
	}
}

func TestFiringWithoutRepeatInterval(t *testing.T) {
	tg := &target{}
	srv := httptest.NewServer(tg)
	defer srv.Close()
	var logs bytes.Buffer
	n := newNotifier(t, config(srv.URL), &logs)
	now := time.Now()
	ctx := notify.WithGroupKey(context.Background(), "g")
	a := &alert.Alert{Alert: model.Alert{Labels: model.LabelSet{"alertname": "X"}, StartsAt: now, EndsAt: now.Add(5 * time.Minute)}}
	_, err := n.Notify(ctx, a)
	require.NoError(t, err)
	require.True(t, a.EndsAt.Equal(time.Time(tg.alerts[0].EndsAt)), "its own endsAt is kept")
}

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		status   int
		response string
		retry    bool
		reason   notify.Reason
		err      string
	}{
		{http.StatusBadRequest, `{"code":400,"message":"start time must be before end time"}`, false, notify.ClientErrorReason, "unexpected status code 400: {\"code\":400,\"message\":\"start time must be before end time\"}"},
		{http.StatusUnauthorized, "Unauthorized", false, notify.AuthErrorReason, "unexpected status code 401: Unauthorized"},
		{http.StatusInternalServerError, "boom", true, notify.ServerErrorReason, "unexpected status code 500: boom"},
		{http.StatusServiceUnavailable, strings.Repeat("x", 2000), true, notify.ServerErrorReason, "unexpected status code 503: " + strings.Repeat("x", maxErrorBody)},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			srv := httptest.NewServer(&target{status: tc.status, response: tc.response})
			defer srv.Close()
			var logs bytes.Buffer
			retry, err := newNotifier(t, config(srv.URL), &logs).Notify(notifyContext(time.Now(), time.Hour),
				&alert.Alert{Alert: model.Alert{Labels: model.LabelSet{"alertname": "X"}, StartsAt: time.Now()}})
			require.Equal(t, tc.retry, retry)
			require.EqualError(t, err, "alertmanager: "+tc.err)
			var ewr *notify.ErrorWithReason
			require.ErrorAs(t, err, &ewr)
			require.Equal(t, tc.reason, ewr.Reason)
			require.NotContains(t, err.Error(), password)
		})
	}
}

func TestContextCanceled(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	var logs bytes.Buffer
	n := newNotifier(t, config(srv.URL), &logs)
	ctx, cancel := context.WithTimeout(notifyContext(time.Now(), time.Hour), 50*time.Millisecond)
	defer cancel()
	retry, err := n.Notify(ctx, &alert.Alert{Alert: model.Alert{Labels: model.LabelSet{"alertname": "X"}, StartsAt: time.Now()}})
	require.True(t, retry)
	require.ErrorContains(t, err, "context deadline exceeded")
	require.ErrorContains(t, err, "<redacted>")
	var ewr *notify.ErrorWithReason
	require.ErrorAs(t, err, &ewr)
	require.Equal(t, notify.ContextDeadlineExceededReason, ewr.Reason)
	require.NotContains(t, err.Error(), password)
}

func TestSendResolved(t *testing.T) {
	var logs bytes.Buffer
	c := config("http://127.0.0.1:1")
	require.True(t, newNotifier(t, c, &logs).SendResolved())
	c.VSendResolved = false
	require.False(t, newNotifier(t, c, &logs).SendResolved())
}
