package alertmanager

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
	"sync"
	"testing"
	"time"

	pb "github.com/prometheus/alertmanager/silence/silencepb"
	"github.com/prometheus/alertmanager/types"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/saypro/monitor/internal/config"
)

// webhook is a receiver endpoint that records Alertmanager webhook
// payloads.
type webhook struct {
	mu       sync.Mutex
	payloads []webhookPayload
	status   int
}

type webhookPayload struct {
	Status   string `json:"status"`
	GroupKey string `json:"groupKey"`
	Alerts   []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"alerts"`
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var p webhookPayload
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.payloads = append(h.payloads, p)
	status := h.status
	h.mu.Unlock()
	if status != 0 {
		w.WriteHeader(status)
	}
}

func (h *webhook) got() []webhookPayload {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]webhookPayload(nil), h.payloads...)
}

// observer records what the Alertmanager tells it.
type observer struct {
	mu       sync.Mutex
	flushes  []Flush
	notified []Notification
}

func (o *observer) Flushed(_ context.Context, f Flush) Links {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flushes = append(o.flushes, f)
	return Links{URL: "http://monitor/incidents/1", AckURL: "http://monitor/incidents/1/ack?token=t"}
}

func (o *observer) Notified(_ context.Context, n Notification) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.notified = append(o.notified, n)
}

func (o *observer) flushed() []Flush {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Flush(nil), o.flushes...)
}

func (o *observer) notifications() []Notification {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Notification(nil), o.notified...)
}

func testConfig(t *testing.T, amYAML string) *config.AlertmanagerConfig {
	t.Helper()
	c, err := config.Parse([]byte("alertmanager:\n  config:\n"+indent(amYAML, "    ")), "")
	require.NoError(t, err)
	return &c.Alertmanager
}

func indent(s, prefix string) string {
	var b bytes.Buffer
	for _, line := range bytes.Split([]byte(s), []byte("\n")) {
		if len(line) > 0 {
			b.WriteString(prefix)
			b.Write(line)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func newAM(t *testing.T, dir string, o Options) *Alertmanager {
	t.Helper()
	o.DataDir = dir
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	o.ExternalURL = &url.URL{Scheme: "http", Host: "monitor.test"}
	am, err := New(o)
	require.NoError(t, err)
	t.Cleanup(am.Stop)
	return am
}

func firing(name, instance string) *types.Alert {
	now := time.Now()
	return &types.Alert{
		Alert: model.Alert{
			Labels:      model.LabelSet{"alertname": model.LabelValue(name), "instance": model.LabelValue(instance), "severity": "warning"},
			Annotations: model.LabelSet{"summary": "it is on fire"},
			StartsAt:    now,
			EndsAt:      now.Add(5 * time.Minute),
		},
		UpdatedAt: now,
	}
}

const hookConfig = `route:
  receiver: hook
  group_by: [alertname, instance]
  group_wait: 100ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: %s
`

func TestNotifyOnceAndObserve(t *testing.T) {
	hook := &webhook{}
	srv := httptest.NewServer(hook)
	t.Cleanup(srv.Close)
	obs := &observer{}
	am := newAM(t, t.TempDir(), Options{Observer: obs})
	require.NoError(t, am.Apply(testConfig(t, sprintf(hookConfig, srv.URL))))

	require.NoError(t, am.Put(context.Background(), firing("HostHighCPU", "web1")))
	require.Eventually(t, func() bool { return len(hook.got()) == 1 }, 5*time.Second, 20*time.Millisecond)
	time.Sleep(2500 * time.Millisecond) // two group intervals: nothing new, nothing re-sent
	got := hook.got()
	require.Len(t, got, 1)
	require.Equal(t, "firing", got[0].Status)
	require.Equal(t, "http://monitor/incidents/1/ack?token=t", got[0].Alerts[0].Annotations[AnnotationIncidentAckURL], "the incident's links reach the templates")
	require.Equal(t, "it is on fire", got[0].Alerts[0].Annotations["summary"])

	ns := obs.notifications()
	require.Len(t, ns, 1)
	require.Equal(t, "hook", ns[0].Receiver)
	require.Equal(t, "webhook[0]", ns[0].Integration)
	require.Equal(t, 1, ns[0].Firing)
	require.NoError(t, ns[0].Err)
	require.Equal(t, got[0].GroupKey, ns[0].GroupKey)
}

func TestSilenceMutesAndSurvivesCrash(t *testing.T) {
	hook := &webhook{}
	srv := httptest.NewServer(hook)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	obs := &observer{}
	am := newAM(t, dir, Options{Observer: obs})
	require.NoError(t, am.Apply(testConfig(t, sprintf(hookConfig, srv.URL))))
	api := httptest.NewServer(am.Handler())
	t.Cleanup(api.Close)

	now := time.Now()
	body, _ := json.Marshal(map[string]any{
		"matchers":  []map[string]any{{"name": "instance", "value": "db1", "isRegex": false, "isEqual": true}},
		"startsAt":  now.Add(-time.Minute),
		"endsAt":    now.Add(3 * time.Hour),
		"createdBy": "test",
		"comment":   "upgrading db1",
	})
	resp, err := http.Post(api.URL+"/api/v2/silences", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	require.NoError(t, am.Put(context.Background(), firing("DatabaseSlow", "db1"), firing("DatabaseSlow", "db2")))
	require.Eventually(t, func() bool { return len(hook.got()) == 1 }, 5*time.Second, 20*time.Millisecond)
	time.Sleep(1500 * time.Millisecond)
	got := hook.got()
	require.Len(t, got, 1, "the silenced group sends nothing")
	require.Equal(t, "db2", got[0].Alerts[0].Labels["instance"])
	for _, f := range obs.flushed() {
		for _, a := range f.Alerts {
			require.NotEqual(t, model.LabelValue("db1"), a.Labels["instance"], "silenced alerts open no incident")
		}
	}

	// A crash: no Stop, no final snapshot. The silence and the
	// notification log were written when they changed.
	time.Sleep(2 * persistInterval)
	am2 := newAM(t, dir, Options{})
	sils, _, err := am2.silences.Query(context.Background())
	require.NoError(t, err)
	require.Len(t, sils, 1, "the silence survives the restart")
	require.NoError(t, am2.Apply(testConfig(t, sprintf(hookConfig, srv.URL))))
	require.NoError(t, am2.Put(context.Background(), firing("DatabaseSlow", "db2")))
	time.Sleep(2 * time.Second)
	require.Len(t, hook.got(), 1, "the restarted Alertmanager does not send again what was sent")
}

func TestFailingReceiverDoesNotDelayOthers(t *testing.T) {
	good := &webhook{}
	goodSrv := httptest.NewServer(good)
	t.Cleanup(goodSrv.Close)
	bad := &webhook{status: http.StatusInternalServerError}
	badSrv := httptest.NewServer(bad)
	t.Cleanup(badSrv.Close)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	obs := &observer{}
	am := newAM(t, t.TempDir(), Options{Observer: obs})
	require.NoError(t, am.Apply(testConfig(t, sprintf(`route:
  receiver: all
  group_by: [alertname]
  group_wait: 100ms
  group_interval: 10s
receivers:
  - name: all
    webhook_configs:
      - url: %s
      - url: %s
      - url: %s
`, badSrv.URL, slow.URL, goodSrv.URL))))
	start := time.Now()
	require.NoError(t, am.Put(context.Background(), firing("WebLatencyHigh", "api")))
	require.Eventually(t, func() bool { return len(good.got()) == 1 }, 5*time.Second, 10*time.Millisecond)
	require.Less(t, time.Since(start), 3*time.Second, "a slow and a failing receiver do not hold up the working one")
	// The failing one is retried with backoff and each failure is reported.
	require.Eventually(t, func() bool {
		fails := 0
		for _, n := range obs.notifications() {
			if n.Integration == "webhook[0]" && n.Err != nil && n.Retry {
				fails++
			}
		}
		return fails >= 2 && len(bad.got()) >= 2
	}, 10*time.Second, 50*time.Millisecond)
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func newServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func silenceFor(t *testing.T, am *Alertmanager, start, end time.Time) string {
	t.Helper()
	sil := &pb.Silence{
		MatcherSets: []*pb.MatcherSet{{Matchers: []*pb.Matcher{{Type: pb.Matcher_EQUAL, Name: "instance", Pattern: "x"}}}},
		StartsAt:    timestamppb.New(start),
		EndsAt:      timestamppb.New(end),
		CreatedBy:   "alice",
		Comment:     "work on x",
	}
	require.NoError(t, am.silences.Set(context.Background(), sil))
	return sil.Id
}
