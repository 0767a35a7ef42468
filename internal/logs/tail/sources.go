package tail

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/config/agentconfig"
)

// fileSpec is a glob pattern followed as one source.
type fileSpec struct {
	pattern, source, format, service string
	exclude                          []string
}

// defaultSources are the files followed when logs.default_sources is on,
// where they exist. Only the live files: rotated copies are read when
// their rotation is seen.
var defaultSources = []fileSpec{
	{pattern: "/var/log/syslog", source: "syslog", format: agentapi.FormatSyslog},
	{pattern: "/var/log/messages", source: "syslog", format: agentapi.FormatSyslog},
	{pattern: "/var/log/auth.log", source: "auth", format: agentapi.FormatSyslog},
	{pattern: "/var/log/secure", source: "auth", format: agentapi.FormatSyslog},
	{pattern: "/var/log/kern.log", source: "kern", format: agentapi.FormatSyslog},
	{pattern: "/var/log/nginx/access.log", source: "nginx-access", format: agentapi.FormatNginx, service: "nginx"},
	{pattern: "/var/log/nginx/error.log", source: "nginx-error", format: agentapi.FormatRaw, service: "nginx"},
	{pattern: "/var/log/apache2/access.log", source: "apache-access", format: agentapi.FormatApache, service: "apache"},
	{pattern: "/var/log/apache2/other_vhosts_access.log", source: "apache-access", format: agentapi.FormatApache, service: "apache"},
	{pattern: "/var/log/httpd/access_log", source: "apache-access", format: agentapi.FormatApache, service: "apache"},
	{pattern: "/var/log/apache2/error.log", source: "apache-error", format: agentapi.FormatRaw, service: "apache"},
	{pattern: "/var/log/httpd/error_log", source: "apache-error", format: agentapi.FormatRaw, service: "apache"},
}

// syslogFiles are the files whose presence turns the journal's auto
// setting off: the journal would repeat them.
var syslogFiles = []string{"/var/log/syslog", "/var/log/messages"}

// DefaultSourcePaths returns the paths that logs.default_sources follows
// when they exist, for documentation and tests.
func DefaultSourcePaths() []string {
	var out []string
	for _, s := range defaultSources {
		out = append(out, s.pattern)
	}
	return out
}

// specsOf returns the configured file specs, defaults first.
func specsOf(cfg agentconfig.Logs, defaults []fileSpec) []fileSpec {
	var specs []fileSpec
	if cfg.DefaultSources {
		specs = append(specs, defaults...)
	}
	for _, f := range cfg.Files {
		specs = append(specs, fileSpec{pattern: f.Path, source: f.Source, format: f.Format, service: f.Service, exclude: f.Exclude})
	}
	return specs
}

// compressed are suffixes of files that are never followed.
var compressed = []string{".gz", ".bz2", ".xz", ".zst", ".zip", ".lz4"}

// excluded reports whether path is skipped by spec's exclude patterns or
// because it is compressed.
func (s *fileSpec) excluded(path string) bool {
	if slices.ContainsFunc(compressed, func(suffix string) bool { return strings.HasSuffix(path, suffix) }) {
		return true
	}
	base := filepath.Base(path)
	for _, ex := range s.exclude {
		if ok, _ := filepath.Match(ex, path); ok {
			return true
		}
		if ok, _ := filepath.Match(ex, base); ok {
			return true
		}
	}
	return false
}

// match returns the regular files that spec names now.
func (s *fileSpec) match() []string {
	paths, _ := filepath.Glob(s.pattern) // the pattern was validated
	out := paths[:0]
	for _, p := range paths {
		if s.excluded(p) {
			continue
		}
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		out = append(out, p)
	}
	return out
}
