package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// dashboardQuery is one range query of the latency test.
type dashboardQuery struct {
	Name  string `json:"name"`
	Expr  string `json:"expr"`
	Step  int64  `json:"step_ms"`
	Start int64  `json:"start_ms"`
	End   int64  `json:"end_ms"`
}

// dashboardQueries are typical Grafana node-exporter panels over the last
// hour of the generated data and, when there are enough hours for the
// oldest hour to be in a persisted block of Prometheus and ours, one
// panel over that hour too.
func dashboardQueries(start, end int64) []dashboardQuery {
	const minute, hour = int64(60_000), int64(3_600_000)
	// The last hour, in whole minutes, ending at the last round.
	lastEnd := (end - scrapeInterval) / minute * minute
	lastStart := lastEnd - hour
	qs := []dashboardQuery{
		{Name: "cpu_one_host", Expr: `sum by (instance) (rate(node_cpu_seconds_total{instance="host-1",mode!="idle"}[5m]))`, Step: 15_000},
		{Name: "cpu_all_hosts", Expr: `sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))`, Step: 60_000},
		{Name: "mem_avail_avg", Expr: `avg(node_memory_MemAvailable_bytes)`, Step: 60_000},
		{Name: "net_rx_top10", Expr: `topk(10, rate(node_network_receive_bytes_total[5m]))`, Step: 60_000},
		{Name: "fs_avail_one_host", Expr: `node_filesystem_avail_bytes{instance="host-1"}`, Step: 15_000},
		{Name: "disk_used_pct_root", Expr: `100 * (1 - node_filesystem_avail_bytes{mountpoint="/"} / node_filesystem_size_bytes{mountpoint="/"})`, Step: 60_000},
	}
	for i := range qs {
		qs[i].Start, qs[i].End = lastStart, lastEnd
	}
	// The oldest hour ends at most one hour after the first round: with
	// four hours of data the heads of Prometheus and ours have by then
	// compacted at least that hour into a block.
	oldEnd := (start + hour) / minute * minute
	if oldEnd+hour <= lastStart {
		qs = append(qs, dashboardQuery{
			Name: "cpu_all_hosts_oldest_hour", Expr: qs[1].Expr, Step: 60_000, Start: oldEnd - hour, End: oldEnd,
		})
	}
	return qs
}

// QueryResult is the latency of one dashboard query on one server.
type QueryResult struct {
	dashboardQuery
	Runs          int     `json:"runs"`
	MedianSeconds float64 `json:"median_seconds"`
	MinSeconds    float64 `json:"min_seconds"`
	MaxSeconds    float64 `json:"max_seconds"`
	Series        int     `json:"series"` // in the answer, to compare servers
	Points        int     `json:"points"`
	Error         string  `json:"error,omitempty"`
}

// apiClient talks to the Prometheus HTTP API of one server.
type apiClient struct {
	base   string
	client *http.Client
}

// apiResponse is the part of a Prometheus API answer the benchmark reads.
type apiResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  []any             `json:"value"`
			Values [][]any           `json:"values"`
		} `json:"result"`
	} `json:"data"`
}

// get runs one API call and decodes the answer; a non-success answer is
// an error that says what the server said.
func (c *apiClient) get(ctx context.Context, path string, params url.Values) (*apiResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path+"?"+params.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%s: status %d, undecodable answer %.200q", path, resp.StatusCode, body)
	}
	if resp.StatusCode != http.StatusOK || r.Status != "success" {
		return nil, fmt.Errorf("%s: status %d, %s: %s", path, resp.StatusCode, r.ErrorType, r.Error)
	}
	return &r, nil
}

// seconds formats a millisecond timestamp for the API.
func seconds(ms int64) string { return strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64) }

// rangeQuery runs q once and returns the series and points it answered.
func (c *apiClient) rangeQuery(ctx context.Context, q dashboardQuery) (series, points int, err error) {
	r, err := c.get(ctx, "/api/v1/query_range", url.Values{
		"query": {q.Expr}, "start": {seconds(q.Start)}, "end": {seconds(q.End)}, "step": {seconds(q.Step)},
	})
	if err != nil {
		return 0, 0, err
	}
	for _, s := range r.Data.Result {
		points += len(s.Values)
	}
	return len(r.Data.Result), points, nil
}

// instantScalar runs an instant query at t whose answer is one sample and
// returns its value.
func (c *apiClient) instantScalar(ctx context.Context, expr string, t int64) (float64, error) {
	r, err := c.get(ctx, "/api/v1/query", url.Values{"query": {expr}, "time": {seconds(t)}})
	if err != nil {
		return 0, err
	}
	if len(r.Data.Result) != 1 || len(r.Data.Result[0].Value) != 2 {
		return 0, fmt.Errorf("%s: want one sample, got %d series", expr, len(r.Data.Result))
	}
	s, ok := r.Data.Result[0].Value[1].(string)
	if !ok {
		return 0, fmt.Errorf("%s: value is not a string", expr)
	}
	return strconv.ParseFloat(s, 64)
}

// measureQueries runs each query once to warm caches up, then runs times,
// and reports the median latency.
func measureQueries(ctx context.Context, c *apiClient, qs []dashboardQuery, runs int) []QueryResult {
	out := make([]QueryResult, 0, len(qs))
	for _, q := range qs {
		r := QueryResult{dashboardQuery: q}
		var err error
		if r.Series, r.Points, err = c.rangeQuery(ctx, q); err != nil {
			r.Error = err.Error()
			out = append(out, r)
			continue
		}
		var lat []float64
		for range runs {
			began := time.Now()
			if _, _, err = c.rangeQuery(ctx, q); err != nil {
				r.Error = err.Error()
				break
			}
			lat = append(lat, time.Since(began).Seconds())
		}
		r.Runs = len(lat)
		if len(lat) > 0 {
			r.MedianSeconds = median(lat)
			r.MinSeconds = slices.Min(lat)
			r.MaxSeconds = slices.Max(lat)
		}
		out = append(out, r)
	}
	return out
}

// median returns the middle value of xs (the mean of the two middle ones
// for an even count); xs is sorted in place.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// Check compares what a server answers with what was sent.
type Check struct {
	Name     string  `json:"name"`
	Expr     string  `json:"expr"`
	Want     float64 `json:"want"`
	Got      float64 `json:"got"`
	OK       bool    `json:"ok"`
	Error    string  `json:"error,omitempty"`
	AtTimeMs int64   `json:"at_ms"`
}

// countChecks are instant queries whose answers are known from the load:
// the number of series, and the number of samples of one series per host
// over the whole run.
func countChecks(hosts, rounds int, start, end int64) []Check {
	span := (end - start + 60_000) / 1000
	return []Check{
		{Name: "series", Expr: `count({job="node"})`, Want: float64(hosts * seriesPerHost), AtTimeMs: end},
		{Name: "samples_node_load1", Expr: fmt.Sprintf(`sum(count_over_time(node_load1[%ds]))`, span), Want: float64(hosts * rounds), AtTimeMs: end},
	}
}

// runChecks runs the checks and fills in their answers.
func runChecks(ctx context.Context, c *apiClient, checks []Check) []Check {
	for i := range checks {
		ch := &checks[i]
		v, err := c.instantScalar(ctx, ch.Expr, ch.AtTimeMs)
		if err != nil {
			ch.Error = err.Error()
			continue
		}
		ch.Got = v
		ch.OK = v == ch.Want
	}
	return checks
}
