package remotewrite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/client_golang/prometheus"
)

// Queue is the Client's durable disk queue for another kind of payload
// (the agent's log batches): the same segment files, checksums, position
// file, size limit and recovery, holding opaque byte payloads, each
// counting some items (log entries, say). A Queue has one writer side
// (Append, from any goroutine) and one reader (Next, then Commit), which
// delivers as it likes.
type Queue struct {
	q      *queue
	notify chan struct{}
}

// QueueOptions configure a Queue. Every field is required.
type QueueOptions struct {
	// Dir is the queue directory, created with mode 0700 if missing; no
	// other queue may use it.
	Dir string
	// MaxSize bounds the bytes of the queue on disk (at least
	// MinQueueSize); beyond it the oldest payloads are dropped.
	MaxSize int64
	Logger  *slog.Logger
	// Bytes is set to the queue's size on disk, Pending to the items not
	// yet committed, and Dropped (with a "reason" label) counts the items
	// dropped: queue_full, write_error, unreadable.
	Bytes, Pending prometheus.Gauge
	Dropped        *prometheus.CounterVec
}

// OpenQueue opens or creates the queue in o.Dir and recovers what a
// previous process left there.
func OpenQueue(o QueueOptions) (*Queue, error) {
	if o.Dir == "" || o.Logger == nil || o.Bytes == nil || o.Pending == nil || o.Dropped == nil {
		return nil, errors.New("remotewrite: Dir, Logger, Bytes, Pending and Dropped are required")
	}
	if o.MaxSize < MinQueueSize {
		return nil, fmt.Errorf("remotewrite: queue size %d is below the minimum of %d bytes", o.MaxSize, MinQueueSize)
	}
	for _, r := range []string{reasonQueueFull, reasonWriteError, reasonUnreadable} {
		o.Dropped.WithLabelValues(r)
	}
	q, err := openQueue(queueOptions{dir: o.Dir, maxSize: o.MaxSize, logger: o.Logger,
		metrics: &queueMetrics{queueBytes: o.Bytes, pendingSamples: o.Pending, dropped: o.Dropped}})
	if err != nil {
		return nil, err
	}
	return &Queue{q: q, notify: make(chan struct{}, 1)}, nil
}

// Append compresses payload and writes it to the queue as one record
// counting items; it never waits for the network. When it returns nil the
// payload survives the process being killed. Errors are counted in Dropped.
func (q *Queue) Append(payload []byte, items int64) error {
	if len(payload) > maxRecordPayload {
		q.q.m.dropped.WithLabelValues(reasonWriteError).Add(float64(items))
		return fmt.Errorf("payload of %d bytes is larger than the %d bytes a queue record holds", len(payload), maxRecordPayload)
	}
	if err := q.q.append(snappyRecord(payload, items), items); err != nil {
		return err
	}
	select {
	case q.notify <- struct{}{}:
	default:
	}
	return nil
}

// QueueBatch is a run of payloads from the oldest unsent one, which stay
// in the queue until Commit.
type QueueBatch struct {
	b *batch
}

// Next returns up to maxItems items and maxBytes bytes of payload (at
// least one payload) from the oldest unsent one, or nil when the queue is
// caught up.
func (q *Queue) Next(maxItems int64, maxBytes int) (*QueueBatch, error) {
	b, err := q.q.next(maxItems, maxBytes)
	if b == nil || err != nil {
		return nil, err
	}
	return &QueueBatch{b: b}, nil
}

// Wait returns once something was appended since the last Wait, or ctx is
// done (false).
func (q *Queue) Wait(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return false
	case <-q.notify:
		return true
	}
}

// Len is the number of payloads in b.
func (b *QueueBatch) Len() int { return len(b.b.records) }

// Items is the number of items in the first n payloads of b.
func (b *QueueBatch) Items(n int) int64 {
	var items int64
	for _, r := range b.b.records[:n] {
		items += r.samples
	}
	return items
}

// Payload returns payload i of b, decompressed; an error means it is
// damaged on disk and should be committed without being delivered.
func (b *QueueBatch) Payload(i int) ([]byte, error) {
	r := b.b.records[i]
	if r.bad {
		return nil, fmt.Errorf("%w: payload does not decompress", errCorrupt)
	}
	out, err := snappy.Decode(nil, r.payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errCorrupt, err)
	}
	return out, nil
}

// Commit marks the first n payloads of b as done (delivered, or given up
// on) and gives the others back for the next batch. Every batch is
// committed, with n = 0 when nothing was delivered.
func (q *Queue) Commit(b *QueueBatch, n int) { q.q.commit(b.b, n) }

// Shrink keeps the first n payloads of b and gives the others back.
func (q *Queue) Shrink(b *QueueBatch, n int) { q.q.shrink(b.b, n) }

// Pending returns the items not yet committed.
func (q *Queue) Pending() int64 { return q.q.pending() }

// Close syncs and closes the queue's files.
func (q *Queue) Close() error { return q.q.close() }
