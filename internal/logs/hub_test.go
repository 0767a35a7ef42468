package logs_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/logs"
	"github.com/saypro/monitor/internal/logs/vlstore"
)

func TestHub(t *testing.T) {
	tp := newPipeline(t, logs.Options{})
	hub := tp.Hub()
	failed := hub.Subscribe(mustMatcher(t, logs.Filter{Hosts: []string{"web1"}, Text: "failed"}), 100)
	slow := hub.Subscribe(mustMatcher(t, logs.Filter{}), 1)
	require.Equal(t, 2, hub.Subscribers())

	tp.ingest(t, "web1",
		agentapi.LogEntry{Source: "auth", Message: "Failed password for root"},
		agentapi.LogEntry{Source: "auth", Message: "Accepted password for root"},
		agentapi.LogEntry{Source: "syslog", Message: "unit failed"},
	)
	tp.ingest(t, "web2", agentapi.LogEntry{Source: "auth", Message: "Failed password for admin"})

	var got []string
	for len(failed.C) > 0 {
		e := <-failed.C
		require.Equal(t, "web1", e.Host)
		got = append(got, e.Message)
	}
	require.Equal(t, []string{"Failed password for root", "unit failed"}, got)
	require.Zero(t, failed.Dropped())

	require.Len(t, slow.C, 1)
	require.Equal(t, "Failed password for root", (<-slow.C).Message)
	require.Equal(t, int64(3), slow.Dropped())
	require.Zero(t, slow.Dropped(), "Dropped does not reset")

	slow.Close()
	require.Equal(t, 1, hub.Subscribers())
	tp.ingest(t, "web1", agentapi.LogEntry{Source: "auth", Message: "Failed again"})
	require.Empty(t, slow.C, "a closed subscription still receives")
	require.Len(t, failed.C, 1)
	failed.Close()
	require.Zero(t, hub.Subscribers())
}

func TestHubConcurrent(t *testing.T) {
	hub := logs.NewHub()
	m := mustMatcher(t, logs.Filter{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			s := hub.Subscribe(m, 4)
			s.Dropped()
			s.Close()
		}
	}()
	for i := range 1000 {
		hub.Publish([]logs.Entry{{Host: "h", Message: fmt.Sprint(i)}})
	}
	cancel()
	<-done
}

func TestMatcherBadRegex(t *testing.T) {
	_, err := logs.NewMatcher(logs.Filter{Regex: "(unclosed"})
	require.Error(t, err)
}

func TestMatcherFilters(t *testing.T) {
	e := logs.Entry{Host: "web1", Source: "auth", Service: "sshd", Severity: "warning", Message: "Failed password for root from 203.0.113.9",
		Fields: map[string]string{"event": "ssh_failed", "src_ip": "203.0.113.9"}}
	tests := []struct {
		name string
		f    logs.Filter
		want bool
	}{
		{"empty", logs.Filter{}, true},
		{"host", logs.Filter{Hosts: []string{"web2", "web1"}}, true},
		{"other host", logs.Filter{Hosts: []string{"web2"}}, false},
		{"keys and", logs.Filter{Hosts: []string{"web1"}, Services: []string{"nginx"}}, false},
		{"source service severity", logs.Filter{Sources: []string{"auth"}, Services: []string{"sshd"}, Severities: []string{"err", "warning"}}, true},
		{"field", logs.Filter{Fields: []logs.FieldMatch{{Name: "event", Value: "ssh_failed"}}}, true},
		{"field other value", logs.Filter{Fields: []logs.FieldMatch{{Name: "event", Value: "ssh_accepted"}}}, false},
		{"missing field empty value", logs.Filter{Fields: []logs.FieldMatch{{Name: "user", Value: ""}}}, true},
		{"fields and", logs.Filter{Fields: []logs.FieldMatch{{Name: "event", Value: "ssh_failed"}, {Name: "src_ip", Value: "10.0.0.1"}}}, false},
		{"words", logs.Filter{Text: "root failed"}, true},
		{"word missing", logs.Filter{Text: "root accepted"}, false},
		{"regex", logs.Filter{Regex: `from 203\.0\.113\.\d+$`}, true},
		{"regex no match", logs.Filter{Regex: `^Accepted`}, false},
		{"time range is ignored", logs.Filter{Start: time.Unix(0, 0), End: time.Unix(1, 0)}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, mustMatcher(t, tc.f).Match(&e))
		})
	}
}

// TestMatcherAgreesWithStore stores the messages of testdata and checks
// that a live tail's Matcher selects exactly what a search of the store
// finds, for words, phrases, case variants and regular expressions.
func TestMatcherAgreesWithStore(t *testing.T) {
	msgs := readMessages(t, "testdata/matcher-messages.txt")
	st := openStore(t, vlstore.Options{})
	now := time.Now().Truncate(time.Second)
	var es []logs.Entry
	for i, m := range msgs {
		es = append(es, logs.Entry{Time: now.Add(-time.Duration(i) * time.Second), Host: "web1", Source: "app", Message: m})
	}
	require.NoError(t, st.Add(es))

	queries := []struct {
		f    logs.Filter
		want int // -1: not checked, only compared
	}{
		{logs.Filter{Text: "failed"}, 3},
		{logs.Filter{Text: "FAILED"}, 3},
		{logs.Filter{Text: "Failed"}, 3},
		{logs.Filter{Text: "fAiLeD"}, 3},
		{logs.Filter{Text: `"connection refused"`}, 1},
		{logs.Filter{Text: `"Connection Refused"`}, -1},
		{logs.Filter{Text: `"connection  refused"`}, 1},
		{logs.Filter{Text: "error"}, -1},
		{logs.Filter{Text: "ERROR"}, -1},
		{logs.Filter{Text: "Error"}, -1},
		{logs.Filter{Text: "eRRor"}, -1},
		{logs.Filter{Text: "err"}, 0},
		{logs.Filter{Text: "errors"}, 1},
		{logs.Filter{Text: "über"}, -1},
		{logs.Filter{Text: "Über"}, -1},
		{logs.Filter{Text: "ÜBER"}, -1},
		{logs.Filter{Text: "nginx.conf"}, 2},
		{logs.Filter{Text: ".conf"}, -1},
		{logs.Filter{Text: "conf"}, 2},
		{logs.Filter{Text: "/api"}, 2},
		{logs.Filter{Text: "/api/"}, 2},
		{logs.Filter{Text: "api"}, 2},
		{logs.Filter{Text: "id=42"}, 1},
		{logs.Filter{Text: "42"}, -1},
		{logs.Filter{Text: "5"}, -1},
		{logs.Filter{Text: "-"}, -1},
		{logs.Filter{Text: "--"}, -1},
		{logs.Filter{Text: "user-42"}, 1},
		{logs.Filter{Text: `"I/O error"`}, 1},
		{logs.Filter{Text: "timeout"}, -1},
		{logs.Filter{Text: "timeout.go:42"}, 1},
		{logs.Filter{Text: `"Error… retrying"`}, 1},
		{logs.Filter{Text: "…"}, 1},
		{logs.Filter{Text: "エラー"}, -1},
		{logs.Filter{Text: "failed nginx"}, -1},
		{logs.Filter{Text: `error "disk quota"`}, 1},
		{logs.Filter{Text: `"unclosed phrase`}, 0},
		{logs.Filter{Text: "=/var/www"}, 1},
		{logs.Filter{Regex: `(?i)^error`}, -1},
		{logs.Filter{Regex: `\d{3}$`}, -1},
		{logs.Filter{Regex: `^5$`}, 1},
		{logs.Filter{Text: "error", Regex: `^[a-z]`}, -1},
		// field= on the entry's own fields, as the UI's links may write it.
		{logs.Filter{Fields: []logs.FieldMatch{{Name: "host", Value: "web1"}}, Text: "failed"}, 3},
		{logs.Filter{Fields: []logs.FieldMatch{{Name: "source", Value: "app"}, {Name: "service", Value: ""}}, Text: "error"}, -1},
		{logs.Filter{Fields: []logs.FieldMatch{{Name: "host", Value: "web2"}}}, 0},
		{logs.Filter{Fields: []logs.FieldMatch{{Name: "src_ip", Value: ""}}, Text: "timeout"}, 2},
	}
	ctx := context.Background()
	st.Flush()
	for _, q := range queries {
		name := fmt.Sprint(q.f.Text, " ~", q.f.Regex, q.f.Fields)
		t.Run(name, func(t *testing.T) {
			f := q.f
			f.Start, f.End = now.Add(-time.Hour), now.Add(time.Minute)
			found, _, err := st.Search(ctx, f, 1000, nil)
			require.NoError(t, err)
			fromStore := messages(found)
			m := mustMatcher(t, q.f)
			var matched []string
			for i := range es {
				if m.Match(&es[i]) {
					matched = append(matched, es[i].Message)
				}
			}
			slices.Sort(fromStore)
			slices.Sort(matched)
			if len(fromStore) == 0 {
				fromStore = nil
			}
			require.Equal(t, fromStore, matched, "store (want) and Matcher (got) differ")
			t.Logf("%d matches", len(matched))
			if q.want >= 0 {
				require.Len(t, matched, q.want, "%q", matched)
			}
		})
	}
}

func readMessages(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "# ") {
			out = append(out, line)
		}
	}
	require.NoError(t, sc.Err())
	return out
}
