package tail

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/config/agentconfig"
)

// Batch limits: a batch is sent when it reaches one of them.
const (
	MaxBatchEntries = 5000
	MaxBatchBytes   = 1 << 20
	FlushInterval   = time.Second
)

// Defaults of the intervals.
const (
	// ScanInterval is how often the glob patterns are matched again.
	ScanInterval = 10 * time.Second
	// PollInterval is how often followed files are read.
	PollInterval = 250 * time.Millisecond
	// rotateGrace is how long a rotated file is still read after its end
	// was reached, for a writer that has not reopened its file yet.
	rotateGrace = 5 * time.Second
	// entryOverhead estimates the bytes of an entry beyond its message
	// in a batch's JSON.
	entryOverhead = 160
	// readBudget bounds what is read of one file per poll, so that a
	// long backlog does not starve the other files.
	readBudget = 4 << 20
	minBackoff = time.Second
	maxBackoff = 30 * time.Second
)

// ErrRejected is wrapped by a LogSink's error when the batch is refused
// for good (it is invalid): the batch is dropped instead of retried.
var ErrRejected = errors.New("log batch rejected")

// LogSink receives batches of log entries. Logs returns nil once it has
// taken responsibility for the batch (stored it, or queued it durably);
// until then the lines are read again after a restart. An error that
// wraps ErrRejected drops the batch; other errors are retried with
// backoff. Logs is called from one goroutine at a time and must not keep
// b.Entries after returning.
type LogSink interface {
	Logs(ctx context.Context, b agentapi.LogBatch) error
}

// Options configure a Collector. Sink, Logger and Registerer are required,
// and StateDir unless Config.StateDir is set.
type Options struct {
	// Config says what to follow.
	Config agentconfig.Logs
	// Host is the host of every batch (the agent's instance label).
	Host string
	// StateDir holds the offsets file when Config.StateDir is empty.
	StateDir string
	Sink     LogSink
	Logger   *slog.Logger
	// Registerer receives the collector's metrics.
	Registerer prometheus.Registerer

	// For tests: zero values mean the defaults.
	scanInterval, pollInterval, flushInterval, rotateGrace time.Duration
	defaults                                               []fileSpec // nil: defaultSources
	journalctl                                             string     // "": looked up in PATH
	syslogFiles                                            []string   // nil: syslogFiles
}

// Collector follows the configured files and journal and ships their
// lines to the sink.
type Collector struct {
	o       Options
	cfg     agentconfig.Logs
	dir     string
	logger  *slog.Logger
	specs   []fileSpec
	m       *metrics
	maxLine int

	// Used by Run only.
	journalc  string // journalctl to run, "" when the journal is off
	followers map[fileID]*follower
	byPath    map[string]*follower
	saved     map[fileID]savedFile
	hadState  bool // offsets were saved by an earlier run
	buf       []byte
	batch     pending
	cursor    string // committed journal cursor
	stateErr  bool
	sinkState bool // the sink is failing
}

// pending is the batch being filled, with what to commit once it is sent.
type pending struct {
	entries []agentapi.LogEntry
	bytes   int
	first   time.Time
	offsets map[*follower]int64
	cursor  string
}

// New checks o and returns a Collector; Run starts it.
func New(o Options) (*Collector, error) {
	if o.Sink == nil || o.Logger == nil || o.Registerer == nil {
		return nil, errors.New("tail: Sink, Logger and Registerer are required")
	}
	dir := o.Config.StateDir
	if dir == "" {
		dir = o.StateDir
	}
	if dir == "" {
		return nil, errors.New("tail: a state directory is required")
	}
	if errs := o.Config.Validate(nil); len(errs) > 0 {
		return nil, fmt.Errorf("tail: invalid configuration: %w", errors.Join(errs...))
	}
	if o.scanInterval <= 0 {
		o.scanInterval = ScanInterval
	}
	if o.pollInterval <= 0 {
		o.pollInterval = PollInterval
	}
	if o.flushInterval <= 0 {
		o.flushInterval = FlushInterval
	}
	if o.rotateGrace <= 0 {
		o.rotateGrace = rotateGrace
	}
	if o.defaults == nil {
		o.defaults = defaultSources
	}
	if o.syslogFiles == nil {
		o.syslogFiles = syslogFiles
	}
	m := newMetrics()
	if err := m.register(o.Registerer); err != nil {
		return nil, err
	}
	c := &Collector{
		o:         o,
		cfg:       o.Config,
		dir:       dir,
		logger:    o.Logger,
		specs:     specsOf(o.Config, o.defaults),
		m:         m,
		maxLine:   int(o.Config.MaxLineSize),
		followers: map[fileID]*follower{},
		byPath:    map[string]*follower{},
		buf:       make([]byte, 64<<10),
	}
	return c, nil
}

// Run follows the logs until ctx is done, then returns nil after handing
// what was read to the sink once more. It returns an error when the state
// directory cannot be used.
func (c *Collector) Run(ctx context.Context) error {
	if !c.cfg.Enabled {
		<-ctx.Done()
		return nil
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return fmt.Errorf("creating the log state directory: %w", err)
	}
	st, exists, err := loadState(c.dir)
	if err != nil {
		if !exists {
			return err
		}
		c.logger.Error("reading every followed file from its end and the journal from now", "err", err)
	}
	c.saved = map[fileID]savedFile{}
	for _, f := range st.Files {
		c.saved[f.fileID] = f
	}
	c.hadState = exists && err == nil
	c.cursor = st.JournalCursor
	defer c.closeAll()
	c.journalc = c.journalCommand(ctx)

	journal := make(chan journalEntry, 1024)
	jctx, stopJournal := context.WithCancel(ctx)
	jdone := make(chan struct{})
	if c.journalc != "" {
		go func() {
			defer close(jdone)
			c.runJournal(jctx, c.cursor, journal)
		}()
	} else {
		close(jdone)
	}
	defer func() {
		stopJournal()
		<-jdone
	}()

	c.scan(true)
	c.save()
	c.poll(ctx)
	scan := time.NewTicker(c.o.scanInterval)
	defer scan.Stop()
	poll := time.NewTicker(c.o.pollInterval)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			// A last batch, so that a restart reads less again.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			c.send(fctx, true)
			cancel()
			return nil
		case <-scan.C:
			c.scan(false)
		case <-poll.C:
			c.poll(ctx)
		case je := <-journal:
			c.m.linesRead.WithLabelValues(je.entry.Source).Inc()
			c.m.bytesRead.WithLabelValues(je.entry.Source).Add(float64(len(je.entry.Message)))
			c.add(je.entry)
			c.batch.cursor = je.cursor
			if c.full() && !c.send(ctx, false) {
				continue
			}
		}
		if len(c.batch.entries) > 0 && time.Since(c.batch.first) >= c.o.flushInterval {
			c.send(ctx, false)
		}
	}
}

// scan matches the patterns and starts following new files. On the very
// first start (no offsets saved yet) files start at their end (read_from:
// end); files found later, or on a later start without a saved offset
// (they appeared while the agent was stopped), from their beginning. On
// the first scan of a start, files rotated while the agent was stopped are
// found too.
func (c *Collector) scan(first bool) {
	seen := map[string]bool{}
	for i := range c.specs {
		spec := &c.specs[i]
		for _, p := range spec.match() {
			if seen[p] {
				continue
			}
			seen[p] = true
			c.track(p, spec, first)
		}
	}
	for p, fl := range c.byPath {
		if !seen[p] {
			c.markRotated(fl, "no longer matches (removed or renamed)")
		}
	}
	if first {
		c.findRotatedWhileStopped()
		c.saved = nil
	}
	c.m.filesFollowed.Set(float64(len(c.followers)))
}

// track follows path if it names a file not followed yet.
func (c *Collector) track(path string, spec *fileSpec, first bool) {
	f, err := os.Open(path)
	if err != nil {
		c.logger.Debug("cannot open a log file", "file", path, "err", err)
		return
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return
	}
	id, ok := idOf(fi)
	if !ok {
		h := fnv.New64a()
		_, _ = h.Write([]byte(path))
		id = fileID{Ino: h.Sum64()}
	}
	if cur := c.byPath[path]; cur != nil {
		if cur.id == id {
			_ = f.Close()
			return
		}
		c.markRotated(cur, "was rotated")
	}
	if fl := c.followers[id]; fl != nil {
		// The same file under another name: a rotated file that this
		// path's pattern also matches, or a second link.
		_ = f.Close()
		if fl.rotated {
			fl.path, fl.rotated, fl.done = path, false, false
			c.byPath[path] = fl
		}
		return
	}
	fl := &follower{path: path, spec: spec, f: f, id: id}
	switch s, ok := c.saved[id]; {
	case ok && s.Offset <= fi.Size():
		fl.readOff, fl.committed = s.Offset, s.Offset
	case ok:
		c.logger.Info("log file is shorter than its saved offset (truncated while the agent was stopped); reading it from the beginning", "file", path)
	case first && !c.hadState && c.cfg.ReadFrom == agentconfig.ReadFromEnd:
		fl.readOff, fl.committed = fi.Size(), fi.Size()
	}
	delete(c.saved, id)
	c.followers[id] = fl
	c.byPath[path] = fl
	c.logger.Info("following a log file", "file", path, "source", spec.source, "offset", fl.readOff)
}

// findRotatedWhileStopped looks for the files with saved offsets that no
// longer have their names (syslog became syslog.1 while the agent was
// stopped) in their directories, and reads what they have left.
func (c *Collector) findRotatedWhileStopped() {
	dirs := map[string][]savedFile{}
	for _, s := range c.saved {
		dirs[filepath.Dir(s.Path)] = append(dirs[filepath.Dir(s.Path)], s)
	}
	for dir, want := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			path := filepath.Join(dir, e.Name())
			spec := c.specFor(want, path)
			if spec == nil || spec.excluded(path) {
				continue
			}
			fi, err := os.Stat(path)
			if err != nil {
				continue
			}
			id, _ := idOf(fi)
			s, ok := c.saved[id]
			if !ok || c.followers[id] != nil || fi.Size() <= s.Offset {
				continue
			}
			f, err := os.Open(path)
			if err != nil {
				continue
			}
			fl := &follower{path: path, spec: spec, f: f, id: id, readOff: s.Offset, committed: s.Offset, rotated: true, rotatedAt: time.Now()}
			c.followers[id] = fl
			delete(c.saved, id)
			c.logger.Info("reading the rest of a log file rotated while the agent was stopped", "file", path, "was", s.Path, "offset", s.Offset)
		}
	}
}

// specFor returns the spec that followed the saved file of want that
// path may be the rotated copy of.
func (c *Collector) specFor(want []savedFile, path string) *fileSpec {
	for _, s := range want {
		if !hasPrefixName(path, s.Path) {
			continue
		}
		for i := range c.specs {
			if ok, _ := filepath.Match(c.specs[i].pattern, s.Path); ok {
				return &c.specs[i]
			}
		}
	}
	return nil
}

// hasPrefixName reports whether path's name starts with old's (syslog.1,
// syslog-20260101 for syslog).
func hasPrefixName(path, old string) bool {
	b, o := filepath.Base(path), filepath.Base(old)
	return len(b) > len(o) && b[:len(o)] == o
}

// markRotated stops following fl's path; fl is read to its end.
func (c *Collector) markRotated(fl *follower, why string) {
	if c.byPath[fl.path] == fl {
		delete(c.byPath, fl.path)
	}
	if !fl.rotated {
		fl.rotated, fl.rotatedAt = true, time.Now()
		c.logger.Info("log file "+why+"; reading the old file to its end", "file", fl.path)
	}
}

// poll reads every followed file.
func (c *Collector) poll(ctx context.Context) {
	for _, fl := range c.followers {
		if ctx.Err() != nil || !c.readFile(ctx, fl) {
			return
		}
	}
	c.release()
	c.m.filesFollowed.Set(float64(len(c.followers)))
}

// readFile reads what fl has new and checks it for rotation and
// truncation at its end; false means stop (ctx is done).
func (c *Collector) readFile(ctx context.Context, fl *follower) bool {
	if fl.done {
		return true
	}
	emit := func(fl *follower, msg string, end int64) bool {
		c.addLine(fl, msg, end)
		return !c.full() || c.send(ctx, false)
	}
	res, err := fl.read(c.buf, readBudget, c.maxLine, emit)
	if err != nil {
		c.logger.Warn("reading a log file", "file", fl.path, "err", err)
		return true
	}
	if res != readEOF {
		return res == readMore
	}
	if fi, err := fl.f.Stat(); err == nil && fi.Size() < fl.readOff {
		c.logger.Info("log file was truncated; reading it from the beginning", "file", fl.path, "size", fi.Size(), "offset", fl.readOff)
		if _, ok := c.batch.offsets[fl]; ok && !c.send(ctx, false) {
			return false
		}
		fl.restart()
		return true
	}
	if !fl.rotated {
		if fi, err := os.Stat(fl.path); err != nil {
			c.markRotated(fl, "was removed")
		} else if id, ok := idOf(fi); ok && id != fl.id {
			c.track(fl.path, fl.spec, false)
		}
		return true
	}
	if time.Since(fl.rotatedAt) < c.o.rotateGrace {
		return true
	}
	if msg, ok := fl.flushPartial(); ok {
		c.addLine(fl, msg, fl.readOff)
	}
	fl.done = true
	return true
}

// addLine adds a line read from fl, ending at end.
func (c *Collector) addLine(fl *follower, msg string, end int64) {
	src := fl.spec.source
	c.m.linesRead.WithLabelValues(src).Inc()
	c.m.bytesRead.WithLabelValues(src).Add(float64(len(msg) + 1))
	if fl.over > 0 || len(msg) > c.maxLine {
		c.m.linesTruncated.WithLabelValues(src).Inc()
	}
	c.add(fl.entry(msg, time.Now()))
	if c.batch.offsets == nil {
		c.batch.offsets = map[*follower]int64{}
	}
	c.batch.offsets[fl] = end
}

// add appends e to the batch.
func (c *Collector) add(e agentapi.LogEntry) {
	if len(c.batch.entries) == 0 {
		c.batch.first = time.Now()
	}
	c.batch.entries = append(c.batch.entries, e)
	c.batch.bytes += len(e.Message) + len(e.File) + entryOverhead
}

// full reports whether the batch must be sent before more is added.
func (c *Collector) full() bool {
	return len(c.batch.entries) >= MaxBatchEntries || c.batch.bytes >= MaxBatchBytes
}

// send hands the batch to the sink, retrying with backoff until it is
// taken, rejected, or ctx is done (false). Once is set when shutting
// down: one attempt only.
func (c *Collector) send(ctx context.Context, once bool) bool {
	if len(c.batch.entries) == 0 {
		return true
	}
	b := agentapi.LogBatch{Host: c.o.Host, Entries: c.batch.entries}
	delay := minBackoff
	for {
		err := c.o.Sink.Logs(ctx, b)
		if err == nil || errors.Is(err, ErrRejected) {
			if err != nil {
				c.logger.Warn("the log sink rejected a batch; its lines are dropped", "entries", len(b.Entries), "err", err)
				for _, e := range b.Entries {
					c.m.linesDropped.WithLabelValues(e.Source, "rejected").Inc()
				}
			}
			if c.sinkState {
				c.logger.Info("the log sink takes batches again")
				c.sinkState = false
			}
			c.commit()
			return true
		}
		c.m.sinkErrors.Inc()
		if !c.sinkState {
			c.logger.Warn("the log sink failed; reading pauses and the batch is retried", "err", err)
			c.sinkState = true
		}
		if once || ctx.Err() != nil {
			return false
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		delay = min(2*delay, maxBackoff)
	}
}

// commit moves the offsets past the sent batch, saves them, and starts an
// empty batch.
func (c *Collector) commit() {
	for fl, off := range c.batch.offsets {
		fl.committed = off
	}
	if c.batch.cursor != "" {
		c.cursor = c.batch.cursor
	}
	clear(c.batch.entries)
	c.batch = pending{entries: c.batch.entries[:0]}
	c.release()
	c.save()
}

// release closes rotated files that were read to their end and whose
// lines were all sent.
func (c *Collector) release() {
	for id, fl := range c.followers {
		if !fl.done || fl.committed < fl.readOff {
			continue
		}
		if _, ok := c.batch.offsets[fl]; ok {
			continue
		}
		_ = fl.f.Close()
		delete(c.followers, id)
		c.logger.Debug("finished a rotated log file", "file", fl.path)
	}
}

// save writes the committed offsets.
func (c *Collector) save() {
	st := state{JournalCursor: c.cursor}
	for _, fl := range c.followers {
		if fl.done && fl.committed >= fl.readOff {
			continue
		}
		st.Files = append(st.Files, savedFile{Path: fl.path, fileID: fl.id, Offset: fl.committed})
	}
	err := saveState(c.dir, st)
	switch {
	case err != nil && !c.stateErr:
		c.logger.Error("cannot save the log offsets; after a restart some lines may be sent twice", "err", err)
		c.stateErr = true
	case err == nil && c.stateErr:
		c.logger.Info("saving the log offsets works again")
		c.stateErr = false
	}
}

// closeAll closes every followed file.
func (c *Collector) closeAll() {
	for _, fl := range c.followers {
		_ = fl.f.Close()
	}
}
