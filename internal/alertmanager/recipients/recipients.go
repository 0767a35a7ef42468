// Package recipients sends one notification to each of several recipients
// (SMS numbers) for the receivers that do so, with the same retry and
// partial-failure rules for all of them.
//
// Every recipient is tried, in order, even when an earlier one fails; the
// error names each recipient that failed and why. Notify asks for a retry
// when any failure is retryable. Alertmanager retries by calling Notify
// again with the same alerts and the same context: a Log remembers, per
// aggregation group and flush (group key plus notify.Now) and message,
// which recipients were served, and skips them on those retries, so a
// retry does not text a person twice. A later flush is a new notification
// and goes to everybody. The memory lives in the Log only: a restart
// between two attempts can send a message twice.
package recipients

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/template"
)

// Rendered is a flush's message, rendered once for all recipients.
type Rendered struct {
	// Data is the template data the message was rendered from.
	Data *template.Data
	// Message is trimmed and, when a limit was given, truncated.
	Message   string
	Truncated bool
}

// Render executes text against the template data of a flush's alerts and
// trims it; an empty message is an error. maxRunes > 0 truncates it to
// that many characters.
func Render(ctx context.Context, tmpl *template.Template, text string, alerts []*alert.Alert, maxRunes int, logger *slog.Logger) (Rendered, error) {
	r := Rendered{Data: notify.GetTemplateData(ctx, tmpl, alerts, logger)}
	msg, err := tmpl.ExecuteTextString(text, r.Data)
	if err != nil {
		return r, fmt.Errorf("render message: %w", err)
	}
	r.Message = strings.TrimSpace(msg)
	if r.Message == "" {
		return r, errors.New("the message is empty after rendering")
	}
	if maxRunes > 0 {
		r.Message, r.Truncated = notify.TruncateInRunes(r.Message, maxRunes)
	}
	return r, nil
}

// Failure is one recipient's failed delivery.
type Failure struct {
	Retry  bool
	Reason notify.Reason
	Err    error
}

// RequestFailed is the Failure of a request that got no answer: retried,
// with the context's reason when the context ended.
func RequestFailed(ctx context.Context, err error) *Failure {
	reason := notify.DefaultReason
	if ctx.Err() != nil {
		reason = ctxReason(ctx.Err())
	}
	return &Failure{Retry: true, Reason: reason, Err: notify.RedactURL(err)}
}

// StatusFailed is the Failure of a non-2xx answer: 429 and 5xx are
// retried, other answers are not.
func StatusFailed(code int, err error) *Failure {
	return &Failure{
		Retry:  code/100 == 5 || code == http.StatusTooManyRequests,
		Reason: notify.GetFailureReasonFromStatusCode(code),
		Err:    err,
	}
}

// Log remembers the recipients served per flush until the flush's
// context deadline (or an hour, without one). It is safe for concurrent
// use.
type Log struct {
	mu      sync.Mutex
	flushes map[string]*flushEntry
}

type flushEntry struct {
	expires time.Time
	to      map[string]bool
}

// NewLog returns an empty Log.
func NewLog() *Log { return &Log{flushes: map[string]*flushEntry{}} }

// Send calls send for every recipient in to that has not been served msg
// in this flush, and returns what notify.Notifier.Notify returns. name
// prefixes the error ("twilio: 1 of 2 recipients failed: …").
func (l *Log) Send(ctx context.Context, name string, key notify.Key, msg string, to []string, logger *slog.Logger, send func(to string) *Failure) (bool, error) {
	flush := flushKey(ctx, key, msg)
	var (
		format []string
		args   = []any{0, len(to)}
		retry  bool
		reason notify.Reason
	)
	for _, t := range to {
		if l.has(flush, t) {
			logger.Debug("sms already sent in this flush", "to", t)
			continue
		}
		var f *Failure
		if err := ctx.Err(); err != nil {
			f = &Failure{Retry: true, Reason: ctxReason(err), Err: err}
		} else {
			f = send(t)
		}
		if f == nil {
			l.add(ctx, flush, t)
			logger.Debug("sms sent", "to", t)
			continue
		}
		// The reason is the first retryable failure's, else the first's.
		if len(format) == 0 || f.Retry && !retry {
			reason = f.Reason
		}
		retry = retry || f.Retry
		format = append(format, "to %s: %w")
		args = append(args, t, f.Err)
	}
	if len(format) == 0 {
		return false, nil
	}
	args[0] = len(format)
	err := fmt.Errorf(name+": %d of %d recipients failed: "+strings.Join(format, "; "), args...)
	return retry, notify.NewErrorWithReason(reason, err)
}

func ctxReason(err error) notify.Reason {
	if errors.Is(err, context.DeadlineExceeded) {
		return notify.ContextDeadlineExceededReason
	}
	return notify.ContextCanceledReason
}

// flushKey identifies one flush of one aggregation group with one message:
// Alertmanager's retries of a flush share its context, so they share the
// group key and notify.Now. Without notify.Now there is no key, and nothing
// is skipped.
func flushKey(ctx context.Context, groupKey notify.Key, msg string) string {
	now, ok := notify.Now(ctx)
	if !ok {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00%s", groupKey, now.UnixNano(), msg)
	return hex.EncodeToString(h.Sum(nil))
}

func (l *Log) has(flush, to string) bool {
	if flush == "" {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.flushes[flush]
	return ok && e.to[to]
}

func (l *Log) add(ctx context.Context, flush, to string) {
	if flush == "" {
		return
	}
	now := time.Now()
	expires, ok := ctx.Deadline()
	if !ok {
		expires = now.Add(time.Hour)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, e := range l.flushes {
		if now.After(e.expires) {
			delete(l.flushes, k)
		}
	}
	e, ok := l.flushes[flush]
	if !ok {
		e = &flushEntry{to: map[string]bool{}}
		l.flushes[flush] = e
	}
	e.expires = expires
	e.to[to] = true
}
