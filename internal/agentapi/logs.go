package agentapi

import "time"

// LogsPath is the server endpoint an agent posts its LogBatch to, as JSON
// (optionally with Content-Encoding: gzip), with its bearer token.
const LogsPath = "/api/v1/agent/logs"

// LogBatch is a batch of log lines read by one agent.
type LogBatch struct {
	// Host is the agent's instance label, the host every entry belongs to.
	Host string `json:"host"`
	// Entries are in the order they were read from each source.
	Entries []LogEntry `json:"entries"`
}

// Log formats an agent declares for a source; the server parses by them.
const (
	// FormatRaw is a line with no known structure.
	FormatRaw = "raw"
	// FormatSyslog is a syslog file line, traditional
	// ("Nov 22 02:38:10 host sshd[42]: ...") or RFC 3339 stamped.
	FormatSyslog = "syslog"
	// FormatNginx and FormatApache are access logs in the combined or
	// common format (optionally with a virtual host and a response time).
	FormatNginx  = "nginx"
	FormatApache = "apache"
	// FormatJournal is an entry read from the systemd journal, whose
	// service, severity and time are already set.
	FormatJournal = "journal"
)

// LogEntry is one line or journal entry.
type LogEntry struct {
	// Time is when the agent read the line, or the journal's own time;
	// the server uses a time parsed from the line when there is one.
	Time time.Time `json:"time"`
	// Source names where the line came from: auth, syslog, kern,
	// nginx-access, nginx-error, apache-access, apache-error, journal, or a
	// name from the agent's configuration.
	Source string `json:"source"`
	// File is the path the line was read from (empty for the journal).
	File string `json:"file,omitempty"`
	// Format is one of the Format constants.
	Format string `json:"format"`
	// Service is the program or unit when the agent knows it (journal).
	Service string `json:"service,omitempty"`
	// Severity is a syslog severity keyword (emerg, alert, crit, err,
	// warning, notice, info, debug) when the agent knows it (journal).
	Severity string `json:"severity,omitempty"`
	// Message is the line as read, without its line ending.
	Message string `json:"message"`
	// Fields are extra structured fields (journal: pid, unit).
	Fields map[string]string `json:"fields,omitempty"`
}
