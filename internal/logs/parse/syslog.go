package parse

import (
	"errors"
	"strings"
	"time"
)

// Errors returned by ParseSyslog.
var (
	// ErrEmpty is returned for a message with no content.
	ErrEmpty = errors.New("parse: empty syslog message")
	// ErrPriority is returned when a message starts with "<" but has no
	// valid "<PRI>" (0..191).
	ErrPriority = errors.New("parse: invalid syslog priority")
	// ErrHeader is returned for a malformed RFC 5424 header.
	ErrHeader = errors.New("parse: invalid RFC 5424 header")
	// ErrStructuredData is returned for malformed RFC 5424 structured data.
	ErrStructuredData = errors.New("parse: invalid RFC 5424 structured data")
)

// Syslog is a parsed syslog message or syslog file line.
type Syslog struct {
	// Time is the message's timestamp; HasTime reports whether it had one.
	Time    time.Time
	HasTime bool
	// Facility (0..23) and Severity (0..7) come from the PRI; both are -1
	// when there was none.
	Facility, Severity int
	// Host, App (the tag or APP-NAME), ProcID, MsgID and Message are empty
	// when absent.
	Host, App, ProcID, MsgID, Message string
	// Structured holds RFC 5424 structured data as "sdid.param" keys; nil
	// when there was none.
	Structured map[string]string
}

// FacilityName returns the keyword of a syslog facility: 0..23 give kern,
// user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp,
// ntp, security, console, solaris-cron, local0..local7; anything else "".
func FacilityName(facility int) string {
	names := [...]string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
		"ntp", "security", "console", "solaris-cron", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}
	if facility < 0 || facility >= len(names) {
		return ""
	}
	return names[facility]
}

// SeverityName returns the keyword of a syslog severity: 0..7 give emerg,
// alert, crit, err, warning, notice, info, debug; anything else gives "".
func SeverityName(sev int) string {
	switch sev {
	case 0:
		return "emerg"
	case 1:
		return "alert"
	case 2:
		return "crit"
	case 3:
		return "err"
	case 4:
		return "warning"
	case 5:
		return "notice"
	case 6:
		return "info"
	case 7:
		return "debug"
	}
	return ""
}

// ParseSyslog parses a syslog message received from the network: RFC 5424
// or RFC 3164 (detected from the text after the PRI), with 3164 read
// leniently. Messages without a year get the year that puts them closest to
// now, in loc (nil means UTC). See the package documentation for what is
// accepted. On error the result still holds a valid PRI and the unparsed
// rest of the message in Message.
func ParseSyslog(b []byte, now time.Time, loc *time.Location) (Syslog, error) {
	if loc == nil {
		loc = time.UTC
	}
	s := Syslog{Facility: -1, Severity: -1}
	for len(b) > 0 {
		c := b[len(b)-1]
		if c != '\n' && c != '\r' && c != 0 {
			break
		}
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return s, ErrEmpty
	}
	msg := string(b)
	if msg[0] == '<' {
		pri, n := parsePRI(msg)
		if n == 0 {
			s.Message = msg
			return s, ErrPriority
		}
		s.Facility, s.Severity = pri>>3, pri&7
		msg = msg[n:]
		if len(msg) >= 3 && msg[0] == '1' && msg[1] == ' ' && (msg[2] == '-' || isDigit(msg[2])) {
			if err := parse5424(&s, msg[2:]); err != nil {
				s.Time, s.HasTime = time.Time{}, false
				s.Host, s.App, s.ProcID, s.MsgID, s.Structured = "", "", "", "", nil
				s.Message = msg
				return s, err
			}
			return s, nil
		}
	}
	parse3164(&s, msg, now, loc)
	return s, nil
}

// ParseSyslogLine parses a line of a syslog file (no PRI): a timestamp, the
// host, an optional tag and the message. Facility and Severity are -1. It
// reports false when the line does not start with a valid timestamp followed
// by more text.
func ParseSyslogLine(line string, now time.Time, loc *time.Location) (Syslog, bool) {
	if loc == nil {
		loc = time.UTC
	}
	s := Syslog{Facility: -1, Severity: -1}
	t, n, ok := parseTimestamp(line, now, loc, false)
	if !ok || n >= len(line) || line[n] != ' ' {
		return s, false
	}
	rest := trimSpaces(line[n:])
	if rest == "" {
		return s, false
	}
	s.Time, s.HasTime = t, true
	parseHostTag(&s, rest, true)
	return s, true
}

// parsePRI reads "<PRI>" at the start of s and returns the priority and
// the length of the PRI, or 0 for the length when it is malformed.
func parsePRI(s string) (int, int) {
	v := 0
	i := 1
	for ; i < len(s) && i <= 4 && isDigit(s[i]); i++ {
		v = v*10 + int(s[i]-'0')
	}
	if i == 1 || i > 4 || i >= len(s) || s[i] != '>' || v > 191 {
		return 0, 0
	}
	return v, i + 1
}

// parse5424 parses what follows "<PRI>1 ".
func parse5424(s *Syslog, rest string) error {
	var tok string
	var ok bool
	if tok, rest, ok = headerField(rest); !ok {
		return ErrHeader
	}
	if tok != "-" {
		t, n, ok := parseRFC3339(tok, nil)
		if !ok || n != len(tok) {
			return ErrHeader
		}
		s.Time, s.HasTime = t, true
	}
	fields := [4]*string{&s.Host, &s.App, &s.ProcID, &s.MsgID}
	for _, f := range fields {
		if tok, rest, ok = headerField(rest); !ok {
			return ErrHeader
		}
		if tok != "-" {
			*f = tok
		}
	}
	switch {
	case rest == "":
		return ErrHeader
	case rest[0] == '-' && (len(rest) == 1 || rest[1] == ' '):
		rest = rest[1:]
	case rest[0] == '[':
		var err error
		if rest, err = parseSD(s, rest); err != nil {
			return err
		}
	default:
		// No structured data at all: lenient, the rest is the message.
		s.Message = strings.TrimPrefix(rest, "\xef\xbb\xbf")
		return nil
	}
	if rest == "" {
		return nil
	}
	if rest[0] != ' ' {
		return ErrStructuredData
	}
	s.Message = strings.TrimPrefix(rest[1:], "\xef\xbb\xbf")
	return nil
}

// headerField returns the printable-ASCII word at the start of s, which must
// be followed by a space, and what follows that space.
func headerField(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			if i == 0 {
				return "", s, false
			}
			return s[:i], s[i+1:], true
		}
		if c < 33 || c > 126 {
			return "", s, false
		}
	}
	return "", s, false
}

// parseSD parses one or more structured data elements at the start of s
// into s.Structured and returns what follows them.
func parseSD(s *Syslog, rest string) (string, error) {
	for len(rest) > 0 && rest[0] == '[' {
		i := 1
		for i < len(rest) && isSDName(rest[i]) {
			i++
		}
		if i == 1 || i >= len(rest) {
			return rest, ErrStructuredData
		}
		id := rest[1:i]
		params := 0
		for i < len(rest) && rest[i] == ' ' {
			i++
			j := i
			for j < len(rest) && isSDName(rest[j]) {
				j++
			}
			if j == i || j+1 >= len(rest) || rest[j] != '=' || rest[j+1] != '"' {
				return rest, ErrStructuredData
			}
			name := rest[i:j]
			j += 2
			start := j
			escaped := false
			for j < len(rest) && rest[j] != '"' {
				if rest[j] == '\\' && j+1 < len(rest) {
					escaped = true
					j++
				}
				j++
			}
			if j >= len(rest) {
				return rest, ErrStructuredData
			}
			value := rest[start:j]
			if escaped {
				value = unescapeSD(value)
			}
			if s.Structured == nil {
				s.Structured = make(map[string]string, 4)
			}
			s.Structured[id+"."+name] = value
			params++
			i = j + 1
		}
		if i >= len(rest) || rest[i] != ']' {
			return rest, ErrStructuredData
		}
		if params == 0 {
			if s.Structured == nil {
				s.Structured = make(map[string]string, 1)
			}
			s.Structured[id] = ""
		}
		rest = rest[i+1:]
	}
	return rest, nil
}

// isSDName reports whether c may appear in an SD-ID or PARAM-NAME.
func isSDName(c byte) bool {
	return c > 32 && c < 127 && c != '=' && c != ']' && c != '"'
}

// unescapeSD undoes the escapes \" \\ \] of a PARAM-VALUE; a backslash
// before any other byte is kept.
func unescapeSD(v string) string {
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\\' && i+1 < len(v) {
			switch n := v[i+1]; n {
			case '"', '\\', ']':
				b.WriteByte(n)
				i++
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// parse3164 parses what follows the PRI of a non-5424 message.
func parse3164(s *Syslog, msg string, now time.Time, loc *time.Location) {
	rest := msg
	// Cisco IOS sequence number "123: " (service sequence-numbers), or a
	// bare ": " as NX-OS writes.
	if i := digitsPrefix(rest); i < len(rest)-1 && rest[i] == ':' && rest[i+1] == ' ' {
		if t, n, ok := parseTimestamp(rest[i+2:], now, loc, true); ok {
			s.Time, s.HasTime = t, true
			rest = rest[i+2+n:]
			if rest == "" || rest[0] == ' ' {
				rest = trimSpaces(rest)
				parseHostTag(s, rest, true)
				return
			}
			rest = msg
			s.Time, s.HasTime = time.Time{}, false
		}
	}
	if t, n, ok := parseTimestamp(rest, now, loc, false); ok && (n == len(rest) || rest[n] == ' ') {
		s.Time, s.HasTime = t, true
		parseHostTag(s, trimSpaces(rest[n:]), true)
		return
	}
	rest = trimSpaces(rest)
	if strings.HasPrefix(rest, "date=") {
		parseFortiGate(s, rest, loc)
		s.Message = rest
		return
	}
	parseHostTag(s, rest, false)
}

// parseHostTag reads "[host ]tag[pid]: message" (host only when withHost)
// into s.
func parseHostTag(s *Syslog, rest string, withHost bool) {
	if withHost && rest != "" {
		if _, _, _, isTag := parseTag(rest); !isTag {
			end := strings.IndexByte(rest, ' ')
			if end < 0 {
				end = len(rest)
			}
			if h := rest[:end]; h == "-" || isHostName(h) {
				// "-" is RFC 5424's nil value: no host.
				if h != "-" {
					s.Host = h
				}
				rest = trimSpaces(rest[end:])
				// Cisco ASA: "host : %ASA-...".
				if len(rest) >= 2 && rest[0] == ':' && rest[1] == ' ' {
					rest = trimSpaces(rest[1:])
				}
			}
		}
	}
	if app, pid, n, ok := parseTag(rest); ok {
		s.App, s.ProcID = app, pid
		rest = rest[n:]
		if rest != "" && rest[0] == ' ' {
			rest = rest[1:]
		}
	} else if len(rest) > 1 && rest[0] == '%' {
		s.MsgID = ciscoMnemonic(rest)
	}
	s.Message = rest
}

// parseTag reads a tag "app:", "app[pid]:" or "app[pid]" followed by a
// space or the end of s. n is the length up to (not including) that space.
func parseTag(s string) (app, pid string, n int, ok bool) {
	if s == "" {
		return "", "", 0, false
	}
	if c := s[0]; !(isAlnum(c) || c == '_' || c == '(') {
		return "", "", 0, false
	}
	i := 1
	for i < len(s) && i <= 128 && isTagChar(s[i]) {
		i++
	}
	if i > 128 || i == len(s) {
		return "", "", 0, false
	}
	app = s[:i]
	switch s[i] {
	case ':':
		if i+1 == len(s) || s[i+1] == ' ' {
			return app, "", i + 1, true
		}
	case '[':
		j := i + 1
		for j < len(s) && j-i <= 65 && s[j] != ']' && s[j] != ' ' {
			j++
		}
		if j >= len(s) || s[j] != ']' {
			return "", "", 0, false
		}
		pid = s[i+1 : j]
		j++
		if j < len(s) && s[j] == ':' {
			j++
		}
		if j == len(s) || s[j] == ' ' {
			return app, pid, j, true
		}
	}
	return "", "", 0, false
}

func isTagChar(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '-' || c == '/' || c == '@' || c == '(' || c == ')'
}

// isHostName reports whether h can be a host name or address.
func isHostName(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(isAlnum(c) || c == '.' || c == '-' || c == '_' || c == ':') {
			return false
		}
	}
	return true
}

// ciscoMnemonic returns "FAC-SEV-MNEMONIC" from "%FAC-SEV-MNEMONIC: ...",
// or "".
func ciscoMnemonic(s string) string {
	dashes := 0
	for i := 1; i < len(s) && i <= 64; i++ {
		c := s[i]
		switch {
		case c == ':':
			if dashes >= 2 && i > 1 {
				return s[1:i]
			}
			return ""
		case c == '-':
			dashes++
		case isAlnum(c) || c == '_':
		default:
			return ""
		}
	}
	return ""
}

// parseFortiGate reads the time and device name of a FortiGate key=value
// message from its first few fields.
func parseFortiGate(s *Syslog, msg string, loc *time.Location) {
	var date, clock, tz string
	rest := msg
	for k := 0; k < 10 && rest != ""; k++ {
		end := strings.IndexByte(rest, ' ')
		if end < 0 {
			end = len(rest)
		}
		kv := rest[:end]
		rest = trimSpaces(rest[end:])
		eq := strings.IndexByte(kv, '=')
		if eq < 0 {
			continue
		}
		v := kv[eq+1:]
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		switch kv[:eq] {
		case "date":
			date = v
		case "time":
			clock = v
		case "tz":
			tz = v
		case "devname":
			if isHostName(v) {
				s.Host = v
			}
		}
	}
	if len(date) != 10 || len(clock) != 8 {
		return
	}
	ts := date + "T" + clock + tz
	if t, n, ok := parseRFC3339(ts, loc); ok && n == len(ts) {
		s.Time, s.HasTime = t, true
	}
}

// parseTimestamp reads a timestamp at the start of s (see the package
// documentation) and returns it and its length.
// cisco allows a zone name before a colon after the time.
func parseTimestamp(s string, now time.Time, loc *time.Location, cisco bool) (time.Time, int, bool) {
	i := 0
	if len(s) > 0 && (s[0] == '*' || s[0] == '.') {
		i = 1
		cisco = true
	}
	if len(s)-i < 14 {
		return time.Time{}, 0, false
	}
	var (
		year          = -1
		month         time.Month
		day           int
		hour, min, sc int
		ns            int
		ok            bool
		explicitYear  bool
	)
	if isDigit(s[i]) {
		if len(s)-i >= 19 && s[i+4] == '-' {
			t, n, ok := parseRFC3339(s[i:], loc)
			if !ok {
				return time.Time{}, 0, false
			}
			return t, i + n, true
		}
		// NX-OS: "2026 Nov 22 02:38:10".
		if year, ok = atoi(s[i:], 4); !ok || s[i+4] != ' ' {
			return time.Time{}, 0, false
		}
		i += 5
		explicitYear = true
	}
	if len(s)-i < 14 {
		return time.Time{}, 0, false
	}
	if month = monthOf(s[i:]); month == 0 || s[i+3] != ' ' {
		return time.Time{}, 0, false
	}
	i += 4
	if s[i] == ' ' {
		i++
	}
	switch {
	case i+1 < len(s) && isDigit(s[i]) && isDigit(s[i+1]):
		day = int(s[i]-'0')*10 + int(s[i+1]-'0')
		i += 2
	case i < len(s) && isDigit(s[i]):
		day = int(s[i] - '0')
		i++
	default:
		return time.Time{}, 0, false
	}
	if i >= len(s) || s[i] != ' ' || day < 1 || day > 31 {
		return time.Time{}, 0, false
	}
	i++
	// Cisco and ASA: "Nov 22 2026 02:38:10".
	if year < 0 && len(s)-i >= 5 && s[i+4] == ' ' {
		if year, ok = atoi(s[i:], 4); !ok {
			return time.Time{}, 0, false
		}
		i += 5
		explicitYear = true
	}
	if len(s)-i < 8 || s[i+2] != ':' || s[i+5] != ':' {
		return time.Time{}, 0, false
	}
	h, ok1 := atoi(s[i:], 2)
	m, ok2 := atoi(s[i+3:], 2)
	c, ok3 := atoi(s[i+6:], 2)
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || c > 60 {
		return time.Time{}, 0, false
	}
	hour, min, sc = h, m, c
	i += 8
	if i < len(s) && s[i] == '.' {
		var n int
		if ns, n = parseFraction(s[i+1:]); n == 0 {
			return time.Time{}, 0, false
		}
		i += 1 + n
		cisco = true
	}
	tloc := loc
	// Cisco "show-timezone": " UTC:".
	if (cisco || explicitYear) && i < len(s) && s[i] == ' ' {
		j := i + 1
		for j < len(s) && j-i <= 6 && s[j] >= 'A' && s[j] <= 'Z' {
			j++
		}
		if j-i >= 3 && j < len(s) && s[j] == ':' {
			if z := s[i+1 : j]; z == "UTC" || z == "GMT" {
				tloc = time.UTC
			}
			i = j
		}
	}
	if i < len(s) && s[i] == ':' && (i+1 == len(s) || s[i+1] == ' ') {
		i++
	}
	if year < 0 {
		return inferYear(month, day, hour, min, sc, ns, now, tloc), i, true
	}
	if day > daysIn(month, year) {
		return time.Time{}, 0, false
	}
	return time.Date(year, month, day, hour, min, sc, ns, tloc), i, true
}

// inferYear returns the time with the year that puts it closest to now.
func inferYear(month time.Month, day, hour, min, sec, ns int, now time.Time, loc *time.Location) time.Time {
	y := now.In(loc).Year()
	const halfYear = 182 * 24 * time.Hour
	if day <= daysIn(month, y) {
		t := time.Date(y, month, day, hour, min, sec, ns, loc)
		if d := t.Sub(now); d < halfYear && d > -halfYear {
			return t
		}
	}
	var best time.Time
	var bestD time.Duration = -1
	for _, cy := range [3]int{y - 1, y, y + 1} {
		if day > daysIn(month, cy) {
			continue
		}
		t := time.Date(cy, month, day, hour, min, sec, ns, loc)
		d := t.Sub(now)
		if d < 0 {
			d = -d
		}
		if bestD < 0 || d < bestD {
			best, bestD = t, d
		}
	}
	if bestD < 0 {
		// Feb 29 with no leap year near: keep the date time.Date gives.
		return time.Date(y, month, day, hour, min, sec, ns, loc)
	}
	return best
}

// parseRFC3339 reads "yyyy-mm-ddThh:mm:ss[.frac][Z|±hh:mm|±hhmm]" at the
// start of s. Without a zone, loc applies; a nil loc makes the zone
// required.
func parseRFC3339(s string, loc *time.Location) (time.Time, int, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, 0, false
	}
	year, ok0 := atoi(s, 4)
	mo, ok1 := atoi(s[5:], 2)
	day, ok2 := atoi(s[8:], 2)
	hour, ok3 := atoi(s[11:], 2)
	min, ok4 := atoi(s[14:], 2)
	sec, ok5 := atoi(s[17:], 2)
	if !(ok0 && ok1 && ok2 && ok3 && ok4 && ok5) || mo < 1 || mo > 12 || day < 1 ||
		day > daysIn(time.Month(mo), year) || hour > 23 || min > 59 || sec > 60 {
		return time.Time{}, 0, false
	}
	i := 19
	ns := 0
	if i < len(s) && s[i] == '.' {
		var n int
		if ns, n = parseFraction(s[i+1:]); n == 0 {
			return time.Time{}, 0, false
		}
		i += 1 + n
	}
	if i < len(s) {
		switch s[i] {
		case 'Z', 'z':
			return time.Date(year, time.Month(mo), day, hour, min, sec, ns, time.UTC), i + 1, true
		case '+', '-':
			oh, okh := atoi(s[i+1:], 2)
			if !okh || oh > 23 {
				return time.Time{}, 0, false
			}
			j := i + 3
			if j < len(s) && s[j] == ':' {
				j++
			}
			om, okm := atoi(s[j:], 2)
			if !okm || om > 59 {
				return time.Time{}, 0, false
			}
			off := time.Duration(oh)*time.Hour + time.Duration(om)*time.Minute
			if s[i] == '-' {
				off = -off
			}
			t := time.Date(year, time.Month(mo), day, hour, min, sec, ns, time.UTC).Add(-off)
			return t, j + 2, true
		}
	}
	if loc == nil {
		return time.Time{}, 0, false
	}
	return time.Date(year, time.Month(mo), day, hour, min, sec, ns, loc), i, true
}

// parseFraction reads 1..9 (or more, the rest ignored up to 18) digits as a
// fraction of a second and returns nanoseconds and the digit count, 0 when
// there is no digit.
func parseFraction(s string) (int, int) {
	ns, n := 0, 0
	for n < len(s) && n < 18 && isDigit(s[n]) {
		if n < 9 {
			ns = ns*10 + int(s[n]-'0')
		}
		n++
	}
	for k := n; k < 9; k++ {
		ns *= 10
	}
	return ns, n
}

func monthOf(s string) time.Month {
	if len(s) < 3 {
		return 0
	}
	switch s[:3] {
	case "Jan":
		return time.January
	case "Feb":
		return time.February
	case "Mar":
		return time.March
	case "Apr":
		return time.April
	case "May":
		return time.May
	case "Jun":
		return time.June
	case "Jul":
		return time.July
	case "Aug":
		return time.August
	case "Sep":
		return time.September
	case "Oct":
		return time.October
	case "Nov":
		return time.November
	case "Dec":
		return time.December
	}
	return 0
}

func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// atoi reads exactly n decimal digits at the start of s.
func atoi(s string, n int) (int, bool) {
	if len(s) < n {
		return 0, false
	}
	v := 0
	for i := 0; i < n; i++ {
		c := s[i]
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// digitsPrefix returns the number of leading decimal digits of s (at most
// 10).
func digitsPrefix(s string) int {
	i := 0
	for i < len(s) && i < 10 && isDigit(s[i]) {
		i++
	}
	return i
}

func trimSpaces(s string) string {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	return s
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
