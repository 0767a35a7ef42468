package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/config/agentconfig"
)

// logServer answers log posts with the codes in answers (then 204) and
// records the batches it accepted.
type logServer struct {
	t       *testing.T
	mu      sync.Mutex
	answers []int
	got     []agentapi.LogBatch
	codes   []int
}

func (ls *logServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := ls.t
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, agentapi.LogsPath, r.URL.Path)
	require.Equal(t, "Bearer tok", r.Header.Get("Authorization"))
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	require.Equal(t, "gzip", r.Header.Get("Content-Encoding"))
	zr, err := gzip.NewReader(r.Body)
	require.NoError(t, err)
	body, err := io.ReadAll(zr)
	require.NoError(t, err)
	var b agentapi.LogBatch
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&b))
	require.LessOrEqual(t, len(b.Entries), logRequestEntries)

	ls.mu.Lock()
	defer ls.mu.Unlock()
	code := http.StatusNoContent
	if len(ls.answers) > 0 {
		code, ls.answers = ls.answers[0], ls.answers[1:]
	}
	ls.codes = append(ls.codes, code)
	if code == http.StatusNoContent {
		ls.got = append(ls.got, b)
	}
	w.WriteHeader(code)
}

func (ls *logServer) messages() []string {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	var out []string
	for _, b := range ls.got {
		for _, e := range b.Entries {
			out = append(out, b.Host+":"+e.Message)
		}
	}
	return out
}

func newTestShipper(t *testing.T, url, dir string) (*LogShipper, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	s, err := NewLogShipper(LogShipperOptions{
		BaseURL: url, Token: "tok", UserAgent: "test", Client: http.DefaultClient,
		Dir: dir, MaxSize: 1 << 20, MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registerer: reg,
	})
	require.NoError(t, err)
	return s, reg
}

func logBatch(host string, msgs ...string) agentapi.LogBatch {
	b := agentapi.LogBatch{Host: host}
	for _, m := range msgs {
		b.Entries = append(b.Entries, agentapi.LogEntry{Time: time.Unix(1, 0).UTC(), Source: "syslog", Format: "syslog", File: "/var/log/syslog", Message: m})
	}
	return b
}

// runShipper runs s until the test ends.
func runShipper(t *testing.T, s *LogShipper) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		require.NoError(t, s.Run(ctx))
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
			require.NoError(t, s.Close())
		})
	}
	t.Cleanup(stop)
	return stop
}

func TestLogShipperAnswers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answers []int
		want    []string
		dropped float64
	}{
		{"accepted", nil, []string{"h:a", "h:b", "h:c"}, 0},
		{"retried on 5xx, 429 and 507", []int{503, 429, 507, 500}, []string{"h:a", "h:b", "h:c"}, 0},
		{"kept on 401 and 403", []int{401, 403}, []string{"h:a", "h:b", "h:c"}, 0},
		{"dropped on 400", []int{400}, []string{"h:c"}, 2},
		{"split on 413", []int{413}, []string{"h:a", "h:b", "h:c"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ls := &logServer{t: t, answers: tc.answers}
			srv := httptest.NewServer(ls)
			defer srv.Close()
			s, _ := newTestShipper(t, srv.URL, t.TempDir())
			// Queued before Run, so that they go in one request.
			require.NoError(t, s.Logs(context.Background(), logBatch("h", "a")))
			require.NoError(t, s.Logs(context.Background(), logBatch("h", "b")))
			runShipper(t, s)
			require.Eventually(t, func() bool { return s.q.Pending() == 0 }, 5*time.Second, time.Millisecond)
			require.NoError(t, s.Logs(context.Background(), logBatch("h", "c")))
			require.Eventually(t, func() bool { return len(ls.messages()) == len(tc.want) }, 5*time.Second, time.Millisecond)
			require.Equal(t, tc.want, ls.messages())
			require.Eventually(t, func() bool { return s.q.Pending() == 0 }, 5*time.Second, time.Millisecond)
			require.Equal(t, tc.dropped, testutil.ToFloat64(s.dropped.WithLabelValues("rejected")))
			require.EqualValues(t, len(tc.want), testutil.ToFloat64(s.sent))
		})
	}
}

// While the server is away the batches wait on disk, across a restart;
// batches of another host go in their own request.
func TestLogShipperQueueSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s, _ := newTestShipper(t, "http://127.0.0.1:1", dir)
	for i := range 3 {
		require.NoError(t, s.Logs(context.Background(), logBatch("old", fmt.Sprint(i))))
	}
	require.NoError(t, s.Logs(context.Background(), logBatch("new", "3")))
	stop := runShipper(t, s)
	time.Sleep(50 * time.Millisecond) // a few failed attempts
	stop()

	ls := &logServer{t: t}
	srv := httptest.NewServer(ls)
	defer srv.Close()
	s, reg := newTestShipper(t, srv.URL, dir)
	require.EqualValues(t, 4, s.q.Pending())
	runShipper(t, s)
	require.Eventually(t, func() bool { return len(ls.messages()) == 4 }, 5*time.Second, time.Millisecond)
	require.Equal(t, []string{"old:0", "old:1", "old:2", "new:3"}, ls.messages())
	ls.mu.Lock()
	require.Len(t, ls.got, 2, "one request per host")
	ls.mu.Unlock()
	n, err := testutil.GatherAndCount(reg, "saypro_agent_log_queue_pending_entries", "saypro_agent_log_queue_bytes")
	require.NoError(t, err)
	require.Equal(t, 2, n)
}

// The standalone agent's wiring: a line appended to a followed file
// reaches the server through the queue.
func TestStandaloneLogs(t *testing.T) {
	ls := &logServer{t: t}
	srv := httptest.NewServer(ls)
	defer srv.Close()
	dir := t.TempDir()
	logFile := filepath.Join(dir, "app.log")
	require.NoError(t, os.WriteFile(logFile, []byte("before\n"), 0o644))

	cfg := agentconfig.Default()
	cfg.Server.URL = srv.URL
	cfg.Queue.Dir = filepath.Join(dir, "queue")
	cfg.Logs.DefaultSources = false
	cfg.Logs.Journal.Enabled = "false"
	cfg.Logs.Files = []agentconfig.LogFile{{Path: filepath.Join(dir, "*.log"), Source: "app", Format: "raw"}}
	logs, err := newStandaloneLogs(cfg, "host-1", http.DefaultClient, "tok", "test", slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, run := range []func(context.Context) error{logs.shipper.Run, logs.tailer.Run} {
		wg.Go(func() { require.NoError(t, run(ctx)) })
	}
	defer func() {
		cancel()
		wg.Wait()
		require.NoError(t, logs.shipper.Close())
	}()
	require.Eventually(t, func() bool {
		_, err := os.Stat(filepath.Join(cfg.Queue.Dir, "logs", "offsets.json"))
		return err == nil
	}, 5*time.Second, 10*time.Millisecond)
	f, err := os.OpenFile(logFile, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("after\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.Eventually(t, func() bool { return len(ls.messages()) == 1 }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, []string{"host-1:after"}, ls.messages())

	cfg.Server.URL = ""
	none, err := newStandaloneLogs(cfg, "host-1", nil, "", "", slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	require.NoError(t, err)
	require.Nil(t, none, "no server, no log shipping")
}
