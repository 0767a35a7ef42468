package events

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// sseEvent is one event as a client reads it off the wire.
type sseEvent struct {
	ID    string
	Event string
	Data  string
}

// sseClient reads a real text/event-stream response line by line.
type sseClient struct {
	t      *testing.T
	resp   *http.Response
	lines  chan string
	cancel context.CancelFunc
}

func dial(t *testing.T, url string, header http.Header) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
	c := &sseClient{t: t, resp: resp, lines: make(chan string, 16), cancel: cancel}
	go func() {
		defer close(c.lines)
		r := bufio.NewReaderSize(resp.Body, 1<<20)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			c.lines <- strings.TrimRight(line, "\n")
		}
	}()
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	return c
}

// next returns the next event, skipping comments; ok is false when the
// stream ended.
func (c *sseClient) next(timeout time.Duration) (ev sseEvent, ok bool) {
	c.t.Helper()
	deadline := time.After(timeout)
	started := false
	for {
		select {
		case line, open := <-c.lines:
			if !open {
				return ev, false
			}
			switch {
			case line == "":
				if started {
					return ev, true
				}
			case strings.HasPrefix(line, ":"):
			default:
				started = true
				field, value, _ := strings.Cut(line, ": ")
				switch field {
				case "id":
					ev.ID = value
				case "event":
					ev.Event = value
				case "data":
					ev.Data = value
				}
			}
		case <-deadline:
			c.t.Fatalf("no event within %v", timeout)
		}
	}
}

// comment waits for a comment line containing s.
func (c *sseClient) comment(s string, timeout time.Duration) {
	c.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, open := <-c.lines:
			require.True(c.t, open, "stream ended before the comment %q", s)
			if strings.HasPrefix(line, ":") && strings.Contains(line, s) {
				return
			}
		case <-deadline:
			c.t.Fatalf("no comment %q within %v", s, timeout)
		}
	}
}

func newServer(t *testing.T, o Options) (*Broker, *httptest.Server) {
	t.Helper()
	b := New(o)
	srv := httptest.NewServer(b.Handler())
	t.Cleanup(func() { b.Close(); srv.Close() })
	return b, srv
}

// waitSubscribers waits until n clients follow the stream, so that what
// is published next reaches them.
func waitSubscribers(t *testing.T, b *Broker, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return b.Subscribers() == n }, 5*time.Second, time.Millisecond)
}

func TestStream(t *testing.T) {
	b, srv := newServer(t, Options{})
	c := dial(t, srv.URL+Path, nil)
	waitSubscribers(t, b, 1)

	b.Publish("incident", map[string]any{"action": "opened", "id": 7})
	b.Publish("alert", map[string]string{"name": "HighCPU"})
	ev, ok := c.next(5 * time.Second)
	require.True(t, ok)
	require.Equal(t, "incident", ev.Event)
	require.JSONEq(t, `{"action":"opened","id":7}`, ev.Data)
	first, err := strconv.ParseUint(ev.ID, 10, 64)
	require.NoError(t, err)
	ev, ok = c.next(5 * time.Second)
	require.True(t, ok)
	require.Equal(t, "alert", ev.Event)
	require.Equal(t, strconv.FormatUint(first+1, 10), ev.ID, "ids increase by one")

	// Data that is not JSON is not published; a line break in a kind
	// cannot break the framing.
	b.Publish("bad", func() {})
	b.Publish("two\nlines", 1)
	ev, ok = c.next(5 * time.Second)
	require.True(t, ok)
	require.Equal(t, "two_lines", ev.Event)
	require.Equal(t, "1", ev.Data)
}

func TestStreamFilterAndReplay(t *testing.T) {
	tests := []struct {
		name   string
		query  func(first uint64) string
		header func(first uint64) http.Header
		want   []string // data of the events received, in order
	}{
		{name: "kinds filter, no replay", query: func(uint64) string { return "?kinds=incident,check" }, want: []string{"6"}},
		{name: "since replays the ring", query: func(f uint64) string { return "?since=" + strconv.FormatUint(f, 10) }, want: []string{"2", "3", "4", "5", "6"}},
		{name: "since with kinds", query: func(f uint64) string { return "?kinds=alert&since=" + strconv.FormatUint(f, 10) }, want: []string{"2", "3", "5"}},
		{
			name:   "Last-Event-ID header",
			query:  func(uint64) string { return "" },
			header: func(f uint64) http.Header { return http.Header{"Last-Event-Id": {strconv.FormatUint(f+1, 10)}} },
			want:   []string{"3", "4", "5", "6"},
		},
		{name: "id from before a restart gets the whole ring", query: func(f uint64) string { return "?since=5" }, want: []string{"1", "2", "3", "4", "5", "6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, srv := newServer(t, Options{})
			kinds := []string{"alert", "alert", "alert", "incident"}
			for i, k := range kinds {
				b.Publish(k, i+1)
			}
			first := b.Recent(0)[0].ID
			var h http.Header
			if tt.header != nil {
				h = tt.header(first)
			}
			c := dial(t, srv.URL+Path+tt.query(first), h)
			waitSubscribers(t, b, 1)
			b.Publish("alert", 5)
			b.Publish("incident", 6)
			var got []string
			for range tt.want {
				ev, ok := c.next(5 * time.Second)
				require.True(t, ok)
				require.NotEqual(t, KindDropped, ev.Event, ev.Data)
				got = append(got, ev.Data)
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestReplayBeyondRingIsReported(t *testing.T) {
	b, srv := newServer(t, Options{Buffer: 3})
	for i := range 5 {
		b.Publish("alert", i+1)
	}
	first := b.Recent(0)[0].ID // event 3: 1 and 2 were overwritten
	c := dial(t, srv.URL+Path+"?since="+strconv.FormatUint(first-3, 10), nil)
	ev, ok := c.next(5 * time.Second)
	require.True(t, ok)
	require.Equal(t, KindDropped, ev.Event)
	require.Empty(t, ev.ID, "a dropped notice does not move Last-Event-ID")
	var d Dropped
	require.NoError(t, json.Unmarshal([]byte(ev.Data), &d))
	require.Equal(t, Dropped{Count: 2, FirstID: first - 2, LastID: first - 1, Reason: d.Reason}, d)
	for _, want := range []string{"3", "4", "5"} {
		ev, ok := c.next(5 * time.Second)
		require.True(t, ok)
		require.Equal(t, want, ev.Data)
	}
}

func TestSlowConsumerDropsAndIsTold(t *testing.T) {
	b, srv := newServer(t, Options{Buffer: 16})
	b.queue = 4
	slow := dial(t, srv.URL+Path, nil)
	fast := dial(t, srv.URL+Path+"?kinds=small", nil)
	waitSubscribers(t, b, 2)

	// The slow client reads nothing while 64 MiB are published: more than
	// socket buffers and its queue of 4 hold. Publish must not block.
	big := strings.Repeat("x", 1<<20)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 64 {
			b.Publish("big", big)
		}
		b.Publish("small", "end")
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked on a slow subscriber")
	}
	// The other client is not held up by the slow one.
	ev, ok := fast.next(5 * time.Second)
	require.True(t, ok)
	require.Equal(t, "small", ev.Event)

	var delivered, lost uint64
	for delivered+lost < 65 {
		ev, ok := slow.next(20 * time.Second)
		require.True(t, ok)
		if ev.Event == KindDropped {
			var d Dropped
			require.NoError(t, json.Unmarshal([]byte(ev.Data), &d))
			require.Positive(t, d.Count)
			require.Equal(t, d.Count, d.LastID-d.FirstID+1)
			lost += d.Count
			continue
		}
		delivered++
	}
	require.Positive(t, lost, "a client that reads nothing must lose events")
	require.Equal(t, uint64(65), delivered+lost)
}

func TestKeepAliveAndClose(t *testing.T) {
	b, srv := newServer(t, Options{})
	b.keepAlive = 20 * time.Millisecond
	c := dial(t, srv.URL+Path, nil)
	waitSubscribers(t, b, 1)
	c.comment("keep-alive", 5*time.Second)

	b.Close()
	for {
		_, ok := c.next(5 * time.Second)
		if !ok {
			break
		}
	}
	waitSubscribers(t, b, 0)
	b.Publish("alert", 1) // no-op, no panic
	b.Close()

	resp, err := http.Get(srv.URL + Path)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

func TestClientGoneUnsubscribes(t *testing.T) {
	b, srv := newServer(t, Options{})
	c := dial(t, srv.URL+Path, nil)
	waitSubscribers(t, b, 1)
	c.cancel()
	b.Publish("alert", 1) // the handler notices at the latest when it writes
	waitSubscribers(t, b, 0)
}

func TestBadRequests(t *testing.T) {
	b := New(Options{})
	defer b.Close()
	for _, tt := range []struct {
		method, url string
		header      http.Header
		want        int
	}{
		{http.MethodPost, Path, nil, http.StatusMethodNotAllowed},
		{http.MethodGet, Path + "?since=abc", nil, http.StatusBadRequest},
		{http.MethodGet, Path, http.Header{"Last-Event-Id": {"-1"}}, http.StatusBadRequest},
	} {
		req := httptest.NewRequest(tt.method, tt.url, nil)
		for k, v := range tt.header {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		b.Handler().ServeHTTP(rec, req)
		require.Equal(t, tt.want, rec.Code, tt.url)
	}
}
