package tail

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/config/agentconfig"
)

func TestReadJournal(t *testing.T) {
	f, err := os.Open("testdata/journal.jsonl")
	require.NoError(t, err)
	defer f.Close()
	var got []journalEntry
	drops := map[string]int{}
	require.NoError(t, readJournal(f, 1024, func(je journalEntry) bool {
		got = append(got, je)
		return true
	}, func(reason string) { drops[reason]++ }))
	require.Equal(t, map[string]int{"unparsable": 2}, drops, "a line that is not JSON, an entry without a cursor")

	at := func(us int64) time.Time { return time.UnixMicro(us).UTC() }
	want := []journalEntry{
		{cursor: "s=1;i=1", entry: agentapi.LogEntry{Time: at(1795833490123456), Source: "journal", Format: "journal", Service: "sshd", Severity: "info",
			Message: "Accepted publickey for alice from 10.0.0.5 port 51234 ssh2", Fields: map[string]string{"pid": "4242", "unit": "ssh.service"}}},
		{cursor: "s=1;i=2", entry: agentapi.LogEntry{Time: at(1795833491000000), Source: "journal", Format: "journal", Service: "backup", Severity: "err",
			Message: "hi\uFFFD\x00", Fields: map[string]string{"pid": "77", "unit": "backup.service"}}},
		{cursor: "s=1;i=3", entry: agentapi.LogEntry{Time: at(1795833492000000), Source: "journal", Format: "journal", Service: "kernel", Severity: "warning",
			Message: "first value"}},
		{cursor: "s=1;i=4", entry: agentapi.LogEntry{Time: at(1795833494000000), Source: "journal", Format: "journal", Service: "cron",
			Fields: map[string]string{"unit": "cron.service"}}},
		{cursor: "s=1;i=5", entry: agentapi.LogEntry{Time: at(1795833495000000), Source: "journal", Format: "journal", Service: "app", Severity: "crit",
			Message: strings.Repeat("x", 1024) + " …[truncated 1976 bytes]"}},
	}
	require.Equal(t, want, got)

	// A line too long to decode is skipped without being kept.
	var in bytes.Buffer
	in.WriteString(`{"__CURSOR":"a","MESSAGE":"` + strings.Repeat("y", 200_000) + "\"}\n")
	in.WriteString(`{"__CURSOR":"b","MESSAGE":"after"}` + "\n")
	got, drops = nil, map[string]int{}
	require.NoError(t, readJournal(&in, 256, func(je journalEntry) bool {
		got = append(got, je)
		return true
	}, func(reason string) { drops[reason]++ }))
	require.Equal(t, map[string]int{"too_long": 1}, drops)
	require.Len(t, got, 1)
	require.Equal(t, "after", got[0].entry.Message)
}

// The collector runs journalctl, ships its entries, saves the cursor and
// passes it back after a restart.
func TestJournalCollector(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	argsFile := filepath.Join(dir, "args")
	data, err := filepath.Abs("testdata/journal.jsonl")
	require.NoError(t, err)
	script := filepath.Join(dir, "journalctl")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\necho \"$@\" >> "+argsFile+"\ncat "+data+"\n"), 0o755))

	cfg := agentconfig.DefaultLogs
	cfg.DefaultSources = false
	cfg.Journal = agentconfig.Journal{Enabled: "true", Units: []string{"ssh.service"}, Since: "-1h"}
	run := func(s *sink) *running {
		r := startWith(t, cfg, state, s, func(o *Options) { o.journalctl = script })
		require.Eventually(t, func() bool { return len(s.messages("")) == 5 }, 5*time.Second, 5*time.Millisecond)
		return r
	}
	s := &sink{}
	r := run(s)
	require.Equal(t, "Accepted publickey for alice from 10.0.0.5 port 51234 ssh2", s.entries()[0].Message)
	require.EqualValues(t, 2, testutil.ToFloat64(r.c.m.linesDropped.WithLabelValues("journal", "unparsable")))
	r.stop()
	st, _, err := loadState(state)
	require.NoError(t, err)
	require.Equal(t, "s=1;i=5", st.JournalCursor)

	run(&sink{}).stop()
	args, err := os.ReadFile(argsFile)
	require.NoError(t, err)
	require.Equal(t, []string{
		"--output=json --follow --no-tail --all --quiet --no-pager --since=-1h --unit=ssh.service",
		"--output=json --follow --no-tail --all --quiet --no-pager --after-cursor=s=1;i=5 --unit=ssh.service",
	}, strings.Split(strings.TrimSpace(string(args)), "\n"))
}

// The journal is off in auto mode when a syslog file exists, or journalctl
// does not exist.
func TestJournalAuto(t *testing.T) {
	dir := t.TempDir()
	syslog := filepath.Join(dir, "syslog")
	require.NoError(t, os.WriteFile(syslog, nil, 0o644))
	ok := filepath.Join(dir, "journalctl")
	require.NoError(t, os.WriteFile(ok, []byte("#!/bin/sh\necho '{}'\n"), 0o755))
	for _, tc := range []struct {
		name, mode, journalctl string
		syslog                 []string
		want                   string
	}{
		{"readable", "auto", ok, []string{filepath.Join(dir, "none")}, ok},
		{"syslog file present", "auto", ok, []string{syslog}, ""},
		{"off", "false", ok, []string{filepath.Join(dir, "none")}, ""},
		{"unreadable", "auto", "/bin/false", []string{filepath.Join(dir, "none")}, ""},
		{"forced on", "true", ok, []string{syslog}, ok},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := agentconfig.DefaultLogs
			cfg.Journal.Enabled = agentconfig.Switch(tc.mode)
			c := &Collector{cfg: cfg, logger: testLogger(), o: Options{journalctl: tc.journalctl, syslogFiles: tc.syslog}}
			require.Equal(t, tc.want, c.journalCommand(context.Background()))
		})
	}
}

// The real journalctl, where there is one that can read the journal.
func TestLiveJournal(t *testing.T) {
	path, err := exec.LookPath("journalctl")
	if err != nil {
		t.Skip("no journalctl")
	}
	if !journalReadable(context.Background(), path) {
		t.Skip("journalctl cannot read the journal here")
	}
	cfg := agentconfig.DefaultLogs
	cfg.DefaultSources = false
	cfg.Journal = agentconfig.Journal{Enabled: "true", Since: "-24h"}
	s := &sink{}
	startWith(t, cfg, t.TempDir(), s, nil)
	if logger, err := exec.LookPath("logger"); err == nil {
		_ = exec.Command(logger, "-t", "saypro-tail-test", "live journal test").Run()
	}
	require.Eventually(t, func() bool { return len(s.entries()) > 0 }, 20*time.Second, 50*time.Millisecond)
	e := s.entries()[0]
	require.Equal(t, "journal", e.Source)
	require.False(t, e.Time.IsZero())
}
