package remotewrite

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/snappy"
)

// maxRetryAfter caps how long a Retry-After header may hold sending back.
const maxRetryAfter = 10 * time.Minute

// sendState is what the last attempt told about the server; its changes
// are logged, repeated failures are not.
type sendState int

const (
	stateOK sendState = iota
	stateRetrying
	stateAuth
	stateConfig
)

// Outcome is what a sender does after an answer.
type Outcome int

// The outcomes of an answer.
const (
	OutcomeSent     Outcome = iota // done
	OutcomeRejected                // non-retryable: drop the batch
	OutcomeTooLarge                // send fewer records, or drop a single one
	OutcomeAuth                    // token refused: keep the data, retry slowly
	OutcomeConfig                  // wrong URL or format: keep the data, retry slowly
	OutcomeRetry                   // transient: retry with backoff
)

// Answer is a server's answer to one POST of a batch: the remote-write
// client's and the agent's log shipper's.
type Answer struct {
	Code       int   // HTTP status, 0 when no answer came
	Err        error // transport error
	Msg        string
	RetryAfter time.Duration
	Header     http.Header // nil when no answer came
}

// Outcome classifies the answer. Retrying is for what a retry can fix;
// a token or URL problem keeps the data and retries slowly until the
// configuration is fixed.
func (a Answer) Outcome() Outcome {
	switch {
	case a.Err != nil:
		return OutcomeRetry
	case a.Code/100 == 2:
		return OutcomeSent
	case a.Code == http.StatusUnauthorized || a.Code == http.StatusForbidden:
		return OutcomeAuth
	case a.Code == http.StatusNotFound || a.Code == http.StatusMethodNotAllowed || a.Code == http.StatusUnsupportedMediaType:
		return OutcomeConfig
	case a.Code == http.StatusRequestEntityTooLarge:
		return OutcomeTooLarge
	case a.Code == http.StatusRequestTimeout || a.Code == http.StatusTooManyRequests || a.Code/100 == 5:
		return OutcomeRetry
	case a.Code/100 == 4:
		return OutcomeRejected
	}
	// 1xx and 3xx the HTTP client did not resolve: not the expected
	// server at this URL.
	return OutcomeConfig
}

// Post sends req with client and reads the answer: its status, the first
// KiB of its body as the message, and Retry-After. The rest of the body is
// drained so that the connection can be reused.
func Post(client *http.Client, req *http.Request) Answer {
	resp, err := client.Do(req)
	if err != nil {
		return Answer{Err: err}
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return Answer{
		Code:       resp.StatusCode,
		Msg:        strings.TrimSpace(strings.ToValidUTF8(string(msg), "?")),
		RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		Header:     resp.Header,
	}
}

// StatusLabel is the value of a requests counter's code label: the
// status, or "error" when no answer came.
func (a Answer) StatusLabel() string {
	if a.Err != nil {
		return "error"
	}
	return strconv.Itoa(a.Code)
}

// deliver sends b until the server took or refused it, or ctx is done.
func (c *Client) deliver(ctx context.Context, b *batch) {
	var (
		body    []byte
		bad     int64
		attempt int
	)
	for {
		if body == nil {
			body, bad = c.encode(b)
			if body == nil {
				c.m.dropped.WithLabelValues(reasonUnreadable).Add(float64(bad))
				c.q.commit(b, len(b.records))
				return
			}
		}
		res := c.post(ctx, body)
		out := res.Outcome()
		if ctx.Err() != nil && out != OutcomeSent && out != OutcomeRejected {
			// Stopping: what the server did not answer is sent again
			// next time.
			c.q.commit(b, 0)
			return
		}
		var delay time.Duration
		switch out {
		case OutcomeSent:
			// Counted before the commit, so that whoever sees the
			// queue empty also sees them counted.
			c.m.dropped.WithLabelValues(reasonUnreadable).Add(float64(bad))
			c.m.samplesSent.Add(float64(b.samples - bad))
			c.m.lastSuccess.Set(float64(time.Now().UnixNano()) / 1e9)
			c.q.commit(b, len(b.records))
			c.setState(stateOK, res)
			return
		case OutcomeTooLarge:
			if len(b.records) > 1 {
				c.q.shrink(b, len(b.records)/2)
				body = nil
				c.m.retries.Inc()
				continue
			}
			fallthrough
		case OutcomeRejected:
			c.reject(b, bad, res)
			return
		case OutcomeAuth:
			c.setState(stateAuth, res)
			delay = c.maxBackoff
		case OutcomeConfig:
			c.setState(stateConfig, res)
			delay = c.maxBackoff
		case OutcomeRetry:
			c.setState(stateRetrying, res)
			delay = max(c.backoff(attempt), min(res.RetryAfter, maxRetryAfter))
			attempt++
		}
		c.logger.Debug("remote write failed; retrying", "status", res.Code, "err", res.Err, "delay", delay)
		if !c.sleep(ctx, delay) {
			c.q.commit(b, 0)
			return
		}
		c.m.retries.Inc()
	}
}

// reject drops b after a non-retryable answer. The server may have stored
// part of it, as it says in X-Prometheus-Remote-Write-Samples-Written.
func (c *Client) reject(b *batch, bad int64, res Answer) {
	total := b.samples - bad
	stored := int64(0)
	if n := written(res); n >= 0 {
		stored = min(int64(n), total)
	}
	c.m.dropped.WithLabelValues(reasonUnreadable).Add(float64(bad))
	c.m.samplesSent.Add(float64(stored))
	c.m.dropped.WithLabelValues(reasonRejected).Add(float64(total - stored))
	c.q.commit(b, len(b.records))
	c.logger.Warn("the server rejected a batch as invalid; its samples are dropped, not retried",
		"url", c.logURL, "status", res.Code, "message", res.Msg, "samples", total, "stored", stored)
	// The server answered: it is reachable and takes the token.
	c.setState(stateOK, res)
}

// encode returns the request body for b: the record's own snappy block
// when it is alone, else the records decoded, concatenated (a repeated
// protobuf field concatenates) and compressed again. Records that do not
// decode are marked bad and left out; bad is their samples.
func (c *Client) encode(b *batch) (body []byte, bad int64) {
	if len(b.records) == 1 && !b.records[0].bad {
		return b.records[0].payload, 0
	}
	raw := c.raw[:0]
	for i := range b.records {
		r := &b.records[i]
		if !r.bad {
			n := r.size
			raw = slices.Grow(raw, n)
			if _, err := snappy.Decode(raw[len(raw):len(raw)+n], r.payload); err == nil {
				raw = raw[:len(raw)+n]
				continue
			}
			r.bad = true
		}
		bad += r.samples
		c.logger.Error("a queued record does not decode; its samples are dropped", "segment", r.seg.num, "end_offset", r.end.off, "samples", r.samples)
	}
	if cap(raw) <= maxBatchBytes {
		c.raw = raw
	}
	if len(raw) == 0 {
		return nil, bad
	}
	// A new body every time: the transport may still read the previous
	// one after Do returned.
	return s2.EncodeSnappy(nil, raw), bad
}

// post sends one request.
func (c *Client) post(ctx context.Context, body []byte) Answer {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return Answer{Err: err}
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	start := time.Now()
	a := Post(c.http, req)
	c.m.duration.Observe(time.Since(start).Seconds())
	c.m.requests.WithLabelValues(a.StatusLabel()).Inc()
	return a
}

// written reads X-Prometheus-Remote-Write-Samples-Written: how many
// samples of a refused request the server stored; -1 when absent.
func written(a Answer) int {
	if v := a.Header.Get("X-Prometheus-Remote-Write-Samples-Written"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return n
		}
	}
	return -1
}

// ParseRetryAfter reads a Retry-After header: seconds or an HTTP date,
// capped at 10 minutes; 0 when absent or in the past.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, int64(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// backoff returns the wait before retry number attempt (from 0): uniform
// between MinBackoff and MinBackoff·2^attempt, capped at MaxBackoff.
func (c *Client) backoff(attempt int) time.Duration {
	ceiling := c.minBackoff
	for i := 0; i < attempt && ceiling < c.maxBackoff; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, c.maxBackoff)
	return c.minBackoff + rand.N(ceiling-c.minBackoff+1)
}

// setState logs the changes of what the server answers.
func (c *Client) setState(s sendState, res Answer) {
	if s == c.state {
		return
	}
	prev := c.state
	c.state = s
	if prev == stateOK {
		c.failingSince = time.Now()
	}
	status := ""
	if res.Code != 0 {
		status = strconv.Itoa(res.Code) + " " + http.StatusText(res.Code)
	}
	switch s {
	case stateOK:
		c.logger.Info("remote write delivers again", "url", c.logURL,
			"failed_for", time.Since(c.failingSince).Round(time.Second), "pending_samples", c.q.pending())
	case stateRetrying:
		args := []any{"url", c.logURL, "pending_samples", c.q.pending()}
		if res.Err != nil {
			args = append(args, "err", res.Err)
		} else {
			args = append(args, "status", status, "message", res.Msg)
		}
		c.logger.Warn("remote write failed; samples stay queued and are retried with backoff", args...)
	case stateAuth:
		c.logger.Error("the server refused the agent's bearer token; samples stay queued and are retried: check that the agent's token is one of the server's ingest tokens",
			"url", c.logURL, "status", status, "message", res.Msg, "token_set", c.token != "", "retry_every", c.maxBackoff)
	case stateConfig:
		c.logger.Error("the server does not take remote write at this URL; samples stay queued and are retried: check the server URL (it should end in /api/v1/write)",
			"url", c.logURL, "status", status, "message", res.Msg, "retry_every", c.maxBackoff)
	}
}

// sleep waits d and reports whether to go on: false once ctx is done or
// the client closed.
func (c *Client) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-c.done:
		return false
	case <-t.C:
		return true
	}
}
