package probe

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config/checkconfig"
	"github.com/saypro/monitor/internal/config/yamlconf"
)

func TestFileAge(t *testing.T) {
	now := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	write := func(name string, size int, age time.Duration) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, make([]byte, size), 0o644))
		mtime := now.Add(-age)
		require.NoError(t, os.Chtimes(p, mtime, mtime))
		return p
	}
	write("backups/db-2026-11-17.sql.gz", 3<<20, 98*time.Hour)
	newest := write("backups/db-2026-11-19.sql.gz", 2<<20, 50*time.Hour)
	write("backups/db-2026-11-18.sql.gz", 2<<20, 74*time.Hour)
	write("fresh/app-1.log", 10, 90*time.Minute)
	empty := write("fresh/app-2.log", 0, 30*time.Second)
	// A directory matching the glob is not a file, however new.
	require.NoError(t, os.Mkdir(filepath.Join(dir, "backups", "db-2026-11-20.sql.gz"), 0o755))
	require.NoError(t, os.Chtimes(filepath.Join(dir, "backups", "db-2026-11-20.sql.gz"), now, now))

	tests := []struct {
		name    string
		target  string
		maxAge  time.Duration
		minSize yamlconf.Bytes
		reason  string
		matches float64
		age     float64
		size    float64
	}{
		{name: "newest of three is young enough", target: "backups/db-*.sql.gz", maxAge: 51 * time.Hour, matches: 3, age: 50 * 3600, size: 2 << 20},
		{name: "too old", target: "backups/db-*.sql.gz", maxAge: 26 * time.Hour, matches: 3, age: 50 * 3600, size: 2 << 20,
			reason: "newest file " + newest + " is 50h old, max 26h"},
		{name: "big enough", target: "backups/db-*.sql.gz", maxAge: 51 * time.Hour, minSize: 2 << 20, matches: 3, age: 50 * 3600, size: 2 << 20},
		{name: "too small", target: "backups/db-*.sql.gz", maxAge: 51 * time.Hour, minSize: 3 << 20, matches: 3, age: 50 * 3600, size: 2 << 20,
			reason: "newest file " + newest + " is 2MiB, expected at least 3MiB"},
		{name: "empty", target: "fresh/*.log", maxAge: time.Hour, minSize: 1 << 20, matches: 2, age: 30, size: 0,
			reason: "newest file " + empty + " is 0 B, expected at least 1MiB"},
		{name: "one path", target: "fresh/app-1.log", maxAge: time.Hour, matches: 1, age: 90 * 60, size: 10,
			reason: "newest file " + filepath.Join(dir, "fresh/app-1.log") + " is 1h30m old, max 1h"},
		{name: "seconds", target: "fresh/app-2.log", maxAge: 10 * time.Second, matches: 1, age: 30,
			reason: "newest file " + empty + " is 30s old, max 10s"},
		{name: "no match", target: "backups/*.tar", maxAge: time.Hour, reason: "no file matches " + filepath.Join(dir, "backups/*.tar")},
		{name: "missing path", target: "nothing/here", maxAge: time.Hour, reason: "no file matches " + filepath.Join(dir, "nothing/here")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := hostCheck(checkconfig.KindFileAge, filepath.Join(dir, tt.target))
			c.FileAge.MaxAge = model.Duration(tt.maxAge)
			c.FileAge.MinSize = tt.minSize
			p, err := New(c, Env{})
			require.NoError(t, err)
			p.(*fileAgeProber).now = func() time.Time { return now }
			r := p.Probe(t.Context())
			require.Equal(t, tt.reason, r.Reason)
			require.Equal(t, tt.reason == "", r.Success)
			v, ok := hostMetric(t, r, "saypro_file_matches")
			require.True(t, ok)
			require.Equal(t, tt.matches, v)
			v, ok = hostMetric(t, r, "saypro_file_age_seconds")
			require.Equal(t, tt.matches > 0, ok)
			require.Equal(t, tt.age, v)
			v, _ = hostMetric(t, r, "saypro_file_size_bytes")
			require.Equal(t, tt.size, v)
		})
	}
}

func TestFileAgeErrors(t *testing.T) {
	c := hostCheck(checkconfig.KindFileAge, "/backups/[.sql")
	c.FileAge.MaxAge = model.Duration(time.Hour)
	_, err := New(c, Env{})
	require.ErrorContains(t, err, "invalid glob")

	c = hostCheck(checkconfig.KindFileAge, "/backups/x")
	_, err = New(c, Env{})
	require.ErrorContains(t, err, "max_age")

	dir := t.TempDir()
	for i := range 3 {
		require.NoError(t, os.WriteFile(filepath.Join(dir, string(rune('a'+i))), nil, 0o644))
	}
	c = hostCheck(checkconfig.KindFileAge, filepath.Join(dir, "*"))
	c.FileAge.MaxAge = model.Duration(time.Hour)
	p, err := New(c, Env{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := p.Probe(ctx)
	require.False(t, r.Success)
	require.Contains(t, r.Reason, "context canceled")
}

func TestFileAgeText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                 "0s",
		45 * time.Second:                  "45s",
		5 * time.Minute:                   "5m",
		26 * time.Hour:                    "26h",
		50*time.Hour + 20*time.Second:     "50h",
		time.Hour + 30*time.Minute + 10e9: "1h30m",
	} {
		require.Equal(t, want, fileAgeText(d), d.String())
	}
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1KiB", 1536: "1.5KiB", 1 << 20: "1MiB", 5 << 30: "5GiB"} {
		require.Equal(t, want, fileSizeText(n))
	}
}
