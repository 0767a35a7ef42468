package twilio

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/notify"
	commoncfg "github.com/prometheus/common/config"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/alertmanager/notifytest"
	"github.com/saypro/monitor/internal/config/notifyconfig"
)

const (
	accountSID = "AC00000000000000000000000000000001"
	authToken  = "tok-s3cr3t-value"
)

// request is what the fake Twilio received.
type request struct {
	path, user, pass, contentType string
	form                          url.Values
}

// fakeTwilio answers like Twilio's Messages API: 201 with the message
// resource, or the status in answers[To] with a Twilio error body.
type fakeTwilio struct {
	mu       sync.Mutex
	requests []request
	answers  map[string]int
}

func (f *fakeTwilio) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, pass, _ := r.BasicAuth()
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, request{r.URL.Path, user, pass, r.Header.Get("Content-Type"), r.PostForm})
	status := f.answers[r.PostForm.Get("To")]
	f.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	switch {
	case user != accountSID || pass != authToken:
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}`)
	case status == 0 || status == http.StatusCreated:
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid": "SM%032d", "status": "queued", "to": %q, "body": %q, "error_code": null}`,
			len(f.requests), r.PostForm.Get("To"), r.PostForm.Get("Body"))
	case status == http.StatusBadRequest:
		w.WriteHeader(status)
		fmt.Fprint(w, `{"code": 21211, "message": "The 'To' number is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}`)
	case status == http.StatusTooManyRequests:
		w.WriteHeader(status)
		fmt.Fprint(w, `{"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429}`)
	default:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		fmt.Fprint(w, "<html>upstream trouble</html>")
	}
}

func (f *fakeTwilio) received() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.requests...)
}

func config(apiURL string, to ...string) *notifyconfig.TwilioConfig {
	c := notifyconfig.DefaultTwilioConfig
	c.APIURL = apiURL
	c.AccountSID = accountSID
	c.AuthToken = commoncfg.Secret(authToken)
	c.From = "+27110000000"
	c.To = to
	return &c
}

func newNotifier(t *testing.T, c *notifyconfig.TwilioConfig, logs *bytes.Buffer) *Notifier {
	t.Helper()
	l := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	n, err := New(c, notifytest.Template(t), l)
	require.NoError(t, err)
	return n
}

func TestPayload(t *testing.T) {
	fake := &fakeTwilio{}
	srv := httptest.NewServer(fake)
	defer srv.Close()

	for _, tc := range []struct {
		name   string
		modify func(c *notifyconfig.TwilioConfig)
		check  func(t *testing.T, r request)
	}{
		{
			name: "from",
			check: func(t *testing.T, r request) {
				require.Equal(t, "+27110000000", r.form.Get("From"))
				require.NotContains(t, r.form, "MessagingServiceSid")
			},
		},
		{
			name: "messaging service",
			modify: func(c *notifyconfig.TwilioConfig) {
				c.From = ""
				c.MessagingServiceSID = "MG00000000000000000000000000000001"
			},
			check: func(t *testing.T, r request) {
				require.Equal(t, "MG00000000000000000000000000000001", r.form.Get("MessagingServiceSid"))
				require.NotContains(t, r.form, "From")
			},
		},
		{
			name: "token from file",
			modify: func(c *notifyconfig.TwilioConfig) {
				c.AuthToken = ""
				c.AuthTokenFile = filepath.Join(t.TempDir(), "token")
				require.NoError(t, os.WriteFile(c.AuthTokenFile, []byte(authToken+"\n"), 0o600))
			},
			check: func(t *testing.T, r request) {
				require.Equal(t, authToken, r.pass)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake.requests = nil
			c := config(srv.URL+"/", "+27820000001", "+27820000002")
			if tc.modify != nil {
				tc.modify(c)
			}
			var logs bytes.Buffer
			n := newNotifier(t, c, &logs)
			retry, err := n.Notify(notifytest.Context(time.Now()), notifytest.Firing("web1", "CPU above 85% for 10m"))
			require.NoError(t, err)
			require.False(t, retry)

			reqs := fake.received()
			require.Len(t, reqs, 2, "one message per recipient")
			for i, r := range reqs {
				require.Equal(t, "/2010-04-01/Accounts/"+accountSID+"/Messages.json", r.path)
				require.Equal(t, accountSID, r.user)
				require.Equal(t, authToken, r.pass)
				require.Equal(t, "application/x-www-form-urlencoded", r.contentType)
				require.Equal(t, c.To[i], r.form.Get("To"))
				require.Equal(t, "[FIRING:1] HostHighCPU web1 - CPU above 85% for 10m", r.form.Get("Body"))
				tc.check(t, r)
			}
			require.Contains(t, logs.String(), "sid=SM", "the message SID is logged")
			require.NotContains(t, logs.String(), authToken)
		})
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		token     string
		retry     bool
		reason    notify.Reason
		errSubstr string
	}{
		{
			name: "bad number", status: http.StatusBadRequest, retry: false, reason: notify.ClientErrorReason,
			errSubstr: "to +27820000001: HTTP 400: Twilio error 21211: The 'To' number is not a valid phone number. (https://www.twilio.com/docs/errors/21211)",
		},
		{
			name: "bad token", token: "wrong-" + authToken, retry: false, reason: notify.AuthErrorReason,
			errSubstr: "HTTP 401: Twilio error 20003: Authenticate",
		},
		{
			name: "rate limited", status: http.StatusTooManyRequests, retry: true, reason: notify.RateLimitedReason,
			errSubstr: "HTTP 429: Twilio error 20429",
		},
		{
			name: "server error", status: http.StatusInternalServerError, retry: true, reason: notify.ServerErrorReason,
			errSubstr: "HTTP 500: <html>upstream trouble</html>",
		},
		{
			name: "bad gateway", status: http.StatusBadGateway, retry: true, reason: notify.ServerErrorReason,
			errSubstr: "HTTP 502",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeTwilio{answers: map[string]int{"+27820000001": tc.status}}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			c := config(srv.URL, "+27820000001")
			if tc.token != "" {
				c.AuthToken = commoncfg.Secret(tc.token)
			}
			var logs bytes.Buffer
			n := newNotifier(t, c, &logs)
			retry, err := n.Notify(notifytest.Context(time.Now()), notifytest.Firing("web1", "cpu"))
			require.Error(t, err)
			require.Equal(t, tc.retry, retry)
			require.ErrorContains(t, err, "twilio: 1 of 1 recipients failed: ")
			require.ErrorContains(t, err, tc.errSubstr)
			var ewr *notify.ErrorWithReason
			require.ErrorAs(t, err, &ewr)
			require.Equal(t, tc.reason, ewr.Reason)
			require.NotContains(t, err.Error(), authToken)
			require.NotContains(t, logs.String(), authToken)
		})
	}
}

// One recipient failing does not stop the others, and Alertmanager's retry
// of the same flush goes only to the recipients not served yet.
func TestPartialFailureAndRetry(t *testing.T) {
	fake := &fakeTwilio{answers: map[string]int{"+27820000002": http.StatusServiceUnavailable}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	var logs bytes.Buffer
	n := newNotifier(t, config(srv.URL, "+27820000001", "+27820000002", "+27820000003"), &logs)
	ctx := notifytest.Context(time.Now())
	a := notifytest.Firing("web1", "cpu")

	retry, err := n.Notify(ctx, a)
	require.True(t, retry)
	require.ErrorContains(t, err, "twilio: 1 of 3 recipients failed: to +27820000002: HTTP 503")
	require.NotContains(t, err.Error(), "+27820000001")
	require.Equal(t, []string{"+27820000001", "+27820000002", "+27820000003"}, toNumbers(fake.received()))

	// Twilio recovers; the retry of this flush texts only the one missed.
	fake.mu.Lock()
	fake.requests, fake.answers = nil, nil
	fake.mu.Unlock()
	retry, err = n.Notify(ctx, a)
	require.NoError(t, err)
	require.False(t, retry)
	require.Equal(t, []string{"+27820000002"}, toNumbers(fake.received()))

	// The next flush (a repeat) is a new notification for everybody.
	fake.requests = nil
	_, err = n.Notify(notifytest.Context(time.Now().Add(time.Minute)), a)
	require.NoError(t, err)
	require.Len(t, fake.received(), 3)
}

// A permanent failure of one recipient is reported even when another's
// retryable failure is retried.
func TestMixedFailures(t *testing.T) {
	fake := &fakeTwilio{answers: map[string]int{"+1": http.StatusBadRequest, "+2": http.StatusInternalServerError}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	var logs bytes.Buffer
	n := newNotifier(t, config(srv.URL, "+1", "+2", "+3"), &logs)
	ctx := notifytest.Context(time.Now())

	retry, err := n.Notify(ctx, notifytest.Firing("web1", "cpu"))
	require.True(t, retry, "+2 can succeed later")
	require.ErrorContains(t, err, "2 of 3 recipients failed: to +1: HTTP 400")
	require.ErrorContains(t, err, "; to +2: HTTP 500")
	var ewr *notify.ErrorWithReason
	require.ErrorAs(t, err, &ewr)
	require.Equal(t, notify.ServerErrorReason, ewr.Reason)

	fake.answers = map[string]int{"+1": http.StatusBadRequest}
	retry, err = n.Notify(ctx, notifytest.Firing("web1", "cpu"))
	require.False(t, retry, "only the permanent failure is left")
	require.ErrorContains(t, err, "1 of 3 recipients failed: to +1: HTTP 400")
}

func TestContextCanceled(t *testing.T) {
	release := make(chan struct{})
	var calls int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	var logs bytes.Buffer
	n := newNotifier(t, config(srv.URL, "+1", "+2"), &logs)
	ctx, cancel := context.WithTimeout(notifytest.Context(time.Now()), 100*time.Millisecond)
	defer cancel()
	retry, err := n.Notify(ctx, notifytest.Firing("web1", "cpu"))
	require.True(t, retry)
	require.ErrorContains(t, err, "2 of 2 recipients failed")
	var ewr *notify.ErrorWithReason
	require.ErrorAs(t, err, &ewr)
	require.Equal(t, notify.ContextDeadlineExceededReason, ewr.Reason)
	// notify.ErrorWithReason has no Unwrap; its Err wraps each failure.
	require.ErrorIs(t, ewr.Err, context.DeadlineExceeded)
	mu.Lock()
	require.Equal(t, 1, calls, "no request after the deadline")
	mu.Unlock()
	require.NotContains(t, err.Error(), authToken)
}

func TestTruncation(t *testing.T) {
	fake := &fakeTwilio{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c := config(srv.URL, "+1")
	c.Message = `{{ range .Alerts }}{{ .Annotations.summary }}{{ end }}`
	var logs bytes.Buffer
	n := newNotifier(t, c, &logs)

	long := strings.Repeat("é", 2000)
	_, err := n.Notify(notifytest.Context(time.Now()), notifytest.Firing("web1", long))
	require.NoError(t, err)
	body := fake.received()[0].form.Get("Body")
	require.Equal(t, MaxBodyRunes, utf8.RuneCountInString(body))
	require.True(t, strings.HasSuffix(body, "…"))
	require.Contains(t, logs.String(), "truncated sms")
}

func TestRenderErrors(t *testing.T) {
	for _, tc := range []struct {
		name, message, err string
	}{
		{"empty", `{{ "" }}`, "the message is empty after rendering"},
		{"undefined template", `{{ template "nope" . }}`, `render message`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config("http://127.0.0.1:1", "+1")
			c.Message = tc.message
			var logs bytes.Buffer
			retry, err := newNotifier(t, c, &logs).Notify(notifytest.Context(time.Now()), notifytest.Firing("web1", "cpu"))
			require.False(t, retry)
			require.ErrorContains(t, err, tc.err)
		})
	}
}

func TestNetworkErrorRedactsURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens any more
	var logs bytes.Buffer
	n := newNotifier(t, config(srv.URL, "+1"), &logs)
	retry, err := n.Notify(notifytest.Context(time.Now()), notifytest.Firing("web1", "cpu"))
	require.True(t, retry)
	require.ErrorContains(t, err, "<redacted>")
	require.NotContains(t, err.Error(), srv.URL)
	var ewr *notify.ErrorWithReason
	require.ErrorAs(t, err, &ewr)
	var ue *url.Error
	require.ErrorAs(t, ewr.Err, &ue)
}

func TestSendResolved(t *testing.T) {
	c := config("http://127.0.0.1:1", "+1")
	var logs bytes.Buffer
	require.True(t, newNotifier(t, c, &logs).SendResolved())
	c.VSendResolved = false
	require.False(t, newNotifier(t, c, &logs).SendResolved())
}

func toNumbers(reqs []request) []string {
	var to []string
	for _, r := range reqs {
		to = append(to, r.form.Get("To"))
	}
	return to
}
