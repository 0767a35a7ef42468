package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Path is where Handler serves the stream.
const Path = "/api/v1/events"

// Handler serves the stream as text/event-stream:
//
//	GET /api/v1/events                  every event from now on
//	GET /api/v1/events?kinds=a,b        only events of these kinds ("dropped" always comes)
//	GET /api/v1/events?since=ID         first the ring's events after ID; so does a Last-Event-ID header
//
// Each event is written as "id: <id>", "event: <kind>", "data: <JSON>"
// and a blank line; an idle stream gets a comment line every 15 seconds.
// The stream ends when the client goes away or the broker is closed.
func (b *Broker) Handler() http.Handler {
	return http.HandlerFunc(b.serve)
}

func (b *Broker) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "the event stream is read with GET", http.StatusMethodNotAllowed)
		return
	}
	kinds, since, replay, err := parseStreamQuery(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s, past, gone, ok := b.subscribe(kinds, since, replay)
	if !ok {
		http.Error(w, "the server is shutting down", http.StatusServiceUnavailable)
		return
	}
	defer b.unsubscribe(s)

	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)

	var buf bytes.Buffer
	buf.WriteString(": saypro event stream\n\n")
	if gone.Count > 0 {
		writeDropped(&buf, gone)
	}
	for _, ev := range past {
		writeEvent(&buf, ev)
	}
	if !b.flush(w, rc, &buf) {
		return
	}

	keepAlive := time.NewTicker(b.keepAlive)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-b.done:
			return
		case <-keepAlive.C:
			buf.WriteString(": keep-alive\n\n")
		case <-s.lostReported:
			// The events queued before the loss come first.
			for drained := false; !drained; {
				select {
				case ev := <-s.ch:
					writeEvent(&buf, ev)
				default:
					drained = true
				}
			}
			writeDropped(&buf, b.takeLost(s))
		case ev := <-s.ch:
			writeEvent(&buf, ev)
			// Write what else is queued in the same flush.
			for more := true; more && buf.Len() < 64<<10; {
				select {
				case ev := <-s.ch:
					writeEvent(&buf, ev)
				default:
					more = false
				}
			}
		}
		if !b.flush(w, rc, &buf) {
			return
		}
		keepAlive.Reset(b.keepAlive)
	}
}

// flush writes buf to the client and empties it; false means the client
// is gone.
func (b *Broker) flush(w http.ResponseWriter, rc *http.ResponseController, buf *bytes.Buffer) bool {
	_, err := w.Write(buf.Bytes())
	buf.Reset()
	if err == nil {
		err = rc.Flush()
	}
	return err == nil
}

func writeEvent(buf *bytes.Buffer, ev Event) {
	fmt.Fprintf(buf, "id: %d\nevent: %s\ndata: %s\n\n", ev.ID, ev.Kind, ev.Data)
}

// writeDropped writes a "dropped" event. It has no id, so that it does not
// move the client's Last-Event-ID.
func writeDropped(buf *bytes.Buffer, d Dropped) {
	data, _ := json.Marshal(d)
	fmt.Fprintf(buf, "event: %s\ndata: %s\n\n", KindDropped, data)
}

// parseStreamQuery reads ?kinds=, and ?since= or the Last-Event-ID header.
func parseStreamQuery(r *http.Request) (kinds map[string]bool, since uint64, replay bool, err error) {
	q := r.URL.Query()
	for _, v := range q["kinds"] {
		for k := range strings.SplitSeq(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				if kinds == nil {
					kinds = map[string]bool{}
				}
				kinds[k] = true
			}
		}
	}
	s := q.Get("since")
	from := "since"
	if s == "" {
		s = r.Header.Get("Last-Event-ID")
		from = "the Last-Event-ID header"
	}
	if s == "" {
		return kinds, 0, false, nil
	}
	since, err = strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return nil, 0, false, fmt.Errorf("%s %q is not an event id: use the id: of the last event received, or 0 for everything still buffered", from, s)
	}
	return kinds, since, true, nil
}
