package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/require"
)

// fakeAPI stands in for a third-party notification service: it checks
// each request against that service's documented format and answers as
// the service does.
type fakeAPI struct {
	name    string
	check   func(r *http.Request, body []byte) (status string, err error)
	respond func(w http.ResponseWriter)

	mu       sync.Mutex
	statuses []string // "firing" / "resolved" of each accepted request
	errs     []error
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	status, err := f.check(r, body)
	f.mu.Lock()
	if err != nil {
		f.errs = append(f.errs, fmt.Errorf("%s: %s %s: %w\n%s", f.name, r.Method, r.URL, err, body))
	} else {
		f.statuses = append(f.statuses, status)
	}
	f.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.respond(w)
}

func (f *fakeAPI) got() ([]string, []error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.statuses...), append([]error(nil), f.errs...)
}

func decodeJSON(body []byte, v any) error { return json.Unmarshal(body, v) }

func requireFields(m map[string]any, keys ...string) error {
	for _, k := range keys {
		if v, ok := m[k]; !ok || v == "" || v == nil {
			return fmt.Errorf("field %q missing", k)
		}
	}
	return nil
}

func firingOrResolved(s string) string {
	if strings.Contains(strings.ToLower(s), "resolved") {
		return "resolved"
	}
	return "firing"
}

func jsonAnswer(code int, body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// The services, with the request format of their public documentation.
func fakeServices() []*fakeAPI {
	return []*fakeAPI{
		{
			// Slack incoming webhook: a JSON message with attachments.
			name: "slack",
			check: func(r *http.Request, body []byte) (string, error) {
				var m struct {
					Channel     string `json:"channel"`
					Attachments []struct {
						Title string `json:"title"`
						Text  string `json:"text"`
						Color string `json:"color"`
					} `json:"attachments"`
				}
				if err := decodeJSON(body, &m); err != nil || r.Method != http.MethodPost {
					return "", fmt.Errorf("not a JSON POST: %v", err)
				}
				if m.Channel != "#ops" || len(m.Attachments) != 1 || m.Attachments[0].Title == "" {
					return "", errors.New("want channel #ops and one titled attachment")
				}
				return firingOrResolved(m.Attachments[0].Title), nil
			},
			respond: func(w http.ResponseWriter) { _, _ = io.WriteString(w, "ok") },
		},
		{
			// PagerDuty Events API v2: POST /v2/enqueue.
			name: "pagerduty",
			check: func(r *http.Request, body []byte) (string, error) {
				var m map[string]any
				if err := decodeJSON(body, &m); err != nil || r.URL.Path != "/v2/enqueue" {
					return "", fmt.Errorf("want a JSON POST to /v2/enqueue: %v", err)
				}
				if err := requireFields(m, "routing_key", "event_action", "dedup_key"); err != nil {
					return "", err
				}
				if m["routing_key"] != "0123456789abcdef0123456789abcdef" {
					return "", errors.New("wrong routing_key")
				}
				switch m["event_action"] {
				case "trigger":
					p, _ := m["payload"].(map[string]any)
					if err := requireFields(p, "summary", "source", "severity"); err != nil {
						return "", fmt.Errorf("payload: %w", err)
					}
					return "firing", nil
				case "resolve":
					return "resolved", nil
				}
				return "", fmt.Errorf("event_action %v", m["event_action"])
			},
			respond: jsonAnswer(http.StatusAccepted, `{"status":"success","message":"Event processed","dedup_key":"x"}`),
		},
		{
			// Opsgenie Alert API: create at /v2/alerts, close at
			// /v2/alerts/{alias}/close, with a GenieKey.
			name: "opsgenie",
			check: func(r *http.Request, body []byte) (string, error) {
				if r.Header.Get("Authorization") != "GenieKey og-key-0123" {
					return "", errors.New("no GenieKey authorization")
				}
				var m map[string]any
				if err := decodeJSON(body, &m); err != nil {
					return "", err
				}
				switch {
				case r.URL.Path == "/v2/alerts":
					return "firing", requireFields(m, "message", "alias")
				case strings.HasPrefix(r.URL.Path, "/v2/alerts/") && strings.HasSuffix(r.URL.Path, "/close") && r.URL.Query().Get("identifierType") == "alias":
					return "resolved", nil
				}
				return "", errors.New("unknown endpoint")
			},
			respond: jsonAnswer(http.StatusAccepted, `{"result":"Request will be processed","took":0.01,"requestId":"43a29c5c-3dbf-4fa4-9c26-f4f71023e120"}`),
		},
		{
			// Microsoft Teams workflow webhook: a message with an
			// Adaptive Card attachment.
			name: "teams",
			check: func(r *http.Request, body []byte) (string, error) {
				var m struct {
					Type        string `json:"type"`
					Attachments []struct {
						ContentType string `json:"contentType"`
						Content     struct {
							Type string `json:"type"`
							Body []struct {
								Text string `json:"text"`
							} `json:"body"`
						} `json:"content"`
					} `json:"attachments"`
				}
				if err := decodeJSON(body, &m); err != nil {
					return "", err
				}
				if m.Type != "message" || len(m.Attachments) != 1 || m.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" || m.Attachments[0].Content.Type != "AdaptiveCard" || len(m.Attachments[0].Content.Body) == 0 {
					return "", errors.New("want a message with one Adaptive Card")
				}
				return firingOrResolved(m.Attachments[0].Content.Body[0].Text), nil
			},
			respond: func(w http.ResponseWriter) { w.WriteHeader(http.StatusAccepted) },
		},
		{
			// Telegram Bot API: POST /bot<token>/sendMessage.
			name: "telegram",
			check: func(r *http.Request, body []byte) (string, error) {
				if r.URL.Path != "/bot123456:telegram-token/sendMessage" {
					return "", errors.New("want /bot<token>/sendMessage")
				}
				var m map[string]any
				if err := decodeJSON(body, &m); err != nil {
					return "", err
				}
				if fmt.Sprint(m["chat_id"]) != "-1001234567890" {
					return "", fmt.Errorf("chat_id %v", m["chat_id"])
				}
				text, _ := m["text"].(string)
				return firingOrResolved(text), requireFields(m, "text")
			},
			respond: jsonAnswer(http.StatusOK, `{"ok":true,"result":{"message_id":7,"date":1763700000,"chat":{"id":-1001234567890,"type":"group","title":"ops"},"text":"sent"}}`),
		},
		{
			// Twilio Messages API: form POST with basic auth.
			name: "twilio",
			check: func(r *http.Request, body []byte) (string, error) {
				user, pass, ok := r.BasicAuth()
				if !ok || user != "AC0123456789abcdef0123456789abcdef" || pass != "twilio-auth-token" {
					return "", errors.New("wrong basic auth")
				}
				if r.URL.Path != "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
					return "", errors.New("want a form POST to the account's Messages.json")
				}
				v, err := url.ParseQuery(string(body))
				if err != nil {
					return "", err
				}
				if v.Get("To") != "+27820000001" || v.Get("From") != "+27110000000" || v.Get("Body") == "" {
					return "", errors.New("want To, From and Body")
				}
				return firingOrResolved(v.Get("Body")), nil
			},
			respond: jsonAnswer(http.StatusCreated, `{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}`),
		},
		{
			// A generic HTTP SMS gateway with a templated JSON request.
			name: "sms",
			check: func(r *http.Request, body []byte) (string, error) {
				if r.Header.Get("X-Api-Key") != "gateway-key" {
					return "", errors.New("no API key header")
				}
				var m struct{ To, Text string }
				if err := decodeJSON(body, &m); err != nil {
					return "", err
				}
				if m.To != "+27820000002" || m.Text == "" {
					return "", errors.New("want to and text")
				}
				return firingOrResolved(m.Text), nil
			},
			respond: func(w http.ResponseWriter) { _, _ = io.WriteString(w, `{"queued":true}`) },
		},
		{
			// Alertmanager's webhook format.
			name: "webhook",
			check: func(r *http.Request, body []byte) (string, error) {
				var m struct {
					Version string `json:"version"`
					Status  string `json:"status"`
					Alerts  []struct {
						Annotations map[string]string `json:"annotations"`
					} `json:"alerts"`
				}
				if err := decodeJSON(body, &m); err != nil {
					return "", err
				}
				if m.Version != "4" || len(m.Alerts) != 1 {
					return "", errors.New("want version 4 with one alert")
				}
				if m.Status == "firing" && !strings.Contains(m.Alerts[0].Annotations["incident_ack_url"], "/incidents/") {
					return "", errors.New("the firing notification has no incident ack link")
				}
				return m.Status, nil
			},
			respond: func(w http.ResponseWriter) {},
		},
	}
}

// smtpSink is a real SMTP server: STARTTLS is required before PLAIN
// authentication, and every message is kept.
type smtpSink struct {
	mu       sync.Mutex
	messages []string
	errs     []error
}

func (s *smtpSink) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &smtpSession{sink: s, conn: c}, nil
}

type smtpSession struct {
	sink   *smtpSink
	conn   *smtp.Conn
	authed bool
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if _, ok := s.conn.TLSConnectionState(); !ok {
			return errors.New("authentication before STARTTLS")
		}
		if user != "alerts@example.com" || pass != "smtp-password" {
			return errors.New("bad credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *smtpSession) Mail(string, *smtp.MailOptions) error {
	if !s.authed {
		return errors.New("authentication required")
	}
	return nil
}
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if to != "oncall@example.com" {
		return fmt.Errorf("unexpected recipient %s", to)
	}
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.sink.mu.Lock()
	defer s.sink.mu.Unlock()
	if err != nil {
		s.sink.errs = append(s.sink.errs, err)
		return err
	}
	s.sink.messages = append(s.sink.messages, string(b))
	return nil
}
func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }

func (s *smtpSink) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.messages))
	for i, m := range s.messages {
		subject := ""
		for line := range strings.SplitSeq(m, "\n") {
			if strings.HasPrefix(line, "Subject:") {
				subject = line
			}
		}
		out[i] = firingOrResolved(subject)
	}
	return out
}

func selfSignedTLS(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

func startSMTP(t *testing.T) (*smtpSink, string) {
	sink := &smtpSink{}
	s := smtp.NewServer(sink)
	s.Domain = "localhost"
	s.TLSConfig = selfSignedTLS(t)
	s.AllowInsecureAuth = false
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	return sink, l.Addr().String()
}

// startAlertmanager runs Debian's Alertmanager as the forward receiver's
// target.
func startAlertmanager(t *testing.T) string {
	bin := requireTool(t, "prometheus-alertmanager", "prometheus-alertmanager")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "am.yml")
	writeFile(t, cfg, "route: {receiver: none}\nreceivers: [{name: none}]\n")
	addr := freePort(t)
	startPeer(t, "alertmanager", bin, "--config.file="+cfg, "--storage.path="+dir, "--web.listen-address="+addr, "--cluster.listen-address=")
	eventually(t, 30*time.Second, "Debian's Alertmanager to be ready", func() bool {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return "http://" + addr
}

// cpuSeries is node_cpu_seconds_total{mode="idle"} of one CPU of host,
// with samples every step from start, the idle counter growing by
// idlePerSecond; it returns the series and the counter's last value.
func cpuSeries(host string, start time.Time, n int, step time.Duration, from, idlePerSecond float64) (prompb.TimeSeries, float64) {
	s := prompb.TimeSeries{Labels: []prompb.Label{
		{Name: "__name__", Value: "node_cpu_seconds_total"},
		{Name: "cpu", Value: "0"},
		{Name: "instance", Value: host},
		{Name: "job", Value: "node"},
		{Name: "mode", Value: "idle"},
	}}
	v := from
	for i := range n {
		if i > 0 {
			v += idlePerSecond * step.Seconds()
		}
		s.Samples = append(s.Samples, prompb.Sample{Timestamp: start.Add(time.Duration(i) * step).UnixMilli(), Value: v})
	}
	return s, v
}

type incidentJSON struct {
	ID          int64    `json:"id"`
	Title       string   `json:"title"`
	Status      string   `json:"status"`
	Host        string   `json:"host"`
	MTTRSeconds *float64 `json:"mttr_seconds"`
	Timeline    []struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	} `json:"timeline"`
}

func (p *proc) incidents(t *testing.T, query string) []incidentJSON {
	t.Helper()
	code, body := p.get("/api/v1/incidents?" + query)
	require.Equal(t, http.StatusOK, code, body)
	var r struct {
		Data struct {
			Incidents []incidentJSON `json:"incidents"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &r), body)
	return r.Data.Incidents
}

// TestAlertToReceiversAndIncident runs the whole path with the real
// binary: CPU samples over the threshold → HostHighCPU pending, then
// firing → one notification to each receiver, each checked against its
// service's format → an incident; the samples fall back → one resolved
// notification each and the incident resolved with its MTTR.
func TestAlertToReceiversAndIncident(t *testing.T) {
	fakes := fakeServices()
	urls := map[string]string{}
	for _, f := range fakes {
		srv := httptest.NewServer(f)
		t.Cleanup(srv.Close)
		urls[f.name] = srv.URL
	}
	mail, smtpAddr := startSMTP(t)
	external := startAlertmanager(t)

	dir := t.TempDir()
	cfg := filepath.Join(dir, "saypro-monitor.yml")
	writeFile(t, cfg, `
global:
  evaluation_interval: 1s
agent:
  enabled: false
builtin_rules:
  thresholds:
    cpu_for: 3s
alertmanager:
  silence_reminder: {before: 0s}
  config:
    route:
      receiver: oncall
      group_by: [alertname, instance]
      group_wait: 1s
      group_interval: 2s
      repeat_interval: 1h
    receivers:
      - name: oncall
        slack_configs:
          - api_url: `+urls["slack"]+`/services/T000/B000/XXXX
            channel: '#ops'
            send_resolved: true
        pagerduty_configs:
          - routing_key: 0123456789abcdef0123456789abcdef
            url: `+urls["pagerduty"]+`/v2/enqueue
        opsgenie_configs:
          - api_key: og-key-0123
            api_url: `+urls["opsgenie"]+`/
        msteamsv2_configs:
          - webhook_url: `+urls["teams"]+`/workflows/ops
        telegram_configs:
          - api_url: `+urls["telegram"]+`
            bot_token: '123456:telegram-token'
            chat_id: -1001234567890
        email_configs:
          - to: oncall@example.com
            from: alerts@example.com
            smarthost: `+smtpAddr+`
            auth_username: alerts@example.com
            auth_password: smtp-password
            require_tls: true
            tls_config: {insecure_skip_verify: true}
            send_resolved: true
        webhook_configs:
          - url: `+urls["webhook"]+`/hook
        twilio_configs:
          - api_url: `+urls["twilio"]+`
            account_sid: AC0123456789abcdef0123456789abcdef
            auth_token: twilio-auth-token
            from: "+27110000000"
            to: ["+27820000001"]
        sms_configs:
          - url: `+urls["sms"]+`/send
            headers: {X-Api-Key: gateway-key, Content-Type: application/json}
            body: '{"to":"{{ .To }}","text":{{ .Message | toJson }}}'
            to: ["+27820000002"]
        alertmanager_configs:
          - url: `+external+`
`)
	srv := startServer(t, t.TempDir(), "--config", cfg)

	// Calm history, older than the 5-minute rate window: the idle
	// counter grows one second per second. Nothing fires on it.
	now := time.Now()
	calm, idle := cpuSeries("web1", now.Add(-10*time.Minute), 18, 15*time.Second, 1000, 1)
	require.NoError(t, remoteWrite(t, srv.URL, testToken, []prompb.TimeSeries{calm}))
	time.Sleep(3 * time.Second)
	code, body := srv.get("/api/v1/alerts")
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, body, "HostHighCPU", "nothing fires before the hot samples")

	// Hot, filling the rate window up to now: the idle counter stops,
	// the CPU is 100 % busy.
	hot, _ := cpuSeries("web1", now.Add(-5*time.Minute-15*time.Second), 22, 15*time.Second, idle, 0)
	require.NoError(t, remoteWrite(t, srv.URL, testToken, []prompb.TimeSeries{hot}))
	stop := make(chan struct{})
	var writer sync.WaitGroup
	rate := 0.0
	var rateMu sync.Mutex
	writer.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
			rateMu.Lock()
			idle += rate
			v := idle
			rateMu.Unlock()
			s := prompb.TimeSeries{Labels: hot.Labels, Samples: []prompb.Sample{{Timestamp: time.Now().UnixMilli(), Value: v}}}
			if err := remoteWrite(t, srv.URL, testToken, []prompb.TimeSeries{s}); err != nil {
				t.Errorf("writing a sample: %v", err)
			}
		}
	})
	t.Cleanup(func() { close(stop); writer.Wait() })

	alertState := func() string {
		_, body := srv.get("/api/v1/alerts")
		var r struct {
			Data struct {
				Alerts []struct {
					Labels map[string]string `json:"labels"`
					State  string            `json:"state"`
				} `json:"alerts"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &r))
		for _, a := range r.Data.Alerts {
			if a.Labels["alertname"] == "HostHighCPU" && a.Labels["instance"] == "web1" {
				return a.State
			}
		}
		return ""
	}
	eventually(t, 20*time.Second, "HostHighCPU pending", func() bool { return alertState() == "pending" })
	eventually(t, 20*time.Second, "HostHighCPU firing", func() bool { return alertState() == "firing" })

	receiversGot := func(want []string) func() bool {
		return func() bool {
			for _, f := range fakes {
				got, _ := f.got()
				if len(got) < len(want) {
					return false
				}
			}
			return len(mail.got()) >= len(want)
		}
	}
	eventually(t, 30*time.Second, "a notification at every receiver", receiversGot([]string{"firing"}))
	time.Sleep(5 * time.Second) // two more group intervals: nothing is sent twice

	inc := srv.incidents(t, "status=open")
	require.Len(t, inc, 1)
	require.Contains(t, inc[0].Title, "HostHighCPU")
	require.Equal(t, "web1", inc[0].Host)

	// The forwarded alert reached the other Alertmanager.
	resp, err := http.Get(external + "/api/v2/alerts?filter=alertname%3D%22HostHighCPU%22")
	require.NoError(t, err)
	fw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(fw), `"instance":"web1"`)

	// Calm again: the idle counter grows at full speed; once calm samples
	// fill enough of the window the alert resolves.
	rateMu.Lock()
	rate = 1
	rateMu.Unlock()
	eventually(t, 120*time.Second, "HostHighCPU resolved", func() bool { return alertState() == "" })
	eventually(t, 30*time.Second, "a resolved notification at every receiver", receiversGot([]string{"firing", "resolved"}))
	time.Sleep(3 * time.Second)

	for _, f := range fakes {
		got, errs := f.got()
		require.Empty(t, errs, "%s received requests in the wrong format", f.name)
		require.Equal(t, []string{"firing", "resolved"}, got, "%s: exactly one firing and one resolved notification", f.name)
	}
	require.Equal(t, []string{"firing", "resolved"}, mail.got(), "email: one firing and one resolved message over STARTTLS with auth")

	all := srv.incidents(t, "")
	require.Len(t, all, 1)
	code, body = srv.get(fmt.Sprintf("/api/v1/incidents/%d", all[0].ID))
	require.Equal(t, http.StatusOK, code)
	var one struct {
		Data incidentJSON `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &one))
	require.Equal(t, "resolved", one.Data.Status, body)
	require.NotNil(t, one.Data.MTTRSeconds)
	require.Greater(t, *one.Data.MTTRSeconds, 0.0)
	sent := 0
	for _, e := range one.Data.Timeline {
		if strings.Contains(e.Message, "sent") {
			sent++
		}
	}
	require.GreaterOrEqual(t, sent, 10*2, "every receiver's notifications are on the timeline:\n%s", body)
}

// TestSilencesMaintenanceAndAmtool drives the Alertmanager API v2 with
// Debian's amtool: it adds alerts and a silence, and lists them; a silence
// and a maintenance window each keep a notification from going out while
// an alert outside both is delivered.
func TestSilencesMaintenanceAndAmtool(t *testing.T) {
	amtool := requireTool(t, "amtool", "prometheus-alertmanager")
	var mu sync.Mutex
	var got []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
			} `json:"alerts"`
		}
		_ = json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		for _, a := range m.Alerts {
			got = append(got, a.Labels["instance"])
		}
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	start := time.Now().Add(-10 * time.Minute)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "saypro-monitor.yml")
	writeFile(t, cfg, fmt.Sprintf(`
agent:
  enabled: false
alertmanager:
  maintenance_windows:
    - name: db-patching
      matchers: ['instance="db1"']
      every: day
      start: "%02d:%02d"
      duration: 1h
  config:
    route:
      receiver: hook
      group_by: [instance]
      group_wait: 1s
      group_interval: 2s
    receivers:
      - name: hook
        webhook_configs: [{url: %s}]
`, start.Hour(), start.Minute(), hook.URL))
	dataDir := t.TempDir()
	srv := startServer(t, dataDir, "--config", cfg)
	am := "--alertmanager.url=" + srv.URL

	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(amtool, append([]string{am, "--http.config.file=" + srv.httpConfig(t)}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		require.NoError(t, err, "amtool %s: %s%s", strings.Join(args, " "), out, stderr.String())
		return string(out)
	}
	id := strings.TrimSpace(run("silence", "add", "instance=web2", "--author=e2e", "--comment=deploying web2", "--duration=1h"))
	require.NotEmpty(t, id)
	require.Contains(t, run("silence", "query"), "deploying web2")

	eventually(t, 10*time.Second, "the maintenance window's silence", func() bool {
		return strings.Contains(run("silence", "query", "-o", "extended"), "db-patching")
	})

	for _, host := range []string{"web2", "db1", "web3"} {
		run("alert", "add", "alertname=HostDown", "instance="+host, "severity=critical", "--annotation=summary="+host+" is down")
	}
	out := run("alert", "query", "alertname=HostDown")
	for _, host := range []string{"web3"} {
		require.Contains(t, out, host)
	}
	eventually(t, 10*time.Second, "the notification for web3", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0
	})
	time.Sleep(4 * time.Second)
	mu.Lock()
	require.Equal(t, []string{"web3"}, got, "the silenced web2 and db1 in its maintenance window send nothing")
	mu.Unlock()

	silenced := run("alert", "query", "--silenced", "alertname=HostDown")
	require.Contains(t, silenced, "web2")
	require.Contains(t, silenced, "db1")

	// Only web3 opened an incident.
	inc := srv.incidents(t, "")
	require.Len(t, inc, 1)
	require.Equal(t, "web3", inc[0].Host)

	// The silence survives a restart.
	require.NoError(t, srv.signal(syscall.SIGTERM))
	srv2 := startServer(t, dataDir, "--config", cfg)
	out2, err := exec.Command(amtool, "--alertmanager.url="+srv2.URL, "--http.config.file="+srv2.httpConfig(t), "silence", "query", "-q").Output()
	require.NoError(t, err, string(out2))
	require.Contains(t, string(out2), id)

	// Ack the incident by API; the ack link's GET only shows a page.
	code, body := srv2.get(fmt.Sprintf("/api/v1/incidents/%d", inc[0].ID))
	require.Equal(t, http.StatusOK, code, body)
	resp, err := http.Post(fmt.Sprintf("%s/api/v1/incidents/%d/ack", srv2.URL, inc[0].ID), "application/json", bytes.NewReader([]byte(`{"by":"alice"}`)))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Len(t, srv2.incidents(t, "status=acknowledged"), 1)
}
