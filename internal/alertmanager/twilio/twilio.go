// Package twilio sends Alertmanager notifications as SMS through Twilio's
// Messages API (POST /2010-04-01/Accounts/{AccountSid}/Messages.json), one
// message per recipient.
//
// A Notifier implements Alertmanager's notify.Notifier and
// notify.ResolvedSender, so it can be appended to a receiver's
// integrations.
//
// # Retries and partial failure
//
// Recipients are served as package recipients describes: every one is
// tried, Notify asks for a retry when any failure is retryable (a network
// error, HTTP 429 or 5xx; other 4xx answers such as a wrong number or a bad
// token are not), and Alertmanager's retries of one flush skip the
// recipients Twilio already accepted. Recipients that failed with a
// non-retryable error are tried again on a retry caused by another
// recipient; they fail again and the last error reports them.
package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/template"
	commoncfg "github.com/prometheus/common/config"

	"github.com/saypro/monitor/internal/alertmanager/recipients"
	"github.com/saypro/monitor/internal/config/notifyconfig"
)

// MaxBodyRunes is the longest message body Twilio accepts, in characters;
// longer messages are truncated with "…".
const MaxBodyRunes = 1600

// maxErrorBody is how much of an unexpected response goes into an error.
const maxErrorBody = 512

var (
	_ notify.Notifier       = (*Notifier)(nil)
	_ notify.ResolvedSender = (*Notifier)(nil)
)

// Notifier sends SMS through Twilio.
type Notifier struct {
	conf     *notifyconfig.TwilioConfig
	tmpl     *template.Template
	logger   *slog.Logger
	client   *http.Client
	endpoint string
	sent     *recipients.Log
}

// New returns a Notifier for c. t renders the message; l receives the
// Notifier's logs. A nil c.HTTPConfig or an empty c.APIURL take the
// defaults.
func New(c *notifyconfig.TwilioConfig, t *template.Template, l *slog.Logger, httpOpts ...commoncfg.HTTPClientOption) (*Notifier, error) {
	hc := commoncfg.DefaultHTTPClientConfig
	if c.HTTPConfig != nil {
		hc = *c.HTTPConfig
	}
	client, err := notify.NewClientWithTracing(hc, "twilio", httpOpts...)
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(c.APIURL, "/")
	if base == "" {
		base = notifyconfig.DefaultTwilioAPIURL
	}
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &Notifier{
		conf:     c,
		tmpl:     t,
		logger:   l,
		client:   client,
		endpoint: base + "/2010-04-01/Accounts/" + url.PathEscape(c.AccountSID) + "/Messages.json",
		sent:     recipients.NewLog(),
	}, nil
}

// SendResolved implements notify.ResolvedSender.
func (n *Notifier) SendResolved() bool { return n.conf.SendResolved() }

// Notify implements notify.Notifier: it sends the rendered message to every
// recipient that has not received it yet in this flush.
func (n *Notifier) Notify(ctx context.Context, alerts ...*alert.Alert) (bool, error) {
	key, err := notify.ExtractGroupKey(ctx)
	if err != nil {
		return false, err
	}
	logger := n.logger.With("group_key", key)

	r, err := recipients.Render(ctx, n.tmpl, n.conf.Message, alerts, MaxBodyRunes, logger)
	if err != nil {
		return false, fmt.Errorf("twilio: %w", err)
	}
	body := r.Message
	if r.Truncated {
		logger.Warn("truncated sms", "max_runes", MaxBodyRunes)
	}

	token, err := n.authToken()
	if err != nil {
		return false, fmt.Errorf("twilio: %w", err)
	}

	return n.sent.Send(ctx, "twilio", key, body, n.conf.To, logger, func(to string) *recipients.Failure {
		return n.send(ctx, logger, token, to, body)
	})
}

func (n *Notifier) authToken() (string, error) {
	if n.conf.AuthTokenFile == "" {
		return string(n.conf.AuthToken), nil
	}
	b, err := os.ReadFile(n.conf.AuthTokenFile)
	if err != nil {
		return "", fmt.Errorf("read auth_token_file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// apiError is the body of a Twilio error answer.
type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// send creates one message.
func (n *Notifier) send(ctx context.Context, logger *slog.Logger, token, to, body string) *recipients.Failure {
	form := url.Values{}
	form.Set("To", to)
	if n.conf.From != "" {
		form.Set("From", n.conf.From)
	}
	if n.conf.MessagingServiceSID != "" {
		form.Set("MessagingServiceSid", n.conf.MessagingServiceSID)
	}
	form.Set("Body", body)

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return &recipients.Failure{Err: notify.RedactURL(err)}
	}
	req.SetBasicAuth(n.conf.AccountSID, token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", notify.UserAgentHeader)

	resp, err := n.client.Do(req)
	if err != nil {
		return recipients.RequestFailed(ctx, err)
	}
	defer notify.Drain(resp)
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))

	if resp.StatusCode/100 == 2 {
		var ok struct {
			SID string `json:"sid"`
		}
		_ = json.Unmarshal(raw, &ok) // the SID is only logged
		logger.Debug("twilio accepted the message", "to", to, "sid", ok.SID)
		return nil
	}
	var ae apiError
	if json.Unmarshal(raw, &ae) == nil && (ae.Code != 0 || ae.Message != "") {
		msg := fmt.Sprintf("HTTP %d: Twilio error %d: %s", resp.StatusCode, ae.Code, ae.Message)
		if ae.MoreInfo != "" {
			msg += " (" + ae.MoreInfo + ")"
		}
		return recipients.StatusFailed(resp.StatusCode, errors.New(msg))
	}
	return recipients.StatusFailed(resp.StatusCode, fmt.Errorf("HTTP %d: %s", resp.StatusCode, truncateBytes(raw, maxErrorBody)))
}

func truncateBytes(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s, _ = notify.TruncateInBytes(s, n)
	}
	return s
}
