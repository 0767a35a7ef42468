package logs

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Sanitize makes a raw line safe to store and show: bytes that are not
// valid UTF-8 become U+FFFD, control characters other than tab become
// \xNN escapes (so binary data stays visible but cannot break a terminal
// or the UI), and a line longer than max bytes is cut at a character
// boundary with the marker " …[truncated N bytes]". It returns the input
// unchanged (no allocation) when there is nothing to do.
func Sanitize(s string, max int) (string, bool) {
	truncated := 0
	if max > 0 && len(s) > max {
		// Step back to the start of the character at the limit; a run of
		// stray continuation bytes (binary data) has none near, and is cut
		// at the limit itself.
		cut := max
		for cut > 0 && cut > max-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
			cut--
		}
		if !utf8.RuneStart(s[cut]) {
			cut = max
		}
		truncated = len(s) - cut
		s = s[:cut]
	}
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && c != '\t' || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean || (!hasControl(s) && utf8.ValidString(s)) {
		if truncated > 0 {
			return s + " …[truncated " + strconv.Itoa(truncated) + " bytes]", true
		}
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' || c == 0x7f {
				b.WriteString(`\x`)
				b.WriteByte(hexDigit[c>>4])
				b.WriteByte(hexDigit[c&15])
			} else {
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	if truncated > 0 {
		b.WriteString(" …[truncated " + strconv.Itoa(truncated) + " bytes]")
	}
	return b.String(), truncated > 0
}

const hexDigit = "0123456789abcdef"

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}
