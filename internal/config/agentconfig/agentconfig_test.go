package agentconfig

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

func TestDefault(t *testing.T) {
	c := Default()
	require.Equal(t, ":9901", c.Listen)
	require.Equal(t, model.Duration(15*time.Second), c.Interval)
	require.EqualValues(t, 512<<20, c.Queue.MaxSize)
	require.Equal(t, "/proc", c.Paths.Proc)
	require.Equal(t, model.Duration(5*time.Second), c.Collectors.Filesystem.StatfsTimeout)
	require.Empty(t, c.Server.URL)
	require.True(t, c.Logs.Enabled)
	require.True(t, c.Logs.DefaultSources)
	require.Equal(t, Switch("auto"), c.Logs.Journal.Enabled)
	require.Equal(t, "now", c.Logs.Journal.Since)
	require.EqualValues(t, 64<<10, c.Logs.MaxLineSize)
	require.Equal(t, ReadFromEnd, c.Logs.ReadFrom)
	require.EqualValues(t, 256<<20, c.Logs.QueueMaxSize)
}

func TestLoadLogs(t *testing.T) {
	c, err := LoadFile("testdata/logs.good.yml")
	require.NoError(t, err)
	l := c.Logs
	require.True(t, l.Enabled, "unset keys keep their default")
	require.False(t, l.DefaultSources)
	require.Equal(t, []LogFile{
		{Path: "/var/log/myapp/*.log", Source: "myapp", Format: "raw", Service: "myapp", Exclude: []string{"*.1", "debug.log"}},
		{Path: "/srv/web/access.log", Source: "web-access", Format: "nginx"},
	}, l.Files)
	require.Equal(t, Journal{Enabled: "true", Units: []string{"ssh.service", "cron.service"}, Since: "-1h"}, l.Journal)
	require.Equal(t, "/var/lib/saypro-agent/logs", l.StateDir)
	require.EqualValues(t, 16<<10, l.MaxLineSize)
	require.Equal(t, ReadFromBeginning, l.ReadFrom)
	require.EqualValues(t, 256<<20, l.QueueMaxSize)
}

func TestLoadFull(t *testing.T) {
	c, err := LoadFile("testdata/full.good.yml")
	require.NoError(t, err)
	require.Equal(t, "https://monitor.example.com:9900", c.Server.URL)
	require.Equal(t, "db-1", c.Instance)
	require.Equal(t, map[string]string{"env": "prod", "role": "database"}, c.Labels)
	require.Equal(t, model.Duration(30*time.Second), c.Interval)
	require.EqualValues(t, 1<<30, c.Queue.MaxSize)
	require.Equal(t, []string{"tcpstat"}, c.Collectors.Disabled)
	require.Equal(t, "/host/proc", c.Paths.Proc)
	require.Equal(t, "/sys", c.Paths.Sys, "unset keys of a section keep their default")
	require.Equal(t, model.Duration(2*time.Second), c.Collectors.Filesystem.StatfsTimeout)
	fp, err := ParseFingerprint(c.Server.TLS.Fingerprint)
	require.NoError(t, err)
	require.Len(t, fp, 32)
}

func TestBadFiles(t *testing.T) {
	for file, want := range map[string]string{
		"scheme.bad.yml":      "scheme.bad.yml:2: server.url: URL \"ftp://x\" must start with http:// or https://",
		"reserved.bad.yml":    "reserved.bad.yml:1: labels: label \"instance\" is set by the agent",
		"unknown.bad.yml":     "unknown.bad.yml:3: unknown key max_sise",
		"fingerprint.bad.yml": "fingerprint.bad.yml:3: server.tls.fingerprint: fingerprint \"abc\" is not a SHA-256 hex digest",
		"regexp.bad.yml":      "regexp.bad.yml:3: collectors.disk.device_exclude: invalid regular expression",
		"queuesize.bad.yml":   "queuesize.bad.yml:2: queue.max_size: must be at least 1MiB",
		"logformat.bad.yml":   "logformat.bad.yml:5: file \"/var/log/app.log\": unknown format \"json\": use raw, syslog, nginx, apache",
		"logsource.bad.yml":   "logsource.bad.yml:3: file \"/var/log/app.log\": source \"\" must be set to a short lower-case name (letters, digits, '.', '_', '-'), such as myapp\ntestdata/logsource.bad.yml:4: path \"relative/*.log\" must be absolute",
		"logjournal.bad.yml":  "logjournal.bad.yml:4: logs.journal.enabled: invalid value \"sometimes\": use auto, true or false",
	} {
		t.Run(file, func(t *testing.T) {
			_, err := LoadFile(filepath.Join("testdata", file))
			require.Error(t, err)
			require.Contains(t, err.Error(), want)
		})
	}
	files, _ := filepath.Glob("testdata/*.bad.yml")
	require.Len(t, files, 9, "every bad file has a case above")
}

// FuzzParseAgent feeds arbitrary documents to the agent's loader: a
// configuration or an error, never a panic.
func FuzzParseAgent(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yml")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yml")
		if err == nil && (c.Interval <= 0 || c.Queue.Dir == "") {
			t.Fatalf("accepted an invalid configuration: %+v", c)
		}
	})
}
