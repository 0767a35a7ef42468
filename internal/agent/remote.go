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
	body, err := json.Marshal(hb)
	if err != nil {
		return out, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.heartbeatURL, bytes.NewReader(body))
	if err != nil {
		return out, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.userAgent)
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return out, err
	}
	if resp.StatusCode/100 != 2 {
		msg := strings.TrimSpace(string(data))
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return out, fmt.Errorf("server %s answered %s: check the agent's token (--token or server.token) against the server's ingest tokens", s.heartbeatURL, resp.Status)
		case http.StatusNotFound:
			return out, fmt.Errorf("server %s answered %s: is the URL that of a saypro-monitor server?", s.heartbeatURL, resp.Status)
		}
		return out, fmt.Errorf("server %s answered %s: %s", s.heartbeatURL, resp.Status, msg)
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return out, fmt.Errorf("heartbeat answer from %s is not JSON: %w", s.heartbeatURL, err)
	}
	return out, nil
}
