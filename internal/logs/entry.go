package logs

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Entry is one stored log entry.
type Entry struct {
	Time time.Time `json:"time"`
	// Host is the agent's instance, or the syslog sender's host name.
	Host string `json:"host"`
	// Source is where the entry came from (auth, syslog, kern,
	// nginx-access, journal, syslog-udp, ...).
	Source string `json:"source"`
	// Service is the program, unit or application.
	Service string `json:"service"`
	// Severity is a syslog keyword (emerg ... debug) or empty.
	Severity string `json:"severity"`
	Message  string `json:"message"`
	// Fields are what parsing found: status, vhost, event, user, src_ip, ...
	Fields map[string]string `json:"fields,omitempty"`
}

// Core field names; a parsed field may not use them.
const (
	FieldHost     = "host"
	FieldSource   = "source"
	FieldService  = "service"
	FieldSeverity = "severity"
)

// IsCoreField reports whether name is one of the entry's own fields (or a
// name the store reserves), which parsed fields may not take.
func IsCoreField(name string) bool {
	switch name {
	case FieldHost, FieldSource, FieldService, FieldSeverity, "message", "time":
		return true
	}
	return strings.HasPrefix(name, "_")
}

// FieldMatch selects entries whose parsed field Name equals Value.
type FieldMatch struct {
	Name, Value string
}

// Filter selects entries. Within Hosts, Sources, Services and Severities
// any value matches (OR); the keys, Fields, Text and Regex must all match
// (AND). Empty parts select everything.
type Filter struct {
	Start, End time.Time
	Hosts      []string
	Sources    []string
	Services   []string
	Severities []string
	Fields     []FieldMatch
	// Text is words and "quoted phrases", all of which must appear in the
	// message.
	Text string
	// Regex is an RE2 expression the message must match.
	Regex string
}

// CaseVariants are the forms a search term matches in: as typed, in lower
// case, in upper case, and capitalised (first character upper, the rest
// lower), without repeats.
func CaseVariants(t string) []string {
	lower := strings.ToLower(t)
	out := []string{t, lower, strings.ToUpper(t)}
	if r, n := utf8.DecodeRuneInString(lower); n > 0 {
		out = append(out, string(unicode.ToUpper(r))+lower[n:])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Terms splits a text query into its words and quoted phrases.
func Terms(text string) []string {
	var out []string
	for text != "" {
		text = strings.TrimLeft(text, " \t")
		if text == "" {
			break
		}
		if text[0] == '"' {
			end := strings.IndexByte(text[1:], '"')
			var phrase string
			if end < 0 {
				phrase, text = text[1:], ""
			} else {
				phrase, text = text[1:1+end], text[2+end:]
			}
			if phrase = strings.TrimSpace(phrase); phrase != "" {
				out = append(out, phrase)
			}
			continue
		}
		end := strings.IndexAny(text, " \t")
		if end < 0 {
			end = len(text)
		}
		out = append(out, text[:end])
		text = text[end:]
	}
	return out
}
