package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/saypro/monitor/internal/logs/parse"
)

func gen(t *testing.T, lines int, seed uint64) (genResult, []byte, []byte) {
	t.Helper()
	var raw, meta bytes.Buffer
	end := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	res, err := generate(genConfig{Lines: lines, Seed: seed, End: end, Loc: time.UTC}, &raw, &meta, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return res, raw.Bytes(), meta.Bytes()
}

func TestGenerateDeterministic(t *testing.T) {
	_, a, am := gen(t, 5000, 7)
	_, b, bm := gen(t, 5000, 7)
	_, c, _ := gen(t, 5000, 8)
	if !bytes.Equal(a, b) || !bytes.Equal(am, bm) {
		t.Error("the same seed gave different lines")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds gave the same lines")
	}
}

// TestGenerateCounts checks the generator's counts as grep and the store
// would count them, and that every line parses as its source's format.
func TestGenerateCounts(t *testing.T) {
	const n = 20000
	res, raw, meta := gen(t, n, 1)
	if res.Lines != n || int64(len(raw)) != res.Bytes || len(meta) != n*metaBytes {
		t.Fatalf("lines %d, bytes %d/%d, meta %d", res.Lines, res.Bytes, len(raw), len(meta))
	}
	re := regexp.MustCompile(Regex)
	var term, termHost, regex, needle int
	var byKind [numKinds]int
	sc := bufio.NewScanner(bytes.NewReader(raw))
	last := time.Duration(-1)
	for i := 0; sc.Scan(); i++ {
		line := sc.Text()
		rec := meta[i*metaBytes:]
		host, k := res.Hosts[rec[0]], kind(rec[1])
		at := time.Duration(binary.LittleEndian.Uint32(rec[2:])) * time.Millisecond
		if at < last || at > 24*time.Hour {
			t.Fatalf("line %d: time offset %s after %s", i+1, at, last)
		}
		last = at
		byKind[k]++
		if strings.Contains(line, Term) {
			term++
			if host == TermHost {
				termHost++
			}
		}
		if strings.Contains(strings.ToLower(line), Term) != strings.Contains(line, Term) {
			t.Errorf("line %d has the term in another case: %s", i+1, line)
		}
		if re.MatchString(line) {
			regex++
		}
		if strings.Contains(line, Needle) {
			needle++
		}
		switch kindInfo[k].format {
		case "syslog":
			s, ok := parse.ParseSyslogLine(line, res.End, time.UTC)
			if !ok || !s.HasTime || s.App == "" || s.Host != host {
				t.Errorf("line %d does not parse as a syslog line of %s: %s", i+1, host, line)
			}
		case "nginx":
			a, ok := parse.ParseAccess(line)
			if !ok || !a.HasTime || !a.HasDuration {
				t.Errorf("line %d does not parse as an access line with a response time: %s", i+1, line)
			}
		}
	}
	if got := [...]int{term, termHost, regex, needle}; got != [...]int{res.TermCount, res.TermHostCount, res.RegexCount, res.NeedleCount} {
		t.Errorf("term, term on %s, regex, needle: counted %v, generator says %v", TermHost, got,
			[...]int{res.TermCount, res.TermHostCount, res.RegexCount, res.NeedleCount})
	}
	if needle != 1 || term == 0 || termHost == 0 || regex == 0 {
		t.Errorf("want one needle and some term, host and regex lines: %d %d %d %d", needle, term, termHost, regex)
	}
	if byKind != res.ByKind {
		t.Errorf("lines by kind %v, generator says %v", byKind, res.ByKind)
	}
	if len(res.Hosts) != 100 {
		t.Errorf("%d hosts, want 100", len(res.Hosts))
	}
}
