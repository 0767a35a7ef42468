package parse

import (
	"strings"
	"time"
)

// Access is a parsed HTTP access log line.
type Access struct {
	// VHost is the virtual host as written ("example.com:443"), when the
	// line starts with one.
	VHost string
	// Client is the remote address; User the authenticated user ("" for
	// "-").
	Client, User string
	// Method, Path and Proto come from the request line; all empty when it
	// could not be split.
	Method, Path, Proto string
	// Status is the response status, 100..999.
	Status int
	// Bytes is the response size ("-" is 0).
	Bytes int64
	// Referer and UserAgent are empty for "-" or when absent (common log).
	Referer, UserAgent string
	// Time is the request time; HasTime is false when it did not parse.
	Time    time.Time
	HasTime bool
	// Duration is the response time; HasDuration reports whether the line
	// carried one.
	Duration    time.Duration
	HasDuration bool
}

// ParseAccess parses an nginx or Apache access log line in the common or
// combined format, with an optional leading virtual host and an optional
// trailing response time (see the package documentation). It reports false
// when the line is not such a line.
func ParseAccess(line string) (Access, bool) {
	var a Access
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	br := strings.Index(line, " [")
	if br < 0 {
		return a, false
	}
	// "[vhost ]client ident user": three or four words.
	var words [4]string
	nw := 0
	for p := line[:br]; ; {
		sp := strings.IndexByte(p, ' ')
		if nw == 4 {
			return a, false
		}
		if sp < 0 {
			words[nw] = p
			nw++
			break
		}
		words[nw] = p[:sp]
		nw++
		p = p[sp+1:]
	}
	switch nw {
	case 3:
		a.Client, a.User = words[0], words[2]
	case 4:
		a.VHost, a.Client, a.User = words[0], words[1], words[3]
		if a.VHost == "" {
			return a, false
		}
	default:
		return a, false
	}
	if a.Client == "" || a.User == "" {
		return a, false
	}
	if a.User == "-" {
		a.User = ""
	}
	rest := line[br+2:]
	end := strings.IndexByte(rest, ']')
	if end < 0 {
		return a, false
	}
	a.Time, a.HasTime = parseCLFTime(rest[:end])
	rest = rest[end+1:]
	if len(rest) < 2 || rest[0] != ' ' || rest[1] != '"' {
		return a, false
	}
	req, rest, ok := quoted(rest[2:])
	if !ok {
		return a, false
	}
	splitRequest(&a, req)
	// " status bytes"
	if len(rest) < 6 || rest[0] != ' ' {
		return a, false
	}
	st, ok := atoi(rest[1:], 3)
	if !ok || st < 100 || rest[4] != ' ' {
		return a, false
	}
	a.Status = st
	rest = rest[5:]
	sp := strings.IndexByte(rest, ' ')
	if sp < 0 {
		sp = len(rest)
	}
	if a.Bytes, ok = parseBytes(rest[:sp]); !ok {
		return a, false
	}
	rest = rest[sp:]
	// Combined: ` "referer" "user-agent"`.
	if len(rest) >= 2 && rest[0] == ' ' && rest[1] == '"' {
		var ref string
		if ref, rest, ok = quoted(rest[2:]); !ok {
			return a, false
		}
		if ref != "-" {
			a.Referer = ref
		}
		if len(rest) >= 2 && rest[0] == ' ' && rest[1] == '"' {
			var ua string
			if ua, rest, ok = quoted(rest[2:]); !ok {
				return a, false
			}
			if ua != "-" {
				a.UserAgent = ua
			}
		}
	}
	a.Duration, a.HasDuration = responseTime(rest)
	return a, true
}

// quoted returns the text up to the closing quote (a quote after an odd
// number of backslashes does not close) and what follows the quote.
func quoted(s string) (string, string, bool) {
	off := 0
	for {
		i := strings.IndexByte(s[off:], '"')
		if i < 0 {
			return "", s, false
		}
		i += off
		bs := 0
		for k := i - 1; k >= 0 && s[k] == '\\'; k-- {
			bs++
		}
		if bs%2 == 0 {
			return s[:i], s[i+1:], true
		}
		off = i + 1
	}
}

// splitRequest sets Method, Path and Proto from "GET /path HTTP/1.1".
func splitRequest(a *Access, req string) {
	sp := strings.IndexByte(req, ' ')
	if sp <= 0 || sp > 32 {
		return
	}
	for i := 0; i < sp; i++ {
		if c := req[i]; c < 'A' || c > 'Z' {
			return
		}
	}
	path := req[sp+1:]
	var proto string
	if last := strings.LastIndexByte(path, ' '); last >= 0 && strings.HasPrefix(path[last+1:], "HTTP/") {
		path, proto = path[:last], path[last+1:]
	}
	if path == "" {
		return
	}
	a.Method, a.Path, a.Proto = req[:sp], path, proto
}

// parseBytes reads a response size: "-" or up to 18 digits.
func parseBytes(s string) (int64, bool) {
	if s == "-" {
		return 0, true
	}
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

// parseCLFTime reads "22/Nov/2026:02:38:10 +0000".
func parseCLFTime(s string) (time.Time, bool) {
	if len(s) != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' || s[20] != ' ' {
		return time.Time{}, false
	}
	day, ok1 := atoi(s, 2)
	mon := monthOf(s[3:6])
	year, ok2 := atoi(s[7:], 4)
	h, ok3 := atoi(s[12:], 2)
	m, ok4 := atoi(s[15:], 2)
	sec, ok5 := atoi(s[18:], 2)
	oh, ok6 := atoi(s[22:], 2)
	om, ok7 := atoi(s[24:], 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || mon == 0 || day < 1 || day > daysIn(mon, year) ||
		h > 23 || m > 59 || sec > 60 || oh > 23 || om > 59 || (s[21] != '+' && s[21] != '-') {
		return time.Time{}, false
	}
	off := time.Duration(oh)*time.Hour + time.Duration(om)*time.Minute
	if s[21] == '-' {
		off = -off
	}
	return time.Date(year, mon, day, h, m, sec, 0, time.UTC).Add(-off), true
}

// responseTime scans the words after the known fields for a response time.
func responseTime(rest string) (time.Duration, bool) {
	for rest != "" {
		rest = trimSpaces(rest)
		if rest == "" {
			break
		}
		if rest[0] == '"' {
			_, r, ok := quoted(rest[1:])
			if !ok {
				return 0, false
			}
			rest = r
			continue
		}
		end := strings.IndexByte(rest, ' ')
		if end < 0 {
			end = len(rest)
		}
		w := rest[:end]
		rest = rest[end:]
		switch {
		case strings.HasPrefix(w, "rt="):
			if d, ok := seconds(w[3:]); ok {
				return d, true
			}
		case strings.HasPrefix(w, "request_time="):
			if d, ok := seconds(w[13:]); ok {
				return d, true
			}
		case strings.HasPrefix(w, "us="):
			if d, ok := micros(w[3:]); ok {
				return d, true
			}
		case strings.HasPrefix(w, "D="):
			if d, ok := micros(w[2:]); ok {
				return d, true
			}
		case w != "" && isDigit(w[0]) && strings.IndexByte(w, '.') > 0:
			if d, ok := seconds(w); ok {
				return d, true
			}
		}
	}
	return 0, false
}

// seconds reads "S" or "S.fff" (up to 9 integer digits) as a duration.
func seconds(s string) (time.Duration, bool) {
	i := 0
	var sec int64
	for i < len(s) && isDigit(s[i]) {
		if i == 9 {
			return 0, false
		}
		sec = sec*10 + int64(s[i]-'0')
		i++
	}
	if i == 0 {
		return 0, false
	}
	var ns int
	if i < len(s) {
		if s[i] != '.' {
			return 0, false
		}
		var n int
		ns, n = parseFraction(s[i+1:])
		if n == 0 || i+1+n != len(s) {
			return 0, false
		}
	}
	return time.Duration(sec)*time.Second + time.Duration(ns), true
}

// micros reads an integer count of microseconds (up to 15 digits).
func micros(s string) (time.Duration, bool) {
	if s == "" || len(s) > 15 {
		return 0, false
	}
	var us int64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		us = us*10 + int64(s[i]-'0')
	}
	return time.Duration(us) * time.Microsecond, true
}
