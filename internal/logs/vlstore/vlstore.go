// Package vlstore is the embedded log store: VictoriaLogs' storage engine
// (lib/logstorage of VictoriaMetrics v1.121.0) wrapped behind the logs
// package's types.
//
// The engine is an application's internal package, and this wrapper fences
// it in:
//
//   - Its global flags (memory limit, logger) are set here before first
//     use; the first Open's memory limit holds for the process.
//   - Its log lines go to the slog logger, at their own level.
//   - A store whose disk has less than MinFreeDiskBytes free turns read-only
//     (the engine's own mode) and Add returns ErrReadOnly instead of
//     writing, so a full disk stops ingestion with a clear error rather
//     than an engine panic on a failed write.
//   - Retention is by whole days (the engine's day partitions); per-source
//     retention opens one engine per distinct retention, each in its own
//     directory, and queries run on all of them and merge.
package vlstore

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/logger"
	"github.com/VictoriaMetrics/VictoriaMetrics/lib/logstorage"

	"github.com/saypro/monitor/internal/logs"
)

// ErrReadOnly is returned by Add when the store's disk is (nearly) full.
var ErrReadOnly = errors.New("the log store is read-only: free disk space is below logs.min_free_disk")

// Options configure a Store.
type Options struct {
	// Dir holds the store; each retention gets a subdirectory.
	Dir string
	// Retention is how long entries are kept (whole days; at least 1 day).
	Retention time.Duration
	// SourceRetention overrides Retention for the named sources.
	SourceRetention map[string]time.Duration
	// MaxDiskBytes bounds the disk use of the default retention's data:
	// the oldest days are dropped beyond it. 0 is no bound.
	MaxDiskBytes int64
	// MinFreeDiskBytes turns the store read-only below this free space.
	MinFreeDiskBytes int64
	// MemoryLimitBytes bounds the engine's caches, process-wide; the
	// first Open in a process sets it.
	MemoryLimitBytes int64
	// FutureRetention is how far ahead of now a time may be (default 2 days).
	FutureRetention time.Duration
	Logger          *slog.Logger
}

// Store is the embedded log store.
type Store struct {
	logger  *slog.Logger
	parts   []*part
	bySrc   map[string]*part
	def     *part
	minFree int64
}

type part struct {
	name      string
	dir       string
	retention time.Duration
	s         *logstorage.Storage
}

var tenants = []logstorage.TenantID{{}}

// streamFields are the engine's stream fields: entries of one host and
// source are stored together.
var streamFields = []string{logs.FieldHost, logs.FieldSource}

// initEngine sets the engine's process-wide settings. The engine keeps them
// in its own package state (flags); this is the one place that sets them.
var initEngine = sync.OnceValue(func() *engineLog {
	w := &engineLog{}
	// The engine refuses to size its caches before flag.Parse; our
	// commands parse their own flag sets, so the global set is parsed
	// empty here (the settings are made with flag.Set).
	if !flag.Parsed() {
		_ = flag.CommandLine.Parse(nil)
	}
	logger.InitNoLogFlags()
	logger.SetOutputForTests(w)
	return w
})

// engineLog turns the engine's log lines ("time\tlevel\tcaller\tmessage")
// into slog records.
type engineLog struct {
	mu     sync.Mutex
	logger *slog.Logger
}

func (w *engineLog) setLogger(l *slog.Logger) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.logger == nil {
		w.logger = l
	}
}

func (w *engineLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	l := w.logger
	w.mu.Unlock()
	if l == nil {
		return len(p), nil
	}
	line := string(bytes.TrimRight(p, "\n"))
	parts := strings.SplitN(line, "\t", 4)
	level, msg, caller := slog.LevelInfo, line, ""
	if len(parts) == 4 {
		caller, msg = parts[2], parts[3]
		switch parts[1] {
		case "warn":
			level = slog.LevelWarn
		case "error", "fatal", "panic":
			level = slog.LevelError
		}
	}
	l.Log(context.Background(), level, msg, "engine", caller)
	return len(p), nil
}

// Open opens or creates the store in o.Dir.
func Open(o Options) (*Store, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Retention < 24*time.Hour {
		return nil, fmt.Errorf("log store: retention %s is shorter than the 1 day the store keeps at least", o.Retention)
	}
	if o.FutureRetention == 0 {
		o.FutureRetention = 48 * time.Hour
	}
	if o.MemoryLimitBytes > 0 {
		if err := flag.Set("memory.allowedBytes", strconv.FormatInt(o.MemoryLimitBytes, 10)); err != nil {
			return nil, fmt.Errorf("log store: setting the memory limit: %w", err)
		}
	}
	initEngine().setLogger(o.Logger)
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("log store: %w (set the data directory to a writable place)", err)
	}

	st := &Store{logger: o.Logger, bySrc: map[string]*part{}, minFree: o.MinFreeDiskBytes}
	byRetention := map[time.Duration]*part{}
	open := func(ret time.Duration, maxDisk int64) (*part, error) {
		if ret < 24*time.Hour {
			return nil, fmt.Errorf("log store: retention %s is shorter than 1 day", ret)
		}
		if p := byRetention[ret]; p != nil {
			return p, nil
		}
		name := "default"
		if len(byRetention) > 0 {
			name = fmt.Sprintf("retention-%dh", int64(ret/time.Hour))
		}
		if ret == o.Retention {
			name = "default"
		}
		dir := filepath.Join(o.Dir, name)
		p := &part{name: name, dir: dir, retention: ret}
		p.s = logstorage.MustOpenStorage(dir, &logstorage.StorageConfig{
			Retention:              ret,
			MaxDiskSpaceUsageBytes: maxDisk,
			FlushInterval:          5 * time.Second,
			FutureRetention:        o.FutureRetention,
			MinFreeDiskSpaceBytes:  o.MinFreeDiskBytes,
		})
		byRetention[ret] = p
		st.parts = append(st.parts, p)
		return p, nil
	}
	def, err := open(o.Retention, o.MaxDiskBytes)
	if err != nil {
		return nil, err
	}
	st.def = def
	for _, src := range slices.Sorted(maps.Keys(o.SourceRetention)) {
		p, err := open(o.SourceRetention[src], 0)
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("%w (source %q)", err, src)
		}
		st.bySrc[src] = p
	}
	return st, nil
}

// Close flushes and closes the store.
func (st *Store) Close() {
	for _, p := range st.parts {
		p.s.MustClose()
	}
	st.parts = nil
}

func (st *Store) partFor(source string) *part {
	if p := st.bySrc[source]; p != nil {
		return p
	}
	return st.def
}

// ReadOnly reports whether the store refuses new entries, and why.
func (st *Store) ReadOnly() bool {
	for _, p := range st.parts {
		if p.s.IsReadOnly() {
			return true
		}
	}
	return false
}

// Add stores entries. It returns ErrReadOnly, storing nothing, when the
// disk is nearly full. Entries outside the retention window are dropped by
// the engine (counted in Stats).
func (st *Store) Add(entries []logs.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	if st.ReadOnly() {
		return ErrReadOnly
	}
	rows := make(map[*part]*logstorage.LogRows, len(st.parts))
	var fields []logstorage.Field
	for i := range entries {
		e := &entries[i]
		p := st.partFor(e.Source)
		lr := rows[p]
		if lr == nil {
			lr = logstorage.GetLogRows(streamFields, nil, nil, nil, "")
			rows[p] = lr
		}
		fields = append(fields[:0],
			logstorage.Field{Name: "_msg", Value: e.Message},
			logstorage.Field{Name: logs.FieldHost, Value: e.Host},
			logstorage.Field{Name: logs.FieldSource, Value: e.Source},
			logstorage.Field{Name: logs.FieldService, Value: e.Service},
			logstorage.Field{Name: logs.FieldSeverity, Value: e.Severity},
		)
		for k, v := range e.Fields {
			if !logs.IsCoreField(k) {
				fields = append(fields, logstorage.Field{Name: k, Value: v})
			}
		}
		lr.MustAdd(logstorage.TenantID{}, e.Time.UnixNano(), fields, nil)
		if lr.NeedFlush() {
			p.s.MustAddRows(lr)
			lr.ResetKeepSettings()
		}
	}
	for p, lr := range rows {
		p.s.MustAddRows(lr)
		logstorage.PutLogRows(lr)
	}
	return nil
}

// Flush makes everything added so far searchable (slow; for tests and
// benchmarks).
func (st *Store) Flush() {
	for _, p := range st.parts {
		p.s.DebugFlush()
	}
}

// ForceMerge merges each day's parts (slow; for benchmarks).
func (st *Store) ForceMerge() {
	for _, p := range st.parts {
		p.s.MustForceMerge("")
	}
}

// Stats describe the store.
type Stats struct {
	DiskBytes int64 `json:"disk_bytes"`
	// Rows counts stored entries, in memory and on disk.
	Rows          uint64 `json:"rows"`
	Days          uint64 `json:"days"`
	ReadOnly      bool   `json:"read_only"`
	DroppedTooOld uint64 `json:"dropped_too_old"`
	DroppedFuture uint64 `json:"dropped_future"`
}

// Stats reads the store's figures; DiskBytes is what its files take.
func (st *Store) Stats() Stats {
	var out Stats
	for _, p := range st.parts {
		var ss logstorage.StorageStats
		p.s.UpdateStats(&ss)
		out.Rows += ss.InmemoryRowsCount + ss.SmallPartRowsCount + ss.BigPartRowsCount
		out.Days += ss.PartitionsCount
		out.ReadOnly = out.ReadOnly || ss.IsReadOnly
		out.DroppedTooOld += ss.RowsDroppedTooSmallTimestamp
		out.DroppedFuture += ss.RowsDroppedTooBigTimestamp
		out.DiskBytes += dirSize(p.dir)
	}
	return out
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			n += info.Size()
		}
		return nil
	})
	return n
}

// quote writes s as a LogsQL quoted string.
func quote(s string) string { return strconv.Quote(s) }

// filterExpr turns f (without its time range) into a LogsQL filter.
func filterExpr(f logs.Filter) string {
	var b strings.Builder
	and := func(s string) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s)
	}
	in := func(field string, values []string) {
		switch len(values) {
		case 0:
			return
		case 1:
			and(quote(field) + ":=" + quote(values[0]))
		default:
			q := make([]string, len(values))
			for i, v := range values {
				q[i] = quote(v)
			}
			and(quote(field) + ":in(" + strings.Join(q, ",") + ")")
		}
	}
	in(logs.FieldHost, f.Hosts)
	in(logs.FieldSource, f.Sources)
	in(logs.FieldService, f.Services)
	in(logs.FieldSeverity, f.Severities)
	for _, m := range f.Fields {
		and(quote(m.Name) + ":=" + quote(m.Value))
	}
	for _, t := range logs.Terms(f.Text) {
		and(termExpr(t))
	}
	if f.Regex != "" {
		and("~" + quote(f.Regex))
	}
	if b.Len() == 0 {
		return "*"
	}
	return b.String()
}

// termExpr matches a word or phrase as typed, in lower case, in upper case
// and capitalised: the engine's exact phrase filter uses its bloom filters,
// which a case-insensitive filter cannot.
func termExpr(t string) string {
	variants := logs.CaseVariants(t)
	if len(variants) == 1 {
		return quote(variants[0])
	}
	q := make([]string, len(variants))
	for i, v := range variants {
		q[i] = quote(v)
	}
	return "(" + strings.Join(q, " or ") + ")"
}

// ValidateRegex reports whether the engine accepts re.
func ValidateRegex(re string) error {
	if re == "" {
		return nil
	}
	if _, err := logstorage.ParseQuery("~" + quote(re)); err != nil {
		return fmt.Errorf("invalid regular expression %q: %w", re, err)
	}
	return nil
}

func (st *Store) parse(f logs.Filter, pipes string) (*logstorage.Query, error) {
	q, err := logstorage.ParseQuery(filterExpr(f) + pipes)
	if err != nil {
		return nil, fmt.Errorf("log query: %w", err)
	}
	start, end := f.Start.UnixNano(), f.End.UnixNano()
	if f.Start.IsZero() {
		start = 0
	}
	if f.End.IsZero() {
		end = time.Now().Add(72 * time.Hour).UnixNano()
	}
	q.AddTimeFilter(start, end)
	return q, nil
}

// run runs the query on every part and hands the blocks to fn, serialised.
func (st *Store) run(ctx context.Context, f logs.Filter, pipes string, fn func(db *logstorage.DataBlock)) error {
	for _, p := range st.parts {
		q, err := st.parse(f, pipes)
		if err != nil {
			return err
		}
		var mu sync.Mutex
		err = p.s.RunQuery(ctx, tenants, q, func(_ uint, db *logstorage.DataBlock) {
			mu.Lock()
			defer mu.Unlock()
			fn(db)
		})
		if err != nil {
			return err
		}
	}
	return ctx.Err()
}

// order sorts newest first, then by host, source and message, so that
// pages of entries with equal times are stable.
func order(a, b *logs.Entry) int {
	if c := b.Time.Compare(a.Time); c != 0 {
		return c
	}
	return cmp.Or(strings.Compare(a.Host, b.Host), strings.Compare(a.Source, b.Source), strings.Compare(a.Message, b.Message))
}

const sortPipe = " | sort by (_time desc, host, source, _msg)"

// Search returns up to limit entries matching f, newest first, after the
// cursor (nil for the first page), and the cursor of the next page (nil
// when there is none).
func (st *Store) Search(ctx context.Context, f logs.Filter, limit int, after *logs.Cursor) ([]logs.Entry, *logs.Cursor, error) {
	if limit <= 0 {
		limit = 100
	}
	skip := 0
	if after != nil {
		if f.End.IsZero() || after.Time.Before(f.End) {
			f.End = after.Time
		}
		skip = after.Skip
	}
	want := skip + limit + 1
	var out []logs.Entry
	err := st.run(ctx, f, fmt.Sprintf("%s limit %d", sortPipe, want), func(db *logstorage.DataBlock) {
		out = appendEntries(out, db)
	})
	if err != nil {
		return nil, nil, err
	}
	slices.SortFunc(out, func(a, b logs.Entry) int { return order(&a, &b) })
	if skip > len(out) {
		skip = len(out)
	}
	out = out[skip:]
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	if !more || len(out) == 0 {
		return out, nil, nil
	}
	last := out[len(out)-1].Time
	n := 0
	for i := len(out) - 1; i >= 0 && out[i].Time.Equal(last); i-- {
		n++
	}
	if after != nil && after.Time.Equal(last) {
		n += after.Skip
	}
	return out, &logs.Cursor{Time: last, Skip: n}, nil
}

func appendEntries(out []logs.Entry, db *logstorage.DataBlock) []logs.Entry {
	n := db.RowsCount()
	base := len(out)
	out = slices.Grow(out, n)[:base+n]
	for _, c := range db.Columns {
		for i, v := range c.Values {
			e := &out[base+i]
			switch c.Name {
			case "_time":
				if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
					e.Time = t
				}
			case "_msg":
				e.Message = v
			case logs.FieldHost:
				e.Host = v
			case logs.FieldSource:
				e.Source = v
			case logs.FieldService:
				e.Service = v
			case logs.FieldSeverity:
				e.Severity = v
			default:
				if v == "" || strings.HasPrefix(c.Name, "_") {
					continue
				}
				if e.Fields == nil {
					e.Fields = map[string]string{}
				}
				e.Fields[c.Name] = v
			}
		}
	}
	return out
}

// Histogram counts the entries matching f per step, by severity, from
// f.Start to f.End (both required). Empty buckets are included.
func (st *Store) Histogram(ctx context.Context, f logs.Filter, step time.Duration) ([]logs.Bucket, uint64, error) {
	if step < time.Second {
		step = time.Second
	}
	if f.Start.IsZero() || f.End.IsZero() || !f.Start.Before(f.End) {
		return nil, 0, errors.New("a histogram needs a start before its end")
	}
	first := f.Start.Truncate(step)
	n := int(f.End.Sub(first)/step) + 1
	if n > 10000 {
		return nil, 0, fmt.Errorf("a histogram of %d buckets is too many; use a longer step", n)
	}
	buckets := make([]logs.Bucket, n)
	for i := range buckets {
		buckets[i] = logs.Bucket{Time: first.Add(time.Duration(i) * step), BySeverity: map[string]int{}}
	}
	var total uint64
	pipes := fmt.Sprintf(" | stats by (_time:%ds, severity) count() hits", int64(step/time.Second))
	err := st.run(ctx, f, pipes, func(db *logstorage.DataBlock) {
		var times, sevs, hits []string
		for _, c := range db.Columns {
			switch c.Name {
			case "_time":
				times = c.Values
			case logs.FieldSeverity:
				sevs = c.Values
			case "hits":
				hits = c.Values
			}
		}
		for i := range hits {
			h, _ := strconv.ParseUint(hits[i], 10, 64)
			t, err := time.Parse(time.RFC3339Nano, times[i])
			if err != nil {
				continue
			}
			k := int(t.Sub(first) / step)
			if k < 0 || k >= n {
				continue
			}
			buckets[k].Count += h
			sev := sevs[i]
			if sev == "" {
				sev = "unknown"
			}
			buckets[k].BySeverity[sev] += int(h)
			total += h
		}
	})
	return buckets, total, err
}

// Values returns the most frequent values of field among entries matching
// f, most frequent first.
func (st *Store) Values(ctx context.Context, f logs.Filter, field string, limit int) ([]logs.Value, error) {
	counts := map[string]uint64{}
	for _, p := range st.parts {
		q, err := st.parse(f, "")
		if err != nil {
			return nil, err
		}
		vs, err := p.s.GetFieldValues(ctx, tenants, q, field, 0)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			if v.Value != "" {
				counts[v.Value] += v.Hits
			}
		}
	}
	out := make([]logs.Value, 0, len(counts))
	for v, n := range counts {
		out = append(out, logs.Value{Value: v, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// CountBy counts the entries matching f grouped by the fields by (none:
// one group), leaving out groups with fewer than min entries.
func (st *Store) CountBy(ctx context.Context, f logs.Filter, by []string, min uint64) ([]logs.Group, error) {
	q := make([]string, len(by))
	for i, b := range by {
		q[i] = quote(b)
	}
	pipes := fmt.Sprintf(" | stats by (%s) count() hits", strings.Join(q, ","))
	groups := map[string]*logs.Group{}
	err := st.run(ctx, f, pipes, func(db *logstorage.DataBlock) {
		cols := map[string][]string{}
		for _, c := range db.Columns {
			cols[c.Name] = c.Values
		}
		for i, h := range cols["hits"] {
			n, _ := strconv.ParseUint(h, 10, 64)
			labels := make(map[string]string, len(by))
			var key strings.Builder
			for _, b := range by {
				v := cols[b][i]
				labels[b] = v
				key.WriteString(v)
				key.WriteByte(0)
			}
			g := groups[key.String()]
			if g == nil {
				g = &logs.Group{Labels: labels}
				groups[key.String()] = g
			}
			g.Count += n
		}
	})
	if err != nil {
		return nil, err
	}
	out := make([]logs.Group, 0, len(groups))
	for _, g := range groups {
		if g.Count >= min {
			out = append(out, *g)
		}
	}
	slices.SortFunc(out, func(a, b logs.Group) int { return cmp.Compare(b.Count, a.Count) })
	return out, nil
}

var _ logs.Store = (*Store)(nil)
