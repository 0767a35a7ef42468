// Package forward sends the alerts of a notification on to another
// Alertmanager, through its API v2: POST <url>/api/v2/alerts with a JSON
// array of postable alerts (labels, annotations, startsAt, endsAt,
// generatorURL).
//
// # End times
//
// Resolved alerts keep their endsAt, so the other Alertmanager resolves
// them. A firing alert is only sent again when its group is notified again:
// at the latest after the route's repeat_interval (plus a group_interval).
// Left with the short endsAt Alertmanager keeps internally, the other
// Alertmanager would resolve it in between. So a firing alert is sent with
// endsAt = now + repeat_interval + FiringGrace, or its own endsAt if that is
// later. With send_resolved: false, the other Alertmanager therefore
// resolves an alert up to that long after it really ended.
//
// # Retries
//
// A 2xx answer is success; 5xx answers and network errors are retried; 4xx
// answers are not, and the error carries the first 512 bytes of the answer.
// The request holds every alert of the group, and the other Alertmanager
// merges alerts it already has, so a retry is harmless.
package forward

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/template"
	commoncfg "github.com/prometheus/common/config"

	"github.com/saypro/monitor/internal/config/notifyconfig"
)

// FiringGrace is added to the repeat interval to make the endsAt of a
// firing alert; it covers the wait for the group's next flush.
const FiringGrace = 15 * time.Minute

// alertsPath is where Alertmanager's API v2 takes alerts.
const alertsPath = "/api/v2/alerts"

// maxErrorBody is how much of an unexpected answer goes into an error.
const maxErrorBody = 512

var (
	_ notify.Notifier       = (*Notifier)(nil)
	_ notify.ResolvedSender = (*Notifier)(nil)
)

// Notifier forwards alerts to another Alertmanager.
type Notifier struct {
	conf     *notifyconfig.ForwardConfig
	logger   *slog.Logger
	client   *http.Client
	endpoint string
	retrier  *notify.Retrier
}

// New returns a Notifier for c; l receives its logs. A nil c.HTTPConfig
// takes the default. t is not used (alerts are forwarded as they are); it
// is there so that every notifier of this module is built alike.
func New(c *notifyconfig.ForwardConfig, t *template.Template, l *slog.Logger, httpOpts ...commoncfg.HTTPClientOption) (*Notifier, error) {
	hc := commoncfg.DefaultHTTPClientConfig
	if c.HTTPConfig != nil {
		hc = *c.HTTPConfig
	}
	client, err := notify.NewClientWithTracing(hc, "alertmanager", httpOpts...)
	if err != nil {
		return nil, err
	}
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &Notifier{
		conf:     c,
		logger:   l,
		client:   client,
		endpoint: strings.TrimRight(c.URL, "/") + alertsPath,
		retrier: &notify.Retrier{
			CustomDetailsFunc: func(_ int, body io.Reader) string {
				b, _ := io.ReadAll(io.LimitReader(body, maxErrorBody))
				return strings.TrimSpace(string(b))
			},
		},
	}, nil
}

// SendResolved implements notify.ResolvedSender.
func (n *Notifier) SendResolved() bool { return n.conf.SendResolved() }

// postableAlert is one element of the body of POST /api/v2/alerts.
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     *time.Time        `json:"startsAt,omitempty"`
	EndsAt       *time.Time        `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Notify implements notify.Notifier.
func (n *Notifier) Notify(ctx context.Context, alerts ...*alert.Alert) (bool, error) {
	key, err := notify.ExtractGroupKey(ctx)
	if err != nil {
		return false, err
	}
	logger := n.logger.With("group_key", key)

	now, ok := notify.Now(ctx)
	if !ok {
		now = time.Now()
	}
	repeat, hasRepeat := notify.RepeatInterval(ctx)

	payload := make([]postableAlert, 0, len(alerts))
	for _, a := range alerts {
		p := postableAlert{
			Labels:       make(map[string]string, len(a.Labels)),
			GeneratorURL: a.GeneratorURL,
		}
		for k, v := range a.Labels {
			p.Labels[string(k)] = string(v)
		}
		if len(a.Annotations) > 0 {
			p.Annotations = make(map[string]string, len(a.Annotations))
			for k, v := range a.Annotations {
				p.Annotations[string(k)] = string(v)
			}
		}
		if !a.StartsAt.IsZero() {
			p.StartsAt = &a.StartsAt
		}
		endsAt := a.EndsAt
		if !a.ResolvedAt(now) && hasRepeat {
			if hold := now.Add(repeat + FiringGrace); hold.After(endsAt) {
				endsAt = hold
			}
		}
		if !endsAt.IsZero() {
			p.EndsAt = &endsAt
		}
		payload = append(payload, p)
	}

	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(payload); err != nil {
		return false, fmt.Errorf("alertmanager: encode alerts: %w", err)
	}
	resp, err := notify.PostJSON(ctx, n.client, n.endpoint, &buf)
	if err != nil {
		if ctx.Err() != nil {
			return true, notify.NewErrorWithReason(ctxReason(ctx), fmt.Errorf("alertmanager: %w", notify.RedactURL(err)))
		}
		return true, fmt.Errorf("alertmanager: %w", notify.RedactURL(err))
	}
	defer notify.Drain(resp)

	retry, err := n.retrier.Check(resp.StatusCode, resp.Body)
	if err != nil {
		return retry, notify.NewErrorWithReason(notify.GetFailureReasonFromStatusCode(resp.StatusCode), fmt.Errorf("alertmanager: %w", err))
	}
	logger.Debug("alerts forwarded", "alerts", len(payload))
	return false, nil
}

func ctxReason(ctx context.Context) notify.Reason {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return notify.ContextDeadlineExceededReason
	}
	return notify.ContextCanceledReason
}
