package agentconfig

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/saypro/monitor/internal/config/yamlconf"
)

// Where a newly found file is read from.
const (
	// ReadFromEnd starts files present when the agent starts at their end
	// and files that appear later at their beginning.
	ReadFromEnd = "end"
	// ReadFromBeginning reads every newly found file from its beginning.
	ReadFromBeginning = "beginning"
)

// Log formats a file may declare; the server parses lines by them. They
// are the agentapi Format values a file can have.
var LogFileFormats = []string{"raw", "syslog", "nginx", "apache"}

// Logs is what the agent ships of the host's logs. Lines are shipped raw;
// the server parses them.
type Logs struct {
	// Enabled turns log collection on (the default).
	Enabled bool `yaml:"enabled"`
	// DefaultSources follows the usual system and web server logs that
	// exist on the host (/var/log/syslog, auth.log, nginx, apache, ...).
	DefaultSources bool `yaml:"default_sources"`
	// Files are more files to follow, by glob.
	Files []LogFile `yaml:"files,omitempty"`
	// Journal reads the systemd journal through journalctl.
	Journal Journal `yaml:"journal"`
	// StateDir holds the read offsets and the journal cursor; empty means
	// a "logs" directory in the queue directory (in the data directory
	// for the server's in-process agent).
	StateDir string `yaml:"state_dir,omitempty"`
	// MaxLineSize is the longest line shipped whole; longer lines are cut
	// and marked.
	MaxLineSize yamlconf.Bytes `yaml:"max_line_size"`
	// ReadFrom is where a file without a saved offset is read from:
	// end (files present at start from their end, files appearing later
	// from their beginning) or beginning.
	ReadFrom string `yaml:"read_from"`
	// QueueMaxSize bounds the agent's disk queue of log batches while the
	// server is away (remote agents only).
	QueueMaxSize yamlconf.Bytes `yaml:"queue_max_size"`
}

// LogFile is a set of files followed as one source.
type LogFile struct {
	// Path is an absolute path, glob patterns allowed
	// (/var/log/myapp/*.log); it is matched again every few seconds.
	Path string `yaml:"path"`
	// Source names the lines' source (myapp, payments, ...).
	Source string `yaml:"source"`
	// Format says how the server parses the lines: raw (default), syslog,
	// nginx or apache.
	Format string `yaml:"format,omitempty"`
	// Service is set on every line when given.
	Service string `yaml:"service,omitempty"`
	// Exclude are glob patterns of paths or base names to skip, such as
	// "*.1".
	Exclude []string `yaml:"exclude,omitempty"`
}

// UnmarshalYAML sets the defaults before decoding.
func (f *LogFile) UnmarshalYAML(unmarshal func(any) error) error {
	*f = LogFile{Format: "raw"}
	type plain LogFile
	return unmarshal((*plain)(f))
}

// Journal configures reading the systemd journal.
type Journal struct {
	// Enabled is auto (the default: on when journalctl can read the journal
	// and the host has no /var/log/syslog or /var/log/messages), true or
	// false.
	Enabled Switch `yaml:"enabled"`
	// Units limits reading to these systemd units; empty reads all.
	Units []string `yaml:"units,omitempty"`
	// Since is where the journal is read from when no cursor was saved, in
	// journalctl's --since syntax: now (the default), -1h, today, or a
	// date.
	Since string `yaml:"since"`
}

// Switch is auto, true or false; YAML booleans are accepted.
type Switch string

// UnmarshalYAML accepts a boolean or one of auto, true and false.
func (s *Switch) UnmarshalYAML(unmarshal func(any) error) error {
	var b bool
	if err := unmarshal(&b); err == nil {
		*s = Switch(fmt.Sprint(b))
		return nil
	}
	var v string
	if err := unmarshal(&v); err != nil {
		return err
	}
	*s = Switch(strings.ToLower(strings.TrimSpace(v)))
	return nil
}

var sourceName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// Validate checks the log settings; prefix is their YAML path.
func (l *Logs) Validate(prefix []string) []error {
	path := func(p ...string) []string { return append(append([]string(nil), prefix...), p...) }
	var errs []error
	if l.MaxLineSize < 256 || l.MaxLineSize > 1<<20 {
		errs = append(errs, yamlconf.Field(fmt.Sprintf("%s is out of range: use 256B to 1MiB", l.MaxLineSize), path("max_line_size")...))
	}
	if l.ReadFrom != ReadFromEnd && l.ReadFrom != ReadFromBeginning {
		errs = append(errs, yamlconf.Field(fmt.Sprintf("invalid value %q: use end or beginning", l.ReadFrom), path("read_from")...))
	}
	if l.QueueMaxSize < 1<<20 {
		errs = append(errs, yamlconf.Field("must be at least 1MiB", path("queue_max_size")...))
	}
	switch l.Journal.Enabled {
	case "auto", "true", "false":
	default:
		errs = append(errs, yamlconf.Field(fmt.Sprintf("invalid value %q: use auto, true or false", l.Journal.Enabled), path("journal", "enabled")...))
	}
	if strings.TrimSpace(l.Journal.Since) == "" {
		errs = append(errs, yamlconf.Field("must not be empty: use now, -1h, today or a date", path("journal", "since")...))
	}
	for i, u := range l.Journal.Units {
		if strings.TrimSpace(u) == "" || strings.ContainsAny(u, " \t\n/") {
			errs = append(errs, yamlconf.Field(fmt.Sprintf("invalid unit name %q", u), path("journal", "units", yamlconf.ItemAt(i))...))
		}
	}
	seen := map[string]bool{}
	for i := range l.Files {
		f := &l.Files[i]
		item := func(p ...string) []string { return path(append([]string{"files", yamlconf.ItemAt(i)}, p...)...) }
		switch {
		case f.Path == "":
			errs = append(errs, yamlconf.Field(fmt.Sprintf("logs file #%d has no path", i+1), item()...))
			continue
		case !filepath.IsAbs(f.Path):
			errs = append(errs, yamlconf.Field(fmt.Sprintf("path %q must be absolute", f.Path), item("path")...))
		case seen[f.Path]:
			errs = append(errs, yamlconf.Field(fmt.Sprintf("path %q is listed twice", f.Path), item("path")...))
		}
		seen[f.Path] = true
		if _, err := filepath.Match(f.Path, ""); err != nil {
			errs = append(errs, yamlconf.Field(fmt.Sprintf("path %q is not a valid glob pattern: %v", f.Path, err), item("path")...))
		}
		if !sourceName.MatchString(f.Source) {
			errs = append(errs, yamlconf.Field(fmt.Sprintf("file %q: source %q must be set to a short lower-case name (letters, digits, '.', '_', '-'), such as myapp", f.Path, f.Source), item("source")...))
		}
		if !slices.Contains(LogFileFormats, f.Format) {
			errs = append(errs, yamlconf.Field(fmt.Sprintf("file %q: unknown format %q: use %s", f.Path, f.Format, strings.Join(LogFileFormats, ", ")), item("format")...))
		}
		for _, ex := range f.Exclude {
			if _, err := filepath.Match(ex, ""); err != nil || ex == "" {
				errs = append(errs, yamlconf.Field(fmt.Sprintf("file %q: exclude %q is not a valid glob pattern", f.Path, ex), item("exclude")...))
			}
		}
	}
	return errs
}
