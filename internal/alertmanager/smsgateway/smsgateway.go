// Package smsgateway sends Alertmanager notifications as SMS through any
// HTTP SMS gateway: the request's URL, header values and body are templates,
// and one request is made per recipient.
//
// # Template data
//
// The message template is executed first, against Alertmanager's
// template.Data, and truncated to max_length runes ("…" marks the cut).
// URL, header values and body are then executed against Data: the same
// template.Data (so .Status, .Alerts, .CommonLabels … work) plus .To, the
// recipient, and .Message, the rendered message. Alertmanager's template
// functions are available, among them toJson (a JSON-quoted string, for a
// JSON body: {"text": {{ .Message | toJson }}}), and Go's own, among them
// urlquery (for a query string: ?to={{ .To | urlquery }}). The routeLabels
// function returns "" in URL, headers and body; .RouteLabels.name works.
//
// # Retries and partial failure
//
// A 2xx answer is success; 429 and 5xx answers and network errors are
// retried; any other answer is not. Errors carry the first 512 bytes of the
// answer. Every recipient is tried even when an earlier one fails, and the
// error names each that failed; Alertmanager's retries of one flush skip
// recipients the gateway already accepted (package recipients).
package smsgateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/template"
	commoncfg "github.com/prometheus/common/config"
	"golang.org/x/net/http/httpguts"

	"github.com/saypro/monitor/internal/alertmanager/recipients"
	"github.com/saypro/monitor/internal/config/notifyconfig"
)

// maxErrorBody is how much of an unexpected answer goes into an error.
const maxErrorBody = 512

var (
	_ notify.Notifier       = (*Notifier)(nil)
	_ notify.ResolvedSender = (*Notifier)(nil)
)

// Data is what URL, header and body templates are executed against.
type Data struct {
	*template.Data

	// To is the recipient of this request.
	To string
	// Message is the rendered (and possibly truncated) message.
	Message string
}

// Notifier sends SMS through an HTTP gateway.
type Notifier struct {
	conf   *notifyconfig.SMSConfig
	tmpl   *template.Template
	logger *slog.Logger
	client *http.Client
	sent   *recipients.Log
}

// New returns a Notifier for c. t renders the templates; l receives the
// Notifier's logs. A nil c.HTTPConfig takes the default and an empty
// c.Method is POST.
func New(c *notifyconfig.SMSConfig, t *template.Template, l *slog.Logger, httpOpts ...commoncfg.HTTPClientOption) (*Notifier, error) {
	hc := commoncfg.DefaultHTTPClientConfig
	if c.HTTPConfig != nil {
		hc = *c.HTTPConfig
	}
	client, err := notify.NewClientWithTracing(hc, "sms", httpOpts...)
	if err != nil {
		return nil, err
	}
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &Notifier{conf: c, tmpl: t, logger: l, client: client, sent: recipients.NewLog()}, nil
}

// SendResolved implements notify.ResolvedSender.
func (n *Notifier) SendResolved() bool { return n.conf.SendResolved() }

// Notify implements notify.Notifier: one request per recipient that has not
// received the message yet in this flush.
func (n *Notifier) Notify(ctx context.Context, alerts ...*alert.Alert) (bool, error) {
	key, err := notify.ExtractGroupKey(ctx)
	if err != nil {
		return false, err
	}
	logger := n.logger.With("group_key", key)

	r, err := recipients.Render(ctx, n.tmpl, n.conf.Message, alerts, n.conf.MaxLength, logger)
	if err != nil {
		return false, fmt.Errorf("sms: %w", err)
	}
	if r.Truncated {
		logger.Debug("truncated sms", "max_length", n.conf.MaxLength)
	}

	return n.sent.Send(ctx, "sms", key, r.Message, n.conf.To, logger, func(to string) *recipients.Failure {
		return n.send(ctx, &Data{Data: r.Data, To: to, Message: r.Message})
	})
}

// request renders the request for one recipient. Its errors never quote
// the URL or a header value, which may hold secrets.
func (n *Notifier) request(ctx context.Context, d *Data) (*http.Request, error) {
	rawURL, err := n.tmpl.ExecuteTextString(string(n.conf.URL), d)
	if err != nil {
		return nil, fmt.Errorf("render url: %w", err)
	}
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return nil, fmt.Errorf("rendered url does not parse: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("rendered url is not an absolute http(s) URL")
	}
	body, err := n.tmpl.ExecuteTextString(n.conf.Body, d)
	if err != nil {
		return nil, fmt.Errorf("render body: %w", err)
	}
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	method := n.conf.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), r)
	if err != nil {
		return nil, notify.RedactURL(err)
	}
	req.Header.Set("User-Agent", notify.UserAgentHeader)
	for name, value := range n.conf.Headers {
		v, err := n.tmpl.ExecuteTextString(string(value), d)
		if err != nil {
			return nil, fmt.Errorf("render header %s: %w", name, err)
		}
		if !httpguts.ValidHeaderFieldValue(v) {
			return nil, fmt.Errorf("header %s renders to an invalid value", name)
		}
		if http.CanonicalHeaderKey(name) == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(name, v)
	}
	return req, nil
}

func (n *Notifier) send(ctx context.Context, d *Data) *recipients.Failure {
	req, err := n.request(ctx, d)
	if err != nil {
		return &recipients.Failure{Err: err}
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return recipients.RequestFailed(ctx, err)
	}
	defer notify.Drain(resp)
	if resp.StatusCode/100 == 2 {
		return nil
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	msg := fmt.Sprintf("HTTP %d", resp.StatusCode)
	if s := strings.TrimSpace(string(raw)); s != "" {
		msg += ": " + s
	}
	return recipients.StatusFailed(resp.StatusCode, errors.New(msg))
}
