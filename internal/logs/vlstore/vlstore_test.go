package vlstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/saypro/monitor/internal/logs"
)

func open(t *testing.T, o Options) *Store {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.Retention == 0 {
		o.Retention = 7 * 24 * time.Hour
	}
	o.Logger = slog.New(slog.DiscardHandler)
	st, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// fixture adds 300 entries one second apart ending at end: every third is
// an sshd failure from 10.0.0.(i%3), the rest nginx lines; 10 share one
// timestamp to exercise paging over ties.
func fixture(t *testing.T, st *Store, end time.Time) {
	t.Helper()
	var es []logs.Entry
	for i := range 300 {
		ts := end.Add(-time.Duration(i) * time.Second)
		if i >= 100 && i < 110 {
			ts = end.Add(-100 * time.Second)
		}
		e := logs.Entry{Time: ts, Host: fmt.Sprintf("web-%d", i%2), Source: "nginx-access", Service: "nginx", Severity: "info",
			Message: fmt.Sprintf("GET /item/%d HTTP/1.1 200", i), Fields: map[string]string{"status": "200"}}
		if i%3 == 0 {
			e.Source, e.Service, e.Severity = "auth", "sshd", "warning"
			e.Message = fmt.Sprintf("Failed password for root from 10.0.0.%d port 22 ssh2 Segfault-free %d", i%4, i)
			e.Fields = map[string]string{"event": "ssh_failed", "src_ip": fmt.Sprintf("10.0.0.%d", i%4)}
		}
		es = append(es, e)
	}
	if err := st.Add(es); err != nil {
		t.Fatal(err)
	}
	st.Flush()
}

func TestSearchFiltersAndPaging(t *testing.T) {
	st := open(t, Options{SourceRetention: map[string]time.Duration{"auth": 30 * 24 * time.Hour}})
	end := time.Now().Truncate(time.Second)
	fixture(t, st, end)
	ctx := context.Background()
	win := logs.Filter{Start: end.Add(-time.Hour), End: end}

	tests := []struct {
		name string
		f    func(logs.Filter) logs.Filter
		want int
	}{
		{"all", func(f logs.Filter) logs.Filter { return f }, 300},
		{"source", func(f logs.Filter) logs.Filter { f.Sources = []string{"auth"}; return f }, 100},
		{"two hosts", func(f logs.Filter) logs.Filter { f.Hosts = []string{"web-0", "web-1"}; return f }, 300},
		{"host", func(f logs.Filter) logs.Filter { f.Hosts = []string{"web-0"}; return f }, 150},
		{"field", func(f logs.Filter) logs.Filter {
			f.Fields = []logs.FieldMatch{{Name: "src_ip", Value: "10.0.0.1"}}
			return f
		}, 25},
		{"word any case", func(f logs.Filter) logs.Filter { f.Text = "failed"; return f }, 100},
		{"phrase", func(f logs.Filter) logs.Filter { f.Text = `"password for root"`; return f }, 100},
		{"words and", func(f logs.Filter) logs.Filter { f.Text = "GET 200"; f.Severities = []string{"info"}; return f }, 200},
		{"regex", func(f logs.Filter) logs.Filter { f.Regex = `/item/1\d\d `; return f }, 67},
		{"quote in value", func(f logs.Filter) logs.Filter { f.Hosts = []string{`we"b`}; return f }, 0},
		{"last minute", func(f logs.Filter) logs.Filter { f.Start = end.Add(-59 * time.Second); return f }, 60},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.f(win)
			var got []logs.Entry
			var cur *logs.Cursor
			for page := 0; ; page++ {
				es, next, err := st.Search(ctx, f, 7, cur)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, es...)
				if next == nil {
					break
				}
				c, err := logs.ParseCursor(next.String())
				if err != nil {
					t.Fatal(err)
				}
				cur = &c
				if page > 100 {
					t.Fatal("paging does not end")
				}
			}
			if len(got) != tc.want {
				t.Fatalf("got %d entries, want %d", len(got), tc.want)
			}
			seen := map[string]bool{}
			for i, e := range got {
				if i > 0 && e.Time.After(got[i-1].Time) {
					t.Fatalf("entry %d is newer than the one before", i)
				}
				key := e.Time.String() + e.Host + e.Message
				if seen[key] {
					t.Fatalf("entry %q returned twice", e.Message)
				}
				seen[key] = true
			}
		})
	}

	h, total, err := st.Histogram(ctx, win, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var sum uint64
	for _, b := range h {
		sum += b.Count
	}
	if total != 300 || sum != 300 || len(h) != 61 {
		t.Fatalf("histogram: total %d, sum %d, %d buckets", total, sum, len(h))
	}

	vs, err := st.Values(ctx, win, logs.FieldSource, 10)
	if err != nil || len(vs) != 2 || vs[0] != (logs.Value{Value: "nginx-access", Count: 200}) {
		t.Fatalf("values: %v %v", vs, err)
	}
	f := win
	f.Fields = []logs.FieldMatch{{Name: "event", Value: "ssh_failed"}}
	gs, err := st.CountBy(ctx, f, []string{"src_ip", "host"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 4 {
		t.Fatalf("groups: %+v", gs)
	}
	for _, g := range gs {
		if g.Count < 10 || g.Labels["src_ip"] == "" {
			t.Fatalf("group %+v", g)
		}
	}
	if s := st.Stats(); s.Rows != 300 || s.DiskBytes == 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestReopenKeepsEntries(t *testing.T) {
	dir := t.TempDir()
	st := open(t, Options{Dir: dir})
	end := time.Now()
	fixture(t, st, end)
	st.Close()
	st = open(t, Options{Dir: dir})
	es, _, err := st.Search(context.Background(), logs.Filter{Start: end.Add(-time.Hour), End: end}, 1000, nil)
	if err != nil || len(es) != 300 {
		t.Fatalf("after reopening: %d entries, %v", len(es), err)
	}
}

func TestReadOnlyWhenDiskIsFull(t *testing.T) {
	st := open(t, Options{MinFreeDiskBytes: math.MaxInt64 / 2})
	err := st.Add([]logs.Entry{{Time: time.Now(), Host: "h", Source: "s", Message: "m"}})
	if !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Add on a full disk: %v, want ErrReadOnly", err)
	}
	if !st.Stats().ReadOnly {
		t.Fatal("stats do not say read-only")
	}
}

func TestOutOfRetentionIsCounted(t *testing.T) {
	st := open(t, Options{})
	err := st.Add([]logs.Entry{
		{Time: time.Now().Add(-30 * 24 * time.Hour), Host: "h", Source: "s", Message: "old"},
		{Time: time.Now().Add(30 * 24 * time.Hour), Host: "h", Source: "s", Message: "future"},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := st.Stats()
	if s.DroppedTooOld != 1 || s.DroppedFuture != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestBadQueries(t *testing.T) {
	st := open(t, Options{})
	ctx := context.Background()
	if err := ValidateRegex("(a"); err == nil {
		t.Fatal("an invalid regex was accepted")
	}
	if _, _, err := st.Histogram(ctx, logs.Filter{}, time.Minute); err == nil {
		t.Fatal("a histogram without a range was accepted")
	}
	if _, err := logs.ParseCursor("zz"); err == nil {
		t.Fatal("a bad cursor was accepted")
	}
	if _, err := Open(Options{Dir: t.TempDir(), Retention: time.Hour}); err == nil {
		t.Fatal("a retention under one day was accepted")
	}
}

// TestFillingARealDisk writes to a store on a small tmpfs until the free
// space falls under MinFreeDiskBytes: Add then refuses with ErrReadOnly
// (no engine panic on a full disk), and after a reopen every entry that
// was accepted is there. It needs root to mount the tmpfs and skips
// otherwise.
//
// The engine's merges write new parts before they delete the old ones,
// and its flushes of in-memory data do not check free space: the free
// space kept must exceed the data being merged plus what arrives
// until the next write to disk (with a 48 MiB disk and 24 MiB kept, a
// merge ran out of space and the engine ended the process).
func TestFillingARealDisk(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=128m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	o := Options{Dir: filepath.Join(dir, "logs"), MinFreeDiskBytes: 80 << 20}
	st := open(t, o)
	// Incompressible messages fill the disk quickly.
	rnd := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 2048)
	accepted := 0
	var refused error
	// The engine writes in-memory data to disk every 5 s: keep adding,
	// a little at a time, until the free space check refuses.
	deadline := time.Now().Add(90 * time.Second)
	for refused == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		es := make([]logs.Entry, 50)
		for i := range es {
			for j := range buf {
				buf[j] = 'a' + byte(rnd.IntN(26))
			}
			es[i] = logs.Entry{Time: time.Now(), Host: "h", Source: "fill", Message: string(buf)}
		}
		if refused = st.Add(es); refused == nil {
			accepted += len(es)
		}
	}
	if !errors.Is(refused, ErrReadOnly) {
		t.Fatalf("the disk never filled up enough: %v after %d entries", refused, accepted)
	}
	st.Close()
	st = open(t, o)
	es, _, err := st.Search(context.Background(), logs.Filter{Start: time.Now().Add(-time.Hour), End: time.Now().Add(time.Minute)}, 1, nil)
	if err != nil || len(es) != 1 {
		t.Fatalf("after reopening: %v %v", es, err)
	}
	if got := st.Stats().Rows; got != uint64(accepted) {
		t.Fatalf("after reopening the store has %d entries, %d were accepted", got, accepted)
	}
}
