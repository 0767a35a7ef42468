package tail

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/config/agentconfig"
)

// sink records the batches it takes; fail makes it fail.
type sink struct {
	mu      sync.Mutex
	batches []agentapi.LogBatch
	fail    error
	calls   int
}

func (s *sink) Logs(_ context.Context, b agentapi.LogBatch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.fail != nil {
		return s.fail
	}
	b.Entries = append([]agentapi.LogEntry(nil), b.Entries...)
	s.batches = append(s.batches, b)
	return nil
}

func (s *sink) setFail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

// messages returns the messages received from file (all files when "").
func (s *sink) messages(file string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, b := range s.batches {
		for _, e := range b.Entries {
			if file == "" || e.File == file {
				out = append(out, e.Message)
			}
		}
	}
	return out
}

func (s *sink) entries() []agentapi.LogEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []agentapi.LogEntry
	for _, b := range s.batches {
		out = append(out, b.Entries...)
	}
	return out
}

func testLogger() *slog.Logger {
	if os.Getenv("TAIL_DEBUG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// logsConfig follows the files matching pattern as source "app".
func logsConfig(pattern string, exclude ...string) agentconfig.Logs {
	cfg := agentconfig.DefaultLogs
	cfg.DefaultSources = false
	cfg.Journal.Enabled = "false"
	cfg.Files = []agentconfig.LogFile{{Path: pattern, Source: "app", Format: "raw", Exclude: exclude}}
	return cfg
}

// running is a collector running in the background.
type running struct {
	c    *Collector
	reg  *prometheus.Registry
	stop func()
}

// start runs a collector with short intervals until the test ends or stop.
func start(t *testing.T, cfg agentconfig.Logs, stateDir string, s LogSink) *running {
	t.Helper()
	return startWith(t, cfg, stateDir, s, nil)
}

// startWith is start with options changed by set.
func startWith(t *testing.T, cfg agentconfig.Logs, stateDir string, s LogSink, set func(*Options)) *running {
	t.Helper()
	reg := prometheus.NewRegistry()
	o := Options{
		Config: cfg, Host: "h1", StateDir: stateDir, Sink: s, Logger: testLogger(), Registerer: reg,
		scanInterval: 30 * time.Millisecond, pollInterval: 5 * time.Millisecond,
		flushInterval: 10 * time.Millisecond, rotateGrace: 30 * time.Millisecond,
		defaults: []fileSpec{},
	}
	if set != nil {
		set(&o)
	}
	c, err := New(o)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(stop)
	return &running{c: c, reg: reg, stop: stop}
}

// waitFollowing waits until the collector follows n files.
func waitFollowing(t *testing.T, r *running, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		return testutil.ToFloat64(r.c.m.filesFollowed) == float64(n)
	}, 5*time.Second, 5*time.Millisecond)
}

func appendLines(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	require.NoError(t, err)
	for _, l := range lines {
		_, err = f.WriteString(l + "\n")
		require.NoError(t, err)
	}
	require.NoError(t, f.Close())
}

func lines(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s %d", prefix, i))
	}
	return out
}

func waitMessages(t *testing.T, s *sink, file string, want []string) {
	t.Helper()
	require.Eventually(t, func() bool { return len(s.messages(file)) >= len(want) }, 5*time.Second, 5*time.Millisecond,
		"want %d messages", len(want))
	require.Equal(t, want, s.messages(file))
}

// Files present at the first start are read from their end, files that
// appear later from their beginning; excluded and compressed files are
// not read.
func TestGlobNewFiles(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	a := filepath.Join(dir, "a.log")
	appendLines(t, a, "old line")
	appendLines(t, filepath.Join(dir, "a.log.1"), "rotated")
	s := &sink{}
	r := start(t, logsConfig(filepath.Join(dir, "*"), "*.1"), state, s)
	waitFollowing(t, r, 1)

	appendLines(t, a, "new line")
	waitMessages(t, s, a, []string{"new line"})

	b := filepath.Join(dir, "b.log")
	appendLines(t, b, lines("b", 0, 3)...)
	appendLines(t, filepath.Join(dir, "c.log.gz"), "compressed")
	waitMessages(t, s, b, lines("b", 0, 3))
	waitFollowing(t, r, 2)

	e := s.entries()[0]
	require.Equal(t, "app", e.Source)
	require.Equal(t, "raw", e.Format)
	require.WithinDuration(t, time.Now(), e.Time, time.Minute)
	require.Len(t, s.messages(""), 4, "nothing from a.log.1 or c.log.gz")
	require.EqualValues(t, 4, testutil.ToFloat64(r.c.m.linesRead.WithLabelValues("app")))
	require.EqualValues(t, len("new line\nb 0\nb 1\nb 2\n"), testutil.ToFloat64(r.c.m.bytesRead.WithLabelValues("app")))
	s.mu.Lock()
	require.Equal(t, "h1", s.batches[0].Host)
	s.mu.Unlock()
}

// Rotation by rename: the old file is read to its end, lines its writer
// adds after the rename included, then the new file from its beginning.
func TestRotateRename(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	p := filepath.Join(dir, "app.log")
	appendLines(t, p)
	s := &sink{}
	r := start(t, logsConfig(p), state, s)
	waitFollowing(t, r, 1)
	appendLines(t, p, lines("x", 0, 5)...)
	waitMessages(t, s, "", lines("x", 0, 5))

	old, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	require.NoError(t, os.Rename(p, p+".1"))
	appendLines(t, p, lines("y", 0, 5)...)
	_, err = old.WriteString("x 5\n") // the writer has not reopened yet
	require.NoError(t, err)
	require.NoError(t, old.Close())

	require.Eventually(t, func() bool { return len(s.messages("")) == 11 }, 5*time.Second, 5*time.Millisecond)
	got := s.messages("")
	require.ElementsMatch(t, append(lines("x", 0, 6), lines("y", 0, 5)...), got)
	var ys []string
	for _, m := range got {
		if strings.HasPrefix(m, "y") {
			ys = append(ys, m)
		}
	}
	require.Equal(t, lines("y", 0, 5), ys, "the new file from its beginning, in order")
	waitFollowing(t, r, 1)
}

// Truncation (copytruncate): the file is read again from its beginning.
func TestTruncate(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	p := filepath.Join(dir, "app.log")
	appendLines(t, p)
	s := &sink{}
	r := start(t, logsConfig(p), state, s)
	waitFollowing(t, r, 1)
	appendLines(t, p, lines("before", 0, 20)...)
	waitMessages(t, s, p, lines("before", 0, 20))

	// copytruncate: copy, then truncate in place.
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p+".1", b, 0o644))
	require.NoError(t, os.Truncate(p, 0))
	time.Sleep(30 * time.Millisecond)
	appendLines(t, p, "after 0", "after 1")
	waitMessages(t, s, p, append(lines("before", 0, 20), "after 0", "after 1"))
}

// A restart resumes at the saved offsets: lines written while the agent
// was stopped are read, none twice, even when the file was rotated
// meanwhile.
func TestRestartResume(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	p := filepath.Join(dir, "app.log")
	appendLines(t, p, "before the first start")
	s := &sink{}
	r := start(t, logsConfig(p), state, s)
	waitFollowing(t, r, 1)
	appendLines(t, p, lines("a", 0, 10)...)
	waitMessages(t, s, "", lines("a", 0, 10))
	r.stop()

	// Stopped: more lines, then a rotation, then lines in the new file.
	appendLines(t, p, lines("a", 10, 15)...)
	require.NoError(t, os.Rename(p, p+".1"))
	appendLines(t, p, lines("b", 0, 3)...)

	s2 := &sink{}
	r = start(t, logsConfig(p), state, s2)
	require.Eventually(t, func() bool { return len(s2.messages("")) == 8 }, 5*time.Second, 5*time.Millisecond, "%q", s2.messages(""))
	require.Equal(t, lines("a", 10, 15), s2.messages(p+".1"))
	require.Equal(t, lines("b", 0, 3), s2.messages(p))
	waitFollowing(t, r, 1)
	r.stop()

	// Nothing new: a third start reads nothing.
	s3 := &sink{}
	r = start(t, logsConfig(p), state, s3)
	waitFollowing(t, r, 1)
	appendLines(t, p, "c")
	waitMessages(t, s3, "", []string{"c"})
}

// While the sink fails nothing is committed: lines are retried, and a
// restart reads them again.
func TestSinkFailure(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	p := filepath.Join(dir, "app.log")
	appendLines(t, p)
	s := &sink{}
	r := start(t, logsConfig(p), state, s)
	waitFollowing(t, r, 1)
	s.setFail(fmt.Errorf("store is read-only"))
	appendLines(t, p, lines("a", 0, 3)...)
	require.Eventually(t, func() bool { return testutil.ToFloat64(r.c.m.sinkErrors) >= 1 }, 5*time.Second, 5*time.Millisecond)
	r.stop()
	require.Empty(t, s.messages(""))

	s2 := &sink{}
	start(t, logsConfig(p), state, s2)
	waitMessages(t, s2, "", lines("a", 0, 3))

	// A rejected batch is dropped and counted; reading goes on.
	s2.setFail(fmt.Errorf("bad batch: %w", ErrRejected))
	appendLines(t, p, "rejected")
	require.Eventually(t, func() bool {
		s2.mu.Lock()
		defer s2.mu.Unlock()
		return s2.calls >= 2
	}, 5*time.Second, 5*time.Millisecond)
	s2.setFail(nil)
	appendLines(t, p, "accepted")
	waitMessages(t, s2, "", append(lines("a", 0, 3), "accepted"))
}

// Long lines are cut at the maximum with a marker, whether they end in
// the same read or many reads later; binary data comes out as valid UTF-8.
func TestLongAndBinaryLines(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	p := filepath.Join(dir, "app.log")
	appendLines(t, p)
	cfg := logsConfig(p)
	cfg.MaxLineSize = 1024
	s := &sink{}
	r := start(t, cfg, state, s)
	waitFollowing(t, r, 1)

	long := strings.Repeat("x", 3000)
	huge := strings.Repeat("y", 300_000) // spans several reads
	exact := strings.Repeat("z", 1024)
	appendLines(t, p, "short", long, huge, exact, "\xff\xfebin\x00ary\r", "end")
	require.Eventually(t, func() bool { return len(s.messages("")) == 6 }, 5*time.Second, 5*time.Millisecond)
	got := s.messages("")
	require.Equal(t, "short", got[0])
	require.Equal(t, long[:1024]+" …[truncated 1976 bytes]", got[1])
	require.Equal(t, huge[:1024]+" …[truncated 298976 bytes]", got[2])
	require.Equal(t, exact, got[3])
	require.True(t, utf8.ValidString(got[4]))
	require.Equal(t, "\uFFFDbin\x00ary", got[4], "a run of invalid bytes becomes one U+FFFD")
	require.Equal(t, "end", got[5])
	require.EqualValues(t, 2, testutil.ToFloat64(r.c.m.linesTruncated.WithLabelValues("app")))
	for fl := range maps(r) {
		require.LessOrEqual(t, cap(fl.partial), 2048, "a long line is never kept whole")
	}
}

// maps returns the collector's followers once it stopped.
func maps(r *running) map[*follower]bool {
	r.stop()
	out := map[*follower]bool{}
	for _, fl := range r.c.followers {
		out[fl] = true
	}
	return out
}

// Batches hold at most MaxBatchEntries entries.
func TestBatchLimits(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	p := filepath.Join(dir, "app.log")
	appendLines(t, p, lines("l", 0, 12000)...)
	cfg := logsConfig(p)
	cfg.ReadFrom = agentconfig.ReadFromBeginning
	s := &sink{}
	start(t, cfg, state, s)
	require.Eventually(t, func() bool { return len(s.messages("")) == 12000 }, 10*time.Second, 5*time.Millisecond)
	require.Equal(t, lines("l", 0, 12000), s.messages(""))
	s.mu.Lock()
	defer s.mu.Unlock()
	require.GreaterOrEqual(t, len(s.batches), 3)
	for _, b := range s.batches {
		require.LessOrEqual(t, len(b.Entries), MaxBatchEntries)
	}
}

// The offsets file is replaced atomically and names each file by inode.
func TestStateFile(t *testing.T) {
	dir := t.TempDir()
	st := state{Files: []savedFile{{Path: "/var/log/syslog", fileID: fileID{Dev: 1, Ino: 2}, Offset: 3}}, JournalCursor: "s=abc"}
	require.NoError(t, saveState(dir, st))
	got, exists, err := loadState(dir)
	require.NoError(t, err)
	require.True(t, exists)
	require.Equal(t, st, got)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left")

	require.NoError(t, os.WriteFile(filepath.Join(dir, stateName), []byte("{torn"), 0o600))
	_, exists, err = loadState(dir)
	require.Error(t, err)
	require.True(t, exists)
}
