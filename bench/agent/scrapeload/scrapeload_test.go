package main

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

func TestSeriesCounter(t *testing.T) {
	text := "# HELP a A.\n# TYPE a counter\na 1\n\nb{x=\"1\"} 2\nb{x=\"#\"} 3\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1"
	// Split the input at every position, as reads may.
	for i := range len(text) {
		var sc seriesCounter
		_, _ = sc.Write([]byte(text[:i]))
		_, _ = sc.Write([]byte(text[i:]))
		if sc.series != 6 {
			t.Fatalf("split at %d: %d series, want 6", i, sc.series)
		}
	}
}

func TestParseSamples(t *testing.T) {
	text := `# TYPE saypro_agent_collections_total counter
saypro_agent_collections_total{result="error"} 2
saypro_agent_collections_total{result="ok",x="a \"q\", b"} 40
saypro_agent_collection_series 1234
other 5
`
	got, err := parseSamples(strings.NewReader(text), "saypro_agent_collections_total", "saypro_agent_collection_series")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].labels["result"] != "error" || got[1].value != 40 || got[1].labels["x"] != `a "q", b` || got[2].value != 1234 {
		t.Fatalf("got %+v", got)
	}
}

// TestMeasure scrapes a test server (and measures this process as if it
// were the exporter) and checks that every collection is counted.
func TestMeasure(t *testing.T) {
	body := strings.Repeat("# HELP m M.\nm{i=\"1\"} 1\nm{i=\"2\"} 2\n", 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Burn some CPU, as an exporter does, so that the window counts
		// clock ticks of this process.
		for t := time.Now(); time.Since(t) < 5*time.Millisecond; {
		}
		if r.Header.Get("Accept-Encoding") == "gzip" {
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			_, _ = io.WriteString(zw, body)
			_ = zw.Close()
			return
		}
		_, _ = io.WriteString(w, body)
	}))
	defer srv.Close()
	pushSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := time.Now().UnixNano() / int64(10*time.Millisecond)
		fmt.Fprintf(w, "saypro_agent_collections_total{result=\"ok\"} %d\nsaypro_agent_collection_series 7\n", n)
		fmt.Fprintf(w, "saypro_agent_remote_write_samples_sent_total %d\nsaypro_agent_queue_pending_samples 3\n", 7*n)
	}))
	defer pushSrv.Close()
	pid := os.Getpid()
	procs := []*Process{
		{Name: "ours", PID: pid, Role: RoleOurs, Mode: ModePull, URL: srv.URL},
		{Name: "push", PID: pid, Role: RoleOurs, Mode: ModePush, URL: pushSrv.URL},
		{Name: "peer", PID: pid, Role: RolePeer, Mode: ModePull, URL: srv.URL},
	}
	c := Config{Scrapes: 5, Warmup: 1, Interval: 20 * time.Millisecond, PushInterval: 10 * time.Millisecond, Timeout: time.Second, Gzip: true, ClkTck: 100, Goal: 0.5}
	res, err := measure(context.Background(), c, procs, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*Process{procs[0], procs[2]} {
		if p.Collections != 5 || p.ScrapeErrs != 0 || median(p.Series) != 20 || median(p.BodyBytes) != float64(len(body)) {
			t.Fatalf("%s: %d collections, %d errors, series %v, bytes %v", p.Name, p.Collections, p.ScrapeErrs, p.Series, p.BodyBytes)
		}
	}
	if procs[1].Collections < 5 || procs[1].PushSeries != 7 || procs[1].CollectionsSource != "its saypro_agent_collections_total" ||
		procs[1].SamplesShipped != 7*float64(procs[1].Collections) || procs[1].QueuePending != 3 {
		t.Fatalf("push: %+v", procs[1])
	}
	if res.WindowSeconds < 0.08 {
		t.Fatalf("window %.3f s, want at least 5 intervals", res.WindowSeconds)
	}
	rep := buildReport(map[string]string{"k": "v"}, c, res)
	if len(rep.Ratios) != 2 || len(rep.failures()) != 0 {
		t.Fatalf("ratios %+v, failures %v", rep.Ratios, rep.failures())
	}
	md := rep.markdown()
	for _, want := range []string{"| ours | scraped | 20 | 5 |", "| push | push | 7 |", "| ours | peer |", "push shipped ", " samples (7 per collection) to the server", "3 samples were still in its queue"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}
