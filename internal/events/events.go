// Package events is the server's live event stream: components publish
// small JSON events (an incident opened, an alert fired) to a Broker, and
// browsers and scripts follow them over Server-Sent Events at
// GET /api/v1/events.
//
// Publish never blocks. Every subscriber has a small queue of its own; when
// a subscriber reads too slowly and its queue is full, the events it could
// not take are dropped for it alone, and it is told so with an event of
// kind "dropped" (see Dropped) once it catches up. The broker keeps a ring
// of recent events so that a client that reconnects with Last-Event-ID (as
// EventSource does by itself) or ?since= receives what it missed, as long
// as the ring still holds it.
//
// Event ids increase for the life of the process and start from the
// broker's creation time in microseconds, so that ids also increase across
// restarts: a client that comes back with an id from before a restart is
// given the whole ring instead of nothing.
package events

import (
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Kinds of events the broker itself sends.
const (
	// KindDropped tells a subscriber that events were lost for it; its
	// data is a Dropped.
	KindDropped = "dropped"
)

// Defaults of Options and of the stream.
const (
	// DefaultBuffer is the length of the ring of recent events.
	DefaultBuffer = 1024
	// defaultQueue is how many events a subscriber may lag behind before
	// it loses some.
	defaultQueue = 256
	// defaultKeepAlive is how often an idle stream gets a comment line,
	// so that proxies and load balancers keep it open.
	defaultKeepAlive = 15 * time.Second
)

// Options configure New.
type Options struct {
	// Buffer is how many recent events are kept for replay; 0 means
	// DefaultBuffer.
	Buffer int
	// Logger receives the broker's own problems (an event that cannot be
	// encoded); nil discards them.
	Logger *slog.Logger
}

// Event is one published event.
type Event struct {
	// ID increases with every event published on the broker.
	ID uint64 `json:"id"`
	// Kind names what happened, such as "incident" or "alert".
	Kind string `json:"kind"`
	// Time is when it was published.
	Time time.Time `json:"time"`
	// Data is the event's JSON document.
	Data json.RawMessage `json:"data"`
}

// Dropped is the data of a KindDropped event: Count events of the kinds
// the subscriber follows, with ids from FirstID to LastID, were not
// delivered to it. A client can reconnect with since=FirstID-1 to have the
// ring replay them, if they are still in it. When a replay asks for
// events the ring no longer holds, Count is the number of missing ids,
// whatever their kinds.
type Dropped struct {
	Count   uint64 `json:"count"`
	FirstID uint64 `json:"first_id"`
	LastID  uint64 `json:"last_id"`
	Reason  string `json:"reason"`
}

// Broker fans published events out to subscribers. It is safe for
// concurrent use; the zero value is not usable, call New.
type Broker struct {
	logger    *slog.Logger
	keepAlive time.Duration
	queue     int

	// seed is the id before the first event of this process.
	seed uint64

	mu     sync.Mutex
	lastID uint64
	// ring holds the most recent events, oldest at ring[start] once full.
	ring   []Event
	start  int
	size   int
	subs   map[*subscriber]struct{}
	closed bool
	done   chan struct{}
}

// subscriber is one client of the stream.
type subscriber struct {
	kinds map[string]bool // nil: every kind
	ch    chan Event
	// lost counts events that did not fit in ch, guarded by Broker.mu.
	lost         uint64
	lostFirst    uint64
	lostLast     uint64
	lostReported chan struct{} // signalled when lost becomes non-zero
}

// New returns a broker. Call Close when done to end every stream.
func New(o Options) *Broker {
	if o.Buffer <= 0 {
		o.Buffer = DefaultBuffer
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	seed := uint64(time.Now().UnixMicro())
	return &Broker{
		seed:      seed,
		logger:    o.Logger,
		keepAlive: defaultKeepAlive,
		queue:     defaultQueue,
		lastID:    seed,
		ring:      make([]Event, o.Buffer),
		subs:      map[*subscriber]struct{}{},
		done:      make(chan struct{}),
	}
}

// Publish sends an event of kind with data encoded as JSON to every
// subscriber that follows kind. It never blocks: a subscriber whose queue
// is full loses the event and is told with a "dropped" event. Data that
// cannot be encoded is logged and not published. Publish after Close does
// nothing.
func (b *Broker) Publish(kind string, data any) {
	raw, err := json.Marshal(data)
	if err != nil {
		b.logger.Error("event data cannot be encoded as JSON; not published", "kind", kind, "err", err)
		return
	}
	// A line break in the kind would end the SSE field early.
	kind = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return '_'
		}
		return r
	}, kind)
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.lastID++
	ev := Event{ID: b.lastID, Kind: kind, Time: now, Data: raw}
	b.push(ev)
	for s := range b.subs {
		if s.kinds != nil && !s.kinds[kind] {
			continue
		}
		if s.lost > 0 {
			// Until it is told of its loss, a subscriber takes nothing
			// more, so that what it lost is one contiguous range.
			s.lost++
			s.lostLast = ev.ID
			continue
		}
		select {
		case s.ch <- ev:
		default:
			if s.lost == 0 {
				s.lostFirst = ev.ID
				select {
				case s.lostReported <- struct{}{}:
				default:
				}
			}
			s.lost++
			s.lostLast = ev.ID
		}
	}
}

// push adds ev to the ring. The caller holds b.mu.
func (b *Broker) push(ev Event) {
	n := len(b.ring)
	if b.size < n {
		b.ring[(b.start+b.size)%n] = ev
		b.size++
		return
	}
	b.ring[b.start] = ev
	b.start = (b.start + 1) % n
}

// Recent returns the events in the ring with ids above since, oldest
// first.
func (b *Broker) Recent(since uint64) []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.recent(since, nil)
}

// recent returns the ring's events after since of the kinds (nil: all),
// oldest first. The caller holds b.mu.
func (b *Broker) recent(since uint64, kinds map[string]bool) []Event {
	var out []Event
	n := len(b.ring)
	for i := range b.size {
		ev := b.ring[(b.start+i)%n]
		if ev.ID <= since || (kinds != nil && !kinds[ev.Kind]) {
			continue
		}
		out = append(out, ev)
	}
	return out
}

// subscribe registers a subscriber and returns, atomically with it, the
// events to replay after since (when replay is set) and what of them the
// ring no longer holds. ok is false once the broker is closed.
func (b *Broker) subscribe(kinds map[string]bool, since uint64, replay bool) (s *subscriber, past []Event, gone Dropped, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, nil, Dropped{}, false
	}
	s = &subscriber{kinds: kinds, ch: make(chan Event, b.queue), lostReported: make(chan struct{}, 1)}
	b.subs[s] = struct{}{}
	if !replay || since >= b.lastID {
		return s, nil, Dropped{}, true
	}
	past = b.recent(since, kinds)
	// Ids up to b.seed were never published by this process (they are
	// from before a restart): nothing of them was lost here.
	lo := max(since, b.seed) + 1
	if b.size > 0 {
		if oldest := b.ring[b.start].ID; oldest > lo {
			gone = Dropped{Count: oldest - lo, FirstID: lo, LastID: oldest - 1, Reason: "no longer in the server's buffer of recent events"}
		}
	}
	return s, past, gone, true
}

func (b *Broker) unsubscribe(s *subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.subs, s)
}

// takeLost returns and clears what s lost.
func (b *Broker) takeLost(s *subscriber) Dropped {
	b.mu.Lock()
	defer b.mu.Unlock()
	d := Dropped{Count: s.lost, FirstID: s.lostFirst, LastID: s.lostLast, Reason: "the client read too slowly"}
	s.lost, s.lostFirst, s.lostLast = 0, 0, 0
	return d
}

// Subscribers returns how many clients follow the stream.
func (b *Broker) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// Close ends every stream and makes Publish a no-op. It may be called
// more than once.
func (b *Broker) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	close(b.done)
}
