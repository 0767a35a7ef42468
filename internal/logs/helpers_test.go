package logs_test

import (
	"context"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/logs"
	"github.com/saypro/monitor/internal/logs/vlstore"
)

// openStore opens a real log store in a temporary directory.
func openStore(t testing.TB, o vlstore.Options) *vlstore.Store {
	t.Helper()
	o.Dir = t.TempDir()
	if o.Retention == 0 {
		o.Retention = 30 * 24 * time.Hour
	}
	o.Logger = slog.New(slog.DiscardHandler)
	st, err := vlstore.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// testPipeline is a pipeline over a real store with its own registry.
type testPipeline struct {
	*logs.Pipeline
	store *vlstore.Store
	reg   *prometheus.Registry
	now   time.Time
}

// newPipeline builds a pipeline on a fresh store; now is fixed (to the
// second, in UTC) unless o.Now is set. o.Store, when set, is kept.
func newPipeline(t testing.TB, o logs.Options) *testPipeline {
	t.Helper()
	tp := &testPipeline{reg: prometheus.NewRegistry(), now: time.Now().UTC().Truncate(time.Second)}
	if o.Store == nil {
		tp.store = openStore(t, vlstore.Options{})
		o.Store = tp.store
	} else if st, ok := o.Store.(*vlstore.Store); ok {
		tp.store = st
	}
	if o.Now == nil {
		o.Now = func() time.Time { return tp.now }
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	o.Registerer = tp.reg
	p, err := logs.NewPipeline(o)
	if err != nil {
		t.Fatal(err)
	}
	tp.Pipeline = p
	return tp
}

// ingest sends one agent batch and fails the test on an error.
func (tp *testPipeline) ingest(t testing.TB, host string, entries ...agentapi.LogEntry) {
	t.Helper()
	if err := tp.IngestAgent(context.Background(), agentapi.LogBatch{Host: host, Entries: entries}); err != nil {
		t.Fatal(err)
	}
}

// all returns every stored entry between start and end, newest first.
func all(t testing.TB, st *vlstore.Store, f logs.Filter) []logs.Entry {
	t.Helper()
	st.Flush()
	if f.Start.IsZero() {
		f.Start = time.Now().Add(-60 * 24 * time.Hour)
	}
	if f.End.IsZero() {
		f.End = time.Now().Add(24 * time.Hour)
	}
	var out []logs.Entry
	var cur *logs.Cursor
	for range 1000 {
		es, next, err := st.Search(context.Background(), f, 1000, cur)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, es...)
		if next == nil {
			return out
		}
		cur = next
	}
	t.Fatal("paging does not end")
	return nil
}

// waitEntries polls the store until n entries match f.
func waitEntries(t testing.TB, st *vlstore.Store, f logs.Filter, n int) []logs.Entry {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		es := all(t, st, f)
		if len(es) >= n {
			return es
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited for %d entries matching %+v, have %d: %+v", n, f, len(es), es)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// metric returns the value of the counter, gauge or histogram count named
// name whose labels include want; NaN when there is none.
func metric(t testing.TB, g prometheus.Gatherer, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range want {
				if have[k] != v {
					continue next
				}
			}
			return value(m)
		}
	}
	return math.NaN()
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return math.NaN()
}

// messages returns the messages of entries, in order.
func messages(es []logs.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Message
	}
	return out
}
