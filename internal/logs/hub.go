package logs

import (
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// Hub hands new entries to live tails. A slow subscriber loses entries
// (counted) instead of slowing ingestion.
type Hub struct {
	mu   sync.RWMutex
	subs map[*Subscription]struct{}
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[*Subscription]struct{}{}} }

// Subscription receives the entries matching its filter.
type Subscription struct {
	hub     *Hub
	match   *Matcher
	C       chan Entry
	dropped atomic.Int64
}

// Subscribe starts a subscription with a buffer of n entries.
func (h *Hub) Subscribe(m *Matcher, n int) *Subscription {
	s := &Subscription{hub: h, match: m, C: make(chan Entry, n)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	delete(s.hub.subs, s)
	s.hub.mu.Unlock()
}

// Dropped returns and resets the count of entries lost since the last call.
func (s *Subscription) Dropped() int64 { return s.dropped.Swap(0) }

// Subscribers is the number of open subscriptions.
func (h *Hub) Subscribers() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.subs)
}

// Publish offers entries to every subscription.
func (h *Hub) Publish(entries []Entry) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.subs {
		for i := range entries {
			if !s.match.Match(&entries[i]) {
				continue
			}
			select {
			case s.C <- entries[i]:
			default:
				s.dropped.Add(1)
			}
		}
	}
}

// Matcher applies a Filter (without its time range) to entries in memory,
// as the store does: values exact, text words and phrases in the same case
// variants, the regex on the message.
type Matcher struct {
	f     Filter
	terms [][]string
	re    *regexp.Regexp
}

// NewMatcher compiles f.
func NewMatcher(f Filter) (*Matcher, error) {
	m := &Matcher{f: f}
	for _, t := range Terms(f.Text) {
		m.terms = append(m.terms, CaseVariants(t))
	}
	if f.Regex != "" {
		re, err := regexp.Compile(f.Regex)
		if err != nil {
			return nil, err
		}
		m.re = re
	}
	return m, nil
}

// Match reports whether e passes the filter.
func (m *Matcher) Match(e *Entry) bool {
	in := func(vs []string, v string) bool {
		if len(vs) == 0 {
			return true
		}
		for _, x := range vs {
			if x == v {
				return true
			}
		}
		return false
	}
	if !in(m.f.Hosts, e.Host) || !in(m.f.Sources, e.Source) || !in(m.f.Services, e.Service) || !in(m.f.Severities, e.Severity) {
		return false
	}
	for _, fm := range m.f.Fields {
		if e.field(fm.Name) != fm.Value {
			return false
		}
	}
	for _, variants := range m.terms {
		found := false
		for _, v := range variants {
			if containsWord(e.Message, v) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return m.re == nil || m.re.MatchString(e.Message)
}

// field is the value of a field as the store has it: the entry's own
// fields by their names, then the parsed ones.
func (e *Entry) field(name string) string {
	switch name {
	case FieldHost:
		return e.Host
	case FieldSource:
		return e.Source
	case FieldService:
		return e.Service
	case FieldSeverity:
		return e.Severity
	case "_msg":
		return e.Message
	}
	return e.Fields[name]
}

// containsWord reports whether the word or phrase w occurs in s as the
// store's phrase filter finds it: where w starts (ends) with a word
// character, the character before (after) it must not be one. Word
// characters are Unicode letters and digits and '_', as the store's
// tokenizer has them; U+FFFD next to w counts as one, as in the store.
func containsWord(s, w string) bool {
	if w == "" {
		return s == ""
	}
	first, _ := utf8.DecodeRuneInString(w)
	last, _ := utf8.DecodeLastRuneInString(w)
	startsWord, endsWord := isWordRune(first), isWordRune(last)
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		j += i
		i = j + 1
		if startsWord && j > 0 {
			if r, _ := utf8.DecodeLastRuneInString(s[:j]); r == utf8.RuneError || isWordRune(r) {
				continue
			}
		}
		if end := j + len(w); endsWord && end < len(s) {
			if r, _ := utf8.DecodeRuneInString(s[end:]); r == utf8.RuneError || isWordRune(r) {
				continue
			}
		}
		return true
	}
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isTokenByte(byte(r))
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_'
}

// isTokenByte reports whether the ASCII byte c is a word character.
func isTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
