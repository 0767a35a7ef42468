package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/prometheus/prometheus/prompb"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/remotewrite"
)

// RemoteSink ships samples through the durable remote-write queue and
// posts heartbeats to the server.
type RemoteSink struct {
	queue        *remotewrite.Client
	client       *http.Client
	heartbeatURL string
	resultsURL   string
	token        string
	userAgent    string
}

// NewRemoteSink returns a sink that enqueues on queue and sends heartbeats
// to baseURL with client and the bearer token.
func NewRemoteSink(queue *remotewrite.Client, client *http.Client, baseURL, token, userAgent string) *RemoteSink {
	return &RemoteSink{
		queue:        queue,
		client:       client,
		heartbeatURL: strings.TrimRight(baseURL, "/") + agentapi.HeartbeatPath,
		resultsURL:   strings.TrimRight(baseURL, "/") + agentapi.CheckResultsPath,
		token:        token,
		userAgent:    userAgent,
	}
}

// Write queues the series on disk; the queue's sender ships them.
func (s *RemoteSink) Write(_ context.Context, series []prompb.TimeSeries) error {
	return s.queue.Enqueue(series)
}

// Heartbeat posts hb to the server.
func (s *RemoteSink) Heartbeat(ctx context.Context, hb agentapi.Heartbeat) (agentapi.HeartbeatResponse, error) {
	var out agentapi.HeartbeatResponse
	err := s.post(ctx, s.heartbeatURL, hb, &out)
	return out, err
}

// CheckResults posts the results of checks to the server.
func (s *RemoteSink) CheckResults(ctx context.Context, rs agentapi.CheckResults) error {
	return s.post(ctx, s.resultsURL, rs, nil)
}

// maxAnswer bounds the server's answers (a heartbeat's carries the
// agent's checks).
const maxAnswer = 8 << 20

// post sends in as JSON to url and decodes the answer into out (when not nil).
func (s *RemoteSink) post(ctx context.Context, url string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.userAgent)
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		msg := strings.TrimSpace(string(data))
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("server %s answered %s: check the agent's token (--token or server.token) against the server's ingest tokens", url, resp.Status)
		case http.StatusNotFound:
			return fmt.Errorf("server %s answered %s: is the URL that of a saypro-monitor server?", url, resp.Status)
		}
		return fmt.Errorf("server %s answered %s: %s", url, resp.Status, msg)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("answer from %s is not JSON: %w", url, err)
	}
	return nil
}
