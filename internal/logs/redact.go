package logs

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// RedactOptions say what a Redactor replaces.
type RedactOptions struct {
	Emails      bool
	IPAddresses bool
	URLSecrets  bool
	Patterns    []RedactPattern
	// Key makes IP pseudonyms unguessable; keep it stable so the same
	// address keeps its pseudonym across restarts.
	Key []byte
}

// RedactPattern replaces the matches of Regex with Replace ($1 expands).
type RedactPattern struct {
	Regex, Replace string
}

// Redactor removes personal data and secrets from text before storage.
type Redactor struct {
	opts     RedactOptions
	email    *regexp.Regexp
	ipv4     *regexp.Regexp
	ipv6     *regexp.Regexp
	userinfo *regexp.Regexp
	param    *regexp.Regexp
	patterns []*regexp.Regexp
}

// NewRedactor compiles the options; a bad pattern is an error naming it.
func NewRedactor(o RedactOptions) (*Redactor, error) {
	r := &Redactor{opts: o}
	if o.Emails {
		r.email = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)
	}
	if o.IPAddresses {
		r.ipv4 = regexp.MustCompile(`\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b`)
		// A candidate: hex groups and colons, compressed forms ("::")
		// included; redactIPv6 keeps only what parses as an address.
		r.ipv6 = regexp.MustCompile(`(?i)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}`)
	}
	if o.URLSecrets {
		r.userinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.\-]*://)[^/\s:@]+:[^/\s@]+@`)
		r.param = regexp.MustCompile(`(?i)([?&;](?:` + secretParams + `)=)[^&\s"';]+`)
	}
	for i, p := range o.Patterns {
		re, err := regexp.Compile(p.Regex)
		if err != nil {
			return nil, fmt.Errorf("redaction pattern %d %q: %w", i+1, p.Regex, err)
		}
		r.patterns = append(r.patterns, re)
	}
	return r, nil
}

// Active reports whether the redactor changes anything.
func (r *Redactor) Active() bool {
	return r != nil && (r.email != nil || r.ipv4 != nil || r.userinfo != nil || len(r.patterns) > 0)
}

// Redact returns s with the configured matches replaced.
func (r *Redactor) Redact(s string) string {
	if !r.Active() || s == "" {
		return s
	}
	if r.userinfo != nil && mayHaveUserinfo(s) {
		s = r.userinfo.ReplaceAllString(s, "${1}<redacted>@")
	}
	if r.param != nil && mayHaveSecretParam(s) {
		s = r.param.ReplaceAllString(s, "${1}<redacted>")
	}
	if r.email != nil && strings.Contains(s, "@") {
		s = r.email.ReplaceAllString(s, "<email>")
	}
	if r.ipv4 != nil {
		if strings.Contains(s, ".") {
			s = r.ipv4.ReplaceAllStringFunc(s, r.pseudonym)
		}
		if strings.Contains(s, ":") {
			s = r.redactIPv6(s)
		}
	}
	for i, re := range r.patterns {
		s = re.ReplaceAllString(s, r.opts.Patterns[i].Replace)
	}
	return s
}

// redactIPv6 replaces the IPv6 addresses of s by pseudonyms. A candidate
// glued to a word or to more colons ("std::vector", a MAC address), one
// without a hex digit ("::") and one that does not parse (a time such as
// 02:38:10) is left alone.
func (r *Redactor) redactIPv6(s string) string {
	var b strings.Builder
	last := 0
	for _, loc := range r.ipv6.FindAllStringIndex(s, -1) {
		i, j := loc[0], loc[1]
		if i > 0 && (isTokenByte(s[i-1]) || s[i-1] == ':') || j < len(s) && (isTokenByte(s[j]) || s[j] == ':') {
			continue
		}
		m := s[i:j]
		if !strings.ContainsAny(m, "0123456789abcdefABCDEF") {
			continue
		}
		if _, err := netip.ParseAddr(m); err != nil {
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(r.pseudonym(m))
		last = j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// secretParams are the query parameters whose values URLSecrets replaces.
const secretParams = "access_token|api_key|apikey|auth|key|password|passwd|pwd|secret|session|sig|signature|token|client_secret"

// mayHaveUserinfo is a cheap necessary condition for a userinfo match: an
// "@" after a "://". The expression is slow, and most lines with a URL
// (access logs' referers) have no "@" after it.
func mayHaveUserinfo(s string) bool {
	if strings.IndexByte(s, '@') < 0 {
		return false
	}
	i := strings.Index(s, "://")
	return i >= 0 && strings.IndexByte(s[i+3:], '@') >= 0
}

// mayHaveSecretParam is a cheap necessary condition for a param match: a
// '?', '&' or ';' right before one of secretParams (in any case) and "=".
// Words with non-ASCII bytes count as candidates, since (?i) folds some
// non-ASCII letters to ASCII ones (the Kelvin sign to k). The expression
// is slow, and most lines with "=" (logfmt, firewall logs) have none.
func mayHaveSecretParam(s string) bool {
	for off := 0; ; {
		k := strings.IndexByte(s[off:], '=')
		if k < 0 {
			return false
		}
		j := off + k
		off = j + 1
		// Back from the "=" over the name to the character before it.
		i, ascii := j-1, true
		for ; i >= 0 && j-i <= 40; i-- {
			c := s[i]
			if c >= 0x80 {
				ascii = false
			} else if c != '_' && (c|0x20 < 'a' || c|0x20 > 'z') {
				break
			}
		}
		if i < 0 || i == j-1 || s[i] != '?' && s[i] != '&' && s[i] != ';' {
			continue
		}
		if !ascii {
			return true
		}
		for name := range strings.SplitSeq(secretParams, "|") {
			if strings.EqualFold(name, s[i+1:j]) {
				return true
			}
		}
	}
}

// pseudonym is a keyed hash of an address: stable, not reversible.
func (r *Redactor) pseudonym(addr string) string {
	m := hmac.New(sha256.New, r.opts.Key)
	m.Write([]byte(addr))
	return "ip-" + hex.EncodeToString(m.Sum(nil)[:4])
}
