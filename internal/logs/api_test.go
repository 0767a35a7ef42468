package logs_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/logs"
	"github.com/saypro/monitor/internal/logs/vlstore"
)

// apiServer serves the logs API over a real store, as the server routes it.
type apiServer struct {
	*httptest.Server
	tp  *testPipeline
	api *logs.API
}

func newAPIServer(t *testing.T, st *vlstore.Store, maxBatch int64) *apiServer {
	t.Helper()
	tp := newPipeline(t, logs.Options{Store: st, Now: time.Now})
	rules := logs.NewRules(logs.RulesOptions{Store: st})
	require.NoError(t, rules.Apply(logs.BuiltinRules()))
	api := logs.NewAPI(logs.APIOptions{Store: st, Pipeline: tp.Pipeline, Rules: rules, MaxBatchBytes: maxBatch, Status: func() logs.Status {
		s := st.Stats()
		return logs.Status{ReadOnly: s.ReadOnly, DiskBytes: s.DiskBytes, Rows: s.Rows, Days: s.Days, RetentionSeconds: 30 * 86400}
	}})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/logs/query", api.Query)
	mux.HandleFunc("GET /api/v1/logs/histogram", api.Histogram)
	mux.HandleFunc("GET /api/v1/logs/fields", api.Fields)
	mux.HandleFunc("GET /api/v1/logs/rules", api.RulesHandler)
	mux.HandleFunc("GET /api/v1/logs/status", api.StatusHandler)
	mux.HandleFunc("GET /api/v1/logs/tail", api.Tail)
	mux.HandleFunc(agentapi.LogsPath, api.AgentLogs)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &apiServer{Server: srv, tp: tp, api: api}
}

// apiFixture stores 120 entries one every 10 s from a minute ago: i%3 == 0
// sshd failures on web1 (src_ip 10.0.0.(i%4)), i%3 == 1 nginx lines on
// web2 (err for odd i, info for even), i%3 == 2 kernel I/O errors on db1.
// Entries 30 to 39 share one time.
func apiFixture(t *testing.T, st *vlstore.Store) (newest time.Time) {
	t.Helper()
	newest = time.Now().Add(-time.Minute).Truncate(time.Second)
	var es []logs.Entry
	for i := range 120 {
		ts := newest.Add(-time.Duration(i) * 10 * time.Second)
		if i >= 30 && i < 40 {
			ts = newest.Add(-300 * time.Second)
		}
		var e logs.Entry
		switch i % 3 {
		case 0:
			e = logs.Entry{Host: "web1", Source: "auth", Service: "sshd", Severity: "warning",
				Message: fmt.Sprintf("Failed password for root from 10.0.0.%d port 22 ssh2", i%4),
				Fields:  map[string]string{"event": "ssh_failed", "src_ip": fmt.Sprintf("10.0.0.%d", i%4)}}
		case 1:
			sev := "info"
			if i%2 == 1 {
				sev = "err"
			}
			e = logs.Entry{Host: "web2", Source: "nginx-access", Service: "nginx", Severity: sev,
				Message: fmt.Sprintf("GET /item/%d HTTP/1.1 200", i), Fields: map[string]string{"status": "200", "status_class": "2xx"}}
		case 2:
			e = logs.Entry{Host: "db1", Source: "kern", Service: "kernel", Severity: "err",
				Message: fmt.Sprintf("I/O error, dev sdb, sector %d", i), Fields: map[string]string{"event": "disk_io_error", "device": "sdb"}}
		}
		e.Time = ts
		es = append(es, e)
	}
	require.NoError(t, st.Add(es))
	st.Flush()
	return newest
}

type envelope[T any] struct {
	Status    string `json:"status"`
	Data      T      `json:"data"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
}

func getJSON[T any](t *testing.T, srv *apiServer, path string, q url.Values) (int, envelope[T]) {
	t.Helper()
	u := srv.URL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	res, err := http.Get(u)
	require.NoError(t, err)
	defer res.Body.Close()
	var env envelope[T]
	require.NoError(t, json.NewDecoder(res.Body).Decode(&env), "%s", u)
	return res.StatusCode, env
}

func TestAPIQuery(t *testing.T) {
	st := openStore(t, vlstore.Options{})
	srv := newAPIServer(t, st, 0)
	newest := apiFixture(t, st)
	unix := func(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

	tests := []struct {
		name  string
		query string
		want  int
	}{
		{"everything", "", 120},
		{"host", "host=web1", 40},
		{"hosts repeated", "host=web1&host=web2", 80},
		{"hosts comma", "host=web1,db1", 80},
		{"source", "source=auth", 40},
		{"service", "service=kernel", 40},
		{"severity", "severity=err", 60},
		{"severities", "severity=err&severity=warning", 100},
		{"keys and", "host=web2&severity=err", 20},
		{"field", "field=event:ssh_failed", 40},
		{"fields and", "field=event:ssh_failed&field=src_ip:10.0.0.1", 10},
		{"word", "q=failed", 40},
		{"words any case", "q=FAILED+Root", 40},
		{"phrase", `q="password for root"`, 40},
		{"phrase and word", `q="I/O error" sdb`, 40},
		{"no match", "q=failed&host=web2", 0},
		{"regex", `regex=/item/1\d `, 4},
		{"regex and host", `regex=^GET&host=web1`, 0},
		{"start unix", "start=" + unix(newest.Add(-540*time.Second)), 55},
		{"start and end rfc3339", "start=" + newest.Add(-540*time.Second).Format(time.RFC3339) + "&end=" + newest.Add(-100*time.Second).Format(time.RFC3339), 45},
		{"before the default hour", "end=" + unix(newest.Add(-2*time.Hour)), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			require.NoError(t, err)
			q.Set("limit", "1000")
			code, env := getJSON[logs.QueryResult](t, srv, "/api/v1/logs/query", q)
			require.Equal(t, http.StatusOK, code, env.Error)
			require.Len(t, env.Data.Entries, tc.want)
			require.Empty(t, env.Data.NextCursor)
			for i, e := range env.Data.Entries {
				if i > 0 {
					require.False(t, e.Time.After(env.Data.Entries[i-1].Time), "not newest first at %d", i)
				}
			}
		})
	}

	t.Run("entry", func(t *testing.T) {
		code, env := getJSON[logs.QueryResult](t, srv, "/api/v1/logs/query", url.Values{"limit": {"1"}})
		require.Equal(t, http.StatusOK, code)
		require.Len(t, env.Data.Entries, 1)
		e := env.Data.Entries[0]
		require.True(t, newest.Equal(e.Time))
		require.Equal(t, logs.Entry{Time: e.Time, Host: "web1", Source: "auth", Service: "sshd", Severity: "warning",
			Message: "Failed password for root from 10.0.0.0 port 22 ssh2", Fields: map[string]string{"event": "ssh_failed", "src_ip": "10.0.0.0"}}, e)
		require.NotEmpty(t, env.Data.NextCursor)
	})

	t.Run("paging", func(t *testing.T) {
		for _, limit := range []int{1, 7, 10, 100} {
			seen := map[string]bool{}
			var last time.Time
			cursor := ""
			for page := 0; ; page++ {
				require.Less(t, page, 200, "paging does not end")
				q := url.Values{"limit": {strconv.Itoa(limit)}}
				if cursor != "" {
					q.Set("cursor", cursor)
				}
				code, env := getJSON[logs.QueryResult](t, srv, "/api/v1/logs/query", q)
				require.Equal(t, http.StatusOK, code, env.Error)
				require.LessOrEqual(t, len(env.Data.Entries), limit)
				for _, e := range env.Data.Entries {
					key := e.Time.String() + " " + e.Message
					require.False(t, seen[key], "limit %d: %q twice", limit, key)
					seen[key] = true
					require.False(t, !last.IsZero() && e.Time.After(last), "limit %d: not newest first", limit)
					last = e.Time
				}
				if cursor = env.Data.NextCursor; cursor == "" {
					break
				}
			}
			require.Len(t, seen, 120, "limit %d", limit)
		}
	})

	bad := []struct{ query, mention string }{
		{"regex=(unclosed", "regex"},
		{"start=yesterday", "start"},
		{"end=2026-13-01T00:00:00Z", "end"},
		{"start=NaN", "start"},
		{"start=1e12", "start"},
		{"start=" + unix(newest) + "&end=" + unix(newest.Add(-time.Hour)), "start must be before end"},
		{"field=event", "field"},
		{"field=:x", "field"},
		{"limit=0", "limit"},
		{"limit=1001", "limit"},
		{"limit=ten", "limit"},
		{"cursor=zz", "cursor"},
		{"cursor=abc.-1", "cursor"},
	}
	for _, tc := range bad {
		t.Run("bad "+tc.query, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			require.NoError(t, err)
			code, env := getJSON[json.RawMessage](t, srv, "/api/v1/logs/query", q)
			require.Equal(t, http.StatusBadRequest, code)
			require.Equal(t, "error", env.Status)
			require.Equal(t, "bad_data", env.ErrorType)
			require.Contains(t, env.Error, tc.mention)
		})
	}
}

func TestAPIHistogramFieldsStatusRules(t *testing.T) {
	st := openStore(t, vlstore.Options{})
	srv := newAPIServer(t, st, 0)
	newest := apiFixture(t, st)
	end := newest.Add(30 * time.Second).Truncate(time.Minute).Add(time.Minute)
	span := url.Values{"start": {strconv.FormatInt(end.Add(-time.Hour).Unix(), 10)}, "end": {strconv.FormatInt(end.Unix(), 10)}}

	tests := []struct {
		name        string
		step        string
		stepSeconds int64
		buckets     int
	}{
		{"auto", "", 60, 61},
		{"ten minutes", "600", 600, 7},
		{"fraction cut to seconds", "300.7", 300, 13},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{"start": span["start"], "end": span["end"]}
			if tc.step != "" {
				q.Set("step", tc.step)
			}
			code, env := getJSON[logs.HistogramResult](t, srv, "/api/v1/logs/histogram", q)
			require.Equal(t, http.StatusOK, code, env.Error)
			h := env.Data
			require.Equal(t, tc.stepSeconds, h.StepSeconds)
			require.Equal(t, uint64(120), h.Total)
			require.Len(t, h.Buckets, tc.buckets)
			var sum uint64
			bySev := map[string]int{}
			for i, b := range h.Buckets {
				sum += b.Count
				n := 0
				for sev, c := range b.BySeverity {
					n += c
					bySev[sev] += c
				}
				require.Equal(t, int(b.Count), n, "bucket %d: severities do not add up", i)
				if i > 0 {
					require.Equal(t, time.Duration(tc.stepSeconds)*time.Second, b.Time.Sub(h.Buckets[i-1].Time))
				}
			}
			require.Equal(t, uint64(120), sum)
			require.Equal(t, map[string]int{"warning": 40, "err": 60, "info": 20}, bySev)
		})
	}
	t.Run("filtered", func(t *testing.T) {
		q := url.Values{"start": span["start"], "end": span["end"], "host": {"db1"}}
		code, env := getJSON[logs.HistogramResult](t, srv, "/api/v1/logs/histogram", q)
		require.Equal(t, http.StatusOK, code, env.Error)
		require.Equal(t, uint64(40), env.Data.Total)
	})
	t.Run("auto steps", func(t *testing.T) {
		for _, c := range []struct {
			span time.Duration
			step int64
		}{{time.Minute, 1}, {15 * time.Minute, 30}, {6 * time.Hour, 600}, {7 * 24 * time.Hour, 3 * 3600}, {30 * 24 * time.Hour, 12 * 3600}} {
			q := url.Values{"start": {strconv.FormatInt(end.Add(-c.span).Unix(), 10)}, "end": {strconv.FormatInt(end.Unix(), 10)}}
			code, env := getJSON[logs.HistogramResult](t, srv, "/api/v1/logs/histogram", q)
			require.Equal(t, http.StatusOK, code, env.Error)
			require.Equal(t, c.step, env.Data.StepSeconds, "span %s", c.span)
			require.LessOrEqual(t, len(env.Data.Buckets), 62, "span %s", c.span)
		}
	})
	for _, step := range []string{"0.5", "0", "-60", "abc", "NaN", "Inf", "1e30", "1e10"} {
		t.Run("bad step "+step, func(t *testing.T) {
			q := url.Values{"start": span["start"], "end": span["end"], "step": {step}}
			code, env := getJSON[json.RawMessage](t, srv, "/api/v1/logs/histogram", q)
			require.Equal(t, http.StatusBadRequest, code)
			require.Contains(t, env.Error, "step")
		})
	}
	t.Run("too many buckets", func(t *testing.T) {
		q := url.Values{"start": {strconv.FormatInt(end.Add(-2*time.Hour).Unix(), 10)}, "end": span["end"], "step": {"1"}}
		code, env := getJSON[json.RawMessage](t, srv, "/api/v1/logs/histogram", q)
		require.Equal(t, http.StatusBadRequest, code)
		require.Contains(t, env.Error, "5000 buckets")
	})

	t.Run("fields", func(t *testing.T) {
		code, env := getJSON[map[string][]logs.Value](t, srv, "/api/v1/logs/fields", span)
		require.Equal(t, http.StatusOK, code, env.Error)
		require.ElementsMatch(t, []logs.Value{{Value: "web1", Count: 40}, {Value: "web2", Count: 40}, {Value: "db1", Count: 40}}, env.Data["hosts"])
		require.ElementsMatch(t, []logs.Value{{Value: "auth", Count: 40}, {Value: "nginx-access", Count: 40}, {Value: "kern", Count: 40}}, env.Data["sources"])
		require.ElementsMatch(t, []logs.Value{{Value: "sshd", Count: 40}, {Value: "nginx", Count: 40}, {Value: "kernel", Count: 40}}, env.Data["services"])
		require.Equal(t, []logs.Value{{Value: "err", Count: 60}, {Value: "warning", Count: 40}, {Value: "info", Count: 20}}, env.Data["severities"])
		q := url.Values{"start": span["start"], "end": span["end"], "host": {"web2"}}
		code, env = getJSON[map[string][]logs.Value](t, srv, "/api/v1/logs/fields", q)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, []logs.Value{{Value: "web2", Count: 40}}, env.Data["hosts"])
		require.Equal(t, []logs.Value{{Value: "err", Count: 20}, {Value: "info", Count: 20}}, env.Data["severities"])
		// An empty range has empty lists, not nulls.
		q = url.Values{"end": {strconv.FormatInt(end.Add(-48*time.Hour).Unix(), 10)}}
		code, env = getJSON[map[string][]logs.Value](t, srv, "/api/v1/logs/fields", q)
		require.Equal(t, http.StatusOK, code)
		for _, k := range []string{"hosts", "sources", "services", "severities"} {
			require.NotNil(t, env.Data[k], k)
			require.Empty(t, env.Data[k], k)
		}
	})

	t.Run("status", func(t *testing.T) {
		sub := srv.tp.Hub().Subscribe(mustMatcher(t, logs.Filter{}), 1)
		defer sub.Close()
		code, env := getJSON[logs.Status](t, srv, "/api/v1/logs/status", nil)
		require.Equal(t, http.StatusOK, code)
		require.False(t, env.Data.ReadOnly)
		require.Equal(t, uint64(120), env.Data.Rows)
		require.Positive(t, env.Data.DiskBytes)
		require.Equal(t, 1, env.Data.TailSubscribers)
	})

	t.Run("rules", func(t *testing.T) {
		code, env := getJSON[struct {
			Rules []logs.RuleStatus `json:"rules"`
		}](t, srv, "/api/v1/logs/rules", nil)
		require.Equal(t, http.StatusOK, code)
		var names []string
		for _, r := range env.Data.Rules {
			names = append(names, r.Name)
			require.NotNil(t, r.Firing, r.Name)
			require.True(t, r.Builtin)
		}
		require.Equal(t, []string{"SSHBruteForce", "ErrorLogSpike", "KernelOOMKill", "DiskIOErrors"}, names)
	})
}

func TestAPITail(t *testing.T) {
	st := openStore(t, vlstore.Options{})
	srv := newAPIServer(t, st, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v1/logs/tail?host=web1&q=failed", nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/event-stream; charset=utf-8", res.Header.Get("Content-Type"))

	type event struct{ name, data string }
	events := make(chan event, 10)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(res.Body)
		var ev event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data += strings.TrimPrefix(line, "data: ")
			case line == "" && ev.name != "":
				events <- ev
				ev = event{}
			}
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for srv.tp.Hub().Subscribers() == 0 {
		require.True(t, time.Now().Before(deadline), "the tail did not subscribe")
		time.Sleep(5 * time.Millisecond)
	}
	srv.tp.ingest(t, "web2", agentapi.LogEntry{Source: "auth", Message: "Failed password for root (other host)"})
	srv.tp.ingest(t, "web1", agentapi.LogEntry{Source: "auth", Message: "Accepted password for root (no match)"})
	srv.tp.ingest(t, "web1", agentapi.LogEntry{Source: "auth", Message: "Failed password for root (match)"})
	select {
	case ev, ok := <-events:
		require.True(t, ok, "the stream ended")
		require.Equal(t, "log", ev.name)
		var e logs.Entry
		require.NoError(t, json.Unmarshal([]byte(ev.data), &e))
		require.Equal(t, "Failed password for root (match)", e.Message)
		require.Equal(t, "web1", e.Host)
	case <-time.After(5 * time.Second):
		t.Fatal("no event for a matching entry")
	}
	cancel()
	for ev := range events {
		t.Fatalf("unexpected event %+v", ev)
	}
	deadline = time.Now().Add(5 * time.Second)
	for srv.tp.Hub().Subscribers() != 0 {
		require.True(t, time.Now().Before(deadline), "the tail did not unsubscribe when its client left")
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAPITailBadFilter(t *testing.T) {
	srv := newAPIServer(t, openStore(t, vlstore.Options{}), 0)
	res, err := http.Get(srv.URL + "/api/v1/logs/tail?regex=(")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestAPIAgentLogs(t *testing.T) {
	st := openStore(t, vlstore.Options{})
	const maxBatch = 64 << 10
	srv := newAPIServer(t, st, maxBatch)
	batch := func(host string, entries ...agentapi.LogEntry) []byte {
		b, err := json.Marshal(agentapi.LogBatch{Host: host, Entries: entries})
		require.NoError(t, err)
		return b
	}
	good := batch("web1", agentapi.LogEntry{Source: "app", Message: "plain batch"})
	big := bytes.Repeat([]byte{' '}, maxBatch+1)
	copy(big, batch("web1", agentapi.LogEntry{Source: "app", Message: "padded"}))
	// A zip bomb: a small body that decodes far beyond the limit.
	bomb := gzipped(t, append(batch("web1"), bytes.Repeat([]byte{' '}, 10<<20)...))
	require.Less(t, len(bomb), maxBatch)

	tests := []struct {
		name     string
		method   string
		gzip     bool
		body     []byte
		want     int
		mention  string
		messages []string
	}{
		{"plain", http.MethodPost, false, good, http.StatusNoContent, "", []string{"plain batch"}},
		{"gzip", http.MethodPost, true, gzipped(t, batch("web2", agentapi.LogEntry{Source: "app", Message: "gzip batch"}, agentapi.LogEntry{Source: "app", Message: "second"})), http.StatusNoContent, "", []string{"gzip batch", "second"}},
		{"empty batch", http.MethodPost, false, batch("web3"), http.StatusNoContent, "", nil},
		{"bad json", http.MethodPost, false, []byte(`{"host":"web1","entries":[`), http.StatusBadRequest, "JSON", nil},
		{"not gzip", http.MethodPost, true, good, http.StatusBadRequest, "gzip", nil},
		{"no host", http.MethodPost, false, batch("", agentapi.LogEntry{Source: "app", Message: "x"}), http.StatusBadRequest, "no host", nil},
		{"entry without source", http.MethodPost, false, batch("web1", agentapi.LogEntry{Source: "app", Message: "x"}, agentapi.LogEntry{Message: "y"}), http.StatusBadRequest, "entry 1", nil},
		{"too big", http.MethodPost, false, big, http.StatusRequestEntityTooLarge, "limited", nil},
		{"too big gzipped", http.MethodPost, true, gzipped(t, big), http.StatusRequestEntityTooLarge, "limited", nil},
		{"zip bomb", http.MethodPost, true, bomb, http.StatusRequestEntityTooLarge, "limited", nil},
		{"get", http.MethodGet, false, nil, http.StatusMethodNotAllowed, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+agentapi.LogsPath, bytes.NewReader(tc.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			if tc.gzip {
				req.Header.Set("Content-Encoding", "gzip")
			}
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			require.Equal(t, tc.want, res.StatusCode, "%s", body)
			require.Contains(t, string(body), tc.mention)
			if tc.want == http.StatusMethodNotAllowed {
				require.Equal(t, http.MethodPost, res.Header.Get("Allow"))
			}
		})
	}
	got := messages(all(t, st, logs.Filter{}))
	require.ElementsMatch(t, []string{"plain batch", "gzip batch", "second"}, got, "only the good batches are stored")
}

func TestAPIAgentLogsReadOnlyStore(t *testing.T) {
	st := openStore(t, vlstore.Options{MinFreeDiskBytes: math.MaxInt64 / 2})
	srv := newAPIServer(t, st, 0)
	b, err := json.Marshal(agentapi.LogBatch{Host: "web1", Entries: []agentapi.LogEntry{{Source: "app", Message: "kept by the agent"}}})
	require.NoError(t, err)
	res, err := http.Post(srv.URL+agentapi.LogsPath, "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusInsufficientStorage, res.StatusCode, "%s", body)
	require.NotEmpty(t, res.Header.Get("Retry-After"))
	_, err = strconv.Atoi(res.Header.Get("Retry-After"))
	require.NoError(t, err)

	code, env := getJSON[logs.Status](t, srv, "/api/v1/logs/status", nil)
	require.Equal(t, http.StatusOK, code)
	require.True(t, env.Data.ReadOnly)
}
