package parse

import "strings"

// Security event names returned by ParseAuth.
const (
	EventSSHFailed       = "ssh_failed"
	EventSSHAccepted     = "ssh_accepted"
	EventSSHInvalidUser  = "ssh_invalid_user"
	EventSudo            = "sudo"
	EventSudoFailed      = "sudo_failed"
	EventUserAdded       = "user_added"
	EventGroupAdded      = "group_added"
	EventPasswordChanged = "password_changed"
	EventUserDeleted     = "user_deleted"
)

// Security is a security event found in an auth.log / secure message.
type Security struct {
	// Event is one of the Event constants.
	Event string
	// User is the account concerned: who logged in or tried to, who ran
	// sudo, the user added, deleted or whose password changed.
	User string
	// SourceIP, Port and Method (password, publickey, ...) are set for ssh
	// events when present.
	SourceIP, Port, Method string
	// TargetUser and Command are set for sudo events: the user the command
	// ran as and the command line.
	TargetUser, Command string
	// Group is the group's name for group_added.
	Group string
}

// ParseAuth finds a security event in a message of the program app (sshd,
// sshd-session, sudo, useradd, groupadd, userdel, passwd, chpasswd) as
// Debian and RHEL write them. It reports false for any other message.
func ParseAuth(app, message string) (Security, bool) {
	switch app {
	case "sshd", "sshd-session":
		return parseSSHD(message)
	case "sudo":
		return parseSudo(message)
	case "useradd", "groupadd":
		if v, ok := strings.CutPrefix(message, "new user: name="); ok && app == "useradd" {
			if u := untilComma(v); u != "" {
				return Security{Event: EventUserAdded, User: u}, true
			}
		}
		if v, ok := strings.CutPrefix(message, "new group: name="); ok {
			if g := untilComma(v); g != "" {
				return Security{Event: EventGroupAdded, Group: g}, true
			}
		}
	case "userdel":
		if v, ok := strings.CutPrefix(message, "delete user '"); ok {
			if end := strings.IndexByte(v, '\''); end > 0 {
				return Security{Event: EventUserDeleted, User: v[:end]}, true
			}
		}
	case "passwd", "chpasswd":
		if _, v, ok := strings.Cut(message, "password changed for "); ok {
			if u := firstWord(v); u != "" {
				return Security{Event: EventPasswordChanged, User: u}, true
			}
		}
	}
	return Security{}, false
}

// parseSSHD reads sshd's Failed, Accepted and Invalid user messages.
func parseSSHD(m string) (Security, bool) {
	// rsyslog's "message repeated 3 times: [ Failed password for ...]".
	if v, ok := strings.CutPrefix(m, "message repeated "); ok {
		_, inner, ok := strings.Cut(v, ": [ ")
		if !ok {
			return Security{}, false
		}
		m = strings.TrimSuffix(inner, "]")
	}
	var ev string
	switch {
	case strings.HasPrefix(m, "Failed "):
		ev, m = EventSSHFailed, m[len("Failed "):]
	case strings.HasPrefix(m, "Accepted "):
		ev, m = EventSSHAccepted, m[len("Accepted "):]
	case strings.HasPrefix(m, "Invalid user "):
		m = m[len("Invalid user "):]
		user, rest, ok := strings.Cut(m, " from ")
		if !ok || strings.IndexByte(user, ' ') >= 0 {
			return Security{}, false
		}
		s := Security{Event: EventSSHInvalidUser, User: user}
		s.SourceIP, s.Port = hostPort(rest)
		if s.SourceIP == "" {
			return Security{}, false
		}
		return s, true
	default:
		return Security{}, false
	}
	// "<method> for [invalid user ]<user> from <ip> port <port> ssh2..."
	method, rest, ok := strings.Cut(m, " for ")
	if !ok || method == "" || strings.IndexByte(method, ' ') >= 0 {
		return Security{}, false
	}
	rest = strings.TrimPrefix(rest, "invalid user ")
	var user string
	if strings.HasPrefix(rest, "from ") {
		rest = rest[len("from "):]
	} else if user, rest, ok = strings.Cut(rest, " from "); !ok {
		return Security{}, false
	}
	s := Security{Event: ev, User: user, Method: method}
	s.SourceIP, s.Port = hostPort(rest)
	if s.SourceIP == "" {
		return Security{}, false
	}
	return s, true
}

// hostPort reads "<ip>[ port <port>]..." .
func hostPort(s string) (string, string) {
	ip := firstWord(s)
	rest := s[len(ip):]
	if v, ok := strings.CutPrefix(rest, " port "); ok {
		return ip, firstWord(v)
	}
	return ip, ""
}

// parseSudo reads sudo's "user : [reason ; ]TTY=... ; PWD=... ; USER=... ;
// COMMAND=..." lines.
func parseSudo(m string) (Security, bool) {
	m = trimSpaces(m)
	user, rest, ok := strings.Cut(m, " : ")
	if !ok || user == "" || strings.IndexByte(user, ' ') >= 0 {
		return Security{}, false
	}
	s := Security{Event: EventSudo, User: user}
	first := true
	seen := false
	for rest != "" {
		part, next, _ := strings.Cut(rest, " ; ")
		if strings.HasPrefix(part, "COMMAND=") {
			// The command is last and may itself hold " ; ".
			s.Command = strings.TrimSpace(rest[len("COMMAND="):])
			seen = true
			break
		}
		key, val, isKV := strings.Cut(part, "=")
		switch {
		case isKV && isUpperWord(key):
			seen = true
			if key == "USER" {
				s.TargetUser = val
			}
		case first:
			s.Event = EventSudoFailed
		default:
			return Security{}, false
		}
		first = false
		rest = next
	}
	if !seen {
		return Security{}, false
	}
	return s, true
}

func isUpperWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}

func untilComma(s string) string {
	if i := strings.IndexByte(s, ','); i >= 0 {
		return s[:i]
	}
	return s
}

func firstWord(s string) string {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i]
	}
	return s
}
