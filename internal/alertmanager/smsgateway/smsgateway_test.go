package smsgateway

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
	"unicode/utf8"

	"github.com/prometheus/alertmanager/notify"
	commoncfg "github.com/prometheus/common/config"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v2"

	"github.com/saypro/monitor/internal/alertmanager/notifytest"
	"github.com/saypro/monitor/internal/config/notifyconfig"
)

const apiKey = "key-s3cr3t-value"

type request struct {
	method, path, rawQuery, contentType, auth, userAgent string
	body                                                 []byte
}

// gateway records requests and answers status[to] (200 when unset), where
// to is the "to" query parameter or JSON field.
type gateway struct {
	mu       sync.Mutex
	requests []request
	status   map[string]int
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	to := r.URL.Query().Get("to")
	var js struct{ To string }
	if json.Unmarshal(body, &js) == nil && js.To != "" {
		to = js.To
	}
	g.mu.Lock()
	g.requests = append(g.requests, request{
		r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"),
		r.Header.Get("Authorization"), r.Header.Get("User-Agent"), body,
	})
	status := g.status[to]
	g.mu.Unlock()
	if status == 0 {
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, `{"ok":true}`)
		return
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":"gateway says no to %s"}%s`, to, strings.Repeat(" padding", 200))
}

func (g *gateway) received() []request {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]request(nil), g.requests...)
}

func (g *gateway) reset(status map[string]int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.requests, g.status = nil, status
}

// decode builds a config the way the server does, from YAML, so that the
// defaults and validation apply.
func decode(t *testing.T, yml string) *notifyconfig.SMSConfig {
	t.Helper()
	var e notifyconfig.Extensions
	require.NoError(t, yaml.UnmarshalStrict([]byte(yml), &e))
	require.Len(t, e.SMS, 1)
	return e.SMS[0]
}

func newNotifier(t *testing.T, c *notifyconfig.SMSConfig, logs *bytes.Buffer) *Notifier {
	t.Helper()
	l := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	n, err := New(c, notifytest.Template(t), l)
	require.NoError(t, err)
	return n
}

func TestRequests(t *testing.T) {
	gw := &gateway{}
	srv := httptest.NewServer(gw)
	defer srv.Close()

	for _, tc := range []struct {
		name  string
		yml   string
		check func(t *testing.T, reqs []request)
	}{
		{
			name: "JSON POST with templated headers",
			yml: `
sms_configs:
  - url: ` + srv.URL + `/api/send
    headers:
      Authorization: "Bearer ` + apiKey + `"
      Content-Type: application/json
      X-Alert: '{{ .CommonLabels.alertname }}'
    body: '{"to":"{{ .To }}","text":{{ .Message | toJson }},"status":"{{ .Status }}"}'
    to: ["+27820000001", "+27820000002"]
`,
			check: func(t *testing.T, reqs []request) {
				require.Len(t, reqs, 2)
				for i, r := range reqs {
					require.Equal(t, http.MethodPost, r.method)
					require.Equal(t, "/api/send", r.path)
					require.Equal(t, "application/json", r.contentType)
					require.Equal(t, "Bearer "+apiKey, r.auth)
					require.Contains(t, r.userAgent, "Alertmanager")
					var got struct{ To, Text, Status string }
					require.NoError(t, json.Unmarshal(r.body, &got), string(r.body))
					require.Equal(t, []string{"+27820000001", "+27820000002"}[i], got.To)
					require.Equal(t, `[FIRING:1] HostHighCPU web1 - CPU "hot" & <85%>`, got.Text)
					require.Equal(t, "firing", got.Status)
				}
			},
		},
		{
			name: "GET with the recipient and message in the query",
			yml: `
sms_configs:
  - url: '` + srv.URL + `/send?key=` + apiKey + `&to={{ .To | urlquery }}&msg={{ .Message | urlquery }}'
    method: GET
    to: ["+27820000001"]
    message: '{{ .CommonLabels.alertname }} on {{ .CommonLabels.instance }}'
`,
			check: func(t *testing.T, reqs []request) {
				require.Len(t, reqs, 1)
				r := reqs[0]
				require.Equal(t, http.MethodGet, r.method)
				require.Empty(t, r.body)
				q, err := url.ParseQuery(r.rawQuery)
				require.NoError(t, err)
				require.Equal(t, "+27820000001", q.Get("to"))
				require.Equal(t, "HostHighCPU on web1", q.Get("msg"))
				require.Equal(t, apiKey, q.Get("key"))
			},
		},
		{
			name: "form body, max_length",
			yml: `
sms_configs:
  - url: ` + srv.URL + `/form
    headers: {Content-Type: application/x-www-form-urlencoded}
    body: 'to={{ .To | urlquery }}&text={{ .Message | urlquery }}'
    to: ["0820000001"]
    max_length: 20
`,
			check: func(t *testing.T, reqs []request) {
				require.Len(t, reqs, 1)
				f, err := url.ParseQuery(string(reqs[0].body))
				require.NoError(t, err)
				require.Equal(t, "0820000001", f.Get("to"))
				require.Equal(t, 20, utf8.RuneCountInString(f.Get("text")))
				require.Equal(t, "[FIRING:1] HostHigh…", f.Get("text"))
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw.reset(nil)
			var logs bytes.Buffer
			n := newNotifier(t, decode(t, tc.yml), &logs)
			retry, err := n.Notify(notifytest.Context(time.Now()), notifytest.Firing("web1", `CPU "hot" & <85%>`))
			require.NoError(t, err)
			require.False(t, retry)
			tc.check(t, gw.received())
			require.NotContains(t, logs.String(), apiKey)
		})
	}
}

func TestStatus(t *testing.T) {
	gw := &gateway{}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	c := decode(t, `
sms_configs:
  - url: '`+srv.URL+`/send?key=`+apiKey+`&to={{ .To | urlquery }}'
    to: ["+1"]
`)
	for _, tc := range []struct {
		status int
		retry  bool
		reason notify.Reason
	}{
		{http.StatusBadRequest, false, notify.ClientErrorReason},
		{http.StatusUnauthorized, false, notify.AuthErrorReason},
		{http.StatusNotFound, false, notify.ClientErrorReason},
		{http.StatusTooManyRequests, true, notify.RateLimitedReason},
		{http.StatusInternalServerError, true, notify.ServerErrorReason},
		{http.StatusServiceUnavailable, true, notify.ServerErrorReason},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			gw.reset(map[string]int{"+1": tc.status})
			var logs bytes.Buffer
			retry, err := newNotifier(t, c, &logs).Notify(notifytest.Context(time.Now()), notifytest.Firing("web1", "cpu"))
			require.Equal(t, tc.retry, retry)
			require.ErrorContains(t, err, fmt.Sprintf(`sms: 1 of 1 recipients failed: to +1: HTTP %d: {"error":"gateway says no to +1"}`, tc.status))
			require.LessOrEqual(t, len(err.Error()), 600, "the answer is cut at 512 bytes")
			var ewr *notify.ErrorWithReason
			require.ErrorAs(t, err, &ewr)
			require.Equal(t, tc.reason, ewr.Reason)
			require.NotContains(t, err.Error(), apiKey)
			require.NotContains(t, logs.String(), apiKey)
		})
	}
}

func TestPartialFailureAndRetry(t *testing.T) {
	gw := &gateway{status: map[string]int{"+2": http.StatusBadGateway}}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	var logs bytes.Buffer
	n := newNotifier(t, decode(t, `
sms_configs:
  - url: '`+srv.URL+`/send?to={{ .To | urlquery }}'
    to: ["+1", "+2", "+3"]
`), &logs)
	ctx := notifytest.Context(time.Now())

	retry, err := n.Notify(ctx, notifytest.Firing("web1", "cpu"))
	require.True(t, retry)
	require.ErrorContains(t, err, "sms: 1 of 3 recipients failed: to +2: HTTP 502")
	require.Len(t, gw.received(), 3, "the failure does not stop the others")

	gw.reset(nil)
	retry, err = n.Notify(ctx, notifytest.Firing("web1", "cpu"))
	require.NoError(t, err)
	require.False(t, retry)
	reqs := gw.received()
	require.Len(t, reqs, 1, "the retry of the flush goes only to the one missed")
	require.Equal(t, "to=%2B2", reqs[0].rawQuery)
}

func TestRenderErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yml, err string
	}{
		{
			name: "url renders to garbage",
			yml:  "sms_configs:\n  - {url: 'http://{{ .To }}:x/?key=" + apiKey + "', to: ['bad host']}",
			err:  "to bad host: rendered url does not parse",
		},
		{
			name: "header renders to an invalid value",
			yml:  "sms_configs:\n  - {url: 'http://127.0.0.1:1/', headers: {X-To: \"{{ .To }}\\n" + apiKey + "\"}, to: ['+1']}",
			err:  "to +1: header X-To renders to an invalid value",
		},
		{
			name: "undefined template in body",
			yml:  "sms_configs:\n  - {url: 'http://127.0.0.1:1/', body: '{{ template \"nope\" . }}', to: ['+1']}",
			err:  "to +1: render body",
		},
		{
			name: "empty message",
			yml:  "sms_configs:\n  - {url: 'http://127.0.0.1:1/', message: '{{ \"\" }}', to: ['+1']}",
			err:  "sms: the message is empty after rendering",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			retry, err := newNotifier(t, decode(t, tc.yml), &logs).Notify(notifytest.Context(time.Now()), notifytest.Firing("web1", "cpu"))
			require.False(t, retry)
			require.ErrorContains(t, err, tc.err)
			require.NotContains(t, err.Error(), apiKey)
		})
	}
}

func TestContextCanceled(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	var logs bytes.Buffer
	n := newNotifier(t, decode(t, "sms_configs:\n  - {url: '"+srv.URL+"/?key="+apiKey+"', to: ['+1', '+2']}"), &logs)

	ctx, cancel := context.WithCancel(notifytest.Context(time.Now()))
	time.AfterFunc(50*time.Millisecond, cancel)
	retry, err := n.Notify(ctx, notifytest.Firing("web1", "cpu"))
	require.True(t, retry)
	require.ErrorContains(t, err, "sms: 2 of 2 recipients failed")
	require.ErrorContains(t, err, "context canceled")
	require.NotContains(t, err.Error(), apiKey, "the URL is redacted")
	var ewr *notify.ErrorWithReason
	require.ErrorAs(t, err, &ewr)
	require.Equal(t, notify.ContextCanceledReason, ewr.Reason)
	require.ErrorIs(t, ewr.Err, context.Canceled)
}

func TestNewDefaults(t *testing.T) {
	// A config built in Go, without YAML defaults, still works.
	gw := &gateway{}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	c := &notifyconfig.SMSConfig{URL: commoncfg.Secret(srv.URL), To: []string{"+1"}, Message: "hi"}
	var logs bytes.Buffer
	n := newNotifier(t, c, &logs)
	require.False(t, n.SendResolved())
	_, err := n.Notify(notifytest.Context(time.Now()), notifytest.Firing("web1", "cpu"))
	require.NoError(t, err)
	require.Equal(t, http.MethodPost, gw.received()[0].method)
}
