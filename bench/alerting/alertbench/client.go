package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/prompb"
)

// client talks to the server under test.
type client struct {
	base  string
	token string
	http  *http.Client
}

// write remote-writes one sample per series (Prometheus remote write 1.0,
// protobuf and snappy, as Prometheus sends it).
func (c *client) write(ctx context.Context, ts time.Time, value float64, series ...map[string]string) error {
	req := prompb.WriteRequest{}
	for _, s := range series {
		var ls []prompb.Label
		ls = append(ls, prompb.Label{Name: "__name__", Value: metricName})
		for _, n := range sortedKeys(s) {
			ls = append(ls, prompb.Label{Name: n, Value: s[n]})
		}
		req.Timeseries = append(req.Timeseries, prompb.TimeSeries{
			Labels:  ls,
			Samples: []prompb.Sample{{Timestamp: ts.UnixMilli(), Value: value}},
		})
	}
	raw, err := req.Marshal()
	if err != nil {
		return err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v1/write", bytes.NewReader(snappy.Encode(nil, raw)))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/x-protobuf")
	r.Header.Set("Content-Encoding", "snappy")
	r.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	r.Header.Set("User-Agent", "saypro-bench-alertbench")
	r.Header.Set("Authorization", "Bearer "+c.token)
	return c.do(r, "remote write")
}

// postableAlert is an alert as POST /api/v2/alerts takes it.
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// postAlerts posts alerts to the server's Alertmanager API v2.
func (c *client) postAlerts(ctx context.Context, alerts []postableAlert) error {
	b, err := json.Marshal(alerts)
	if err != nil {
		return err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v2/alerts", bytes.NewReader(b))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", "saypro-bench-alertbench")
	return c.do(r, "POST /api/v2/alerts")
}

func (c *client) do(r *http.Request, what string) error {
	resp, err := c.http.Do(r)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: HTTP %d: %s", what, resp.StatusCode, bytes.TrimSpace(body))
	}
	return nil
}

// lastEvaluation returns when the bench rule group was last evaluated,
// from /api/v1/rules (zero before its first evaluation).
func (c *client) lastEvaluation(ctx context.Context) (time.Time, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/v1/rules", nil)
	if err != nil {
		return time.Time{}, err
	}
	resp, err := c.http.Do(r)
	if err != nil {
		return time.Time{}, err
	}
	defer resp.Body.Close()
	var rs struct {
		Data struct {
			Groups []struct {
				Name           string    `json:"name"`
				LastEvaluation time.Time `json:"lastEvaluation"`
			} `json:"groups"`
		} `json:"data"`
	}
	if resp.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("/api/v1/rules: HTTP %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&rs); err != nil {
		return time.Time{}, fmt.Errorf("/api/v1/rules: %w", err)
	}
	for _, g := range rs.Data.Groups {
		if g.Name == "bench" {
			if g.LastEvaluation.Year() < 2000 {
				return time.Time{}, nil
			}
			return g.LastEvaluation, nil
		}
	}
	return time.Time{}, fmt.Errorf("/api/v1/rules has no group named bench")
}

// countAlerts returns how many alerts named alertname /api/v2/alerts lists.
func (c *client) countAlerts(ctx context.Context, alertname string) (int, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodGet,
		c.base+"/api/v2/alerts?filter="+url.QueryEscape(`alertname="`+alertname+`"`), nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.http.Do(r)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /api/v2/alerts: HTTP %d", resp.StatusCode)
	}
	var alerts []json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&alerts); err != nil {
		return 0, fmt.Errorf("GET /api/v2/alerts: %w", err)
	}
	return len(alerts), nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
