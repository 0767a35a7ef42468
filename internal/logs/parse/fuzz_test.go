package parse

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

var syslogFixtures = []string{
	"network-syslog.txt", "debian12-syslog.log", "debian12-auth.log", "debian12-kern.log", "rhel9-messages", "rhel9-secure",
}

func FuzzParseSyslog(f *testing.F) {
	for _, name := range syslogFixtures {
		for _, line := range fixtureLines(f, name) {
			f.Add([]byte(line))
			if line[0] != '<' {
				f.Add([]byte("<13>" + line))
			}
		}
	}
	f.Add([]byte(`<14>1 2026-11-22T04:38:21+02:00 app3 payments 2211 TXN [meta@53595 user="o\"brien" path="C:\\tmp"][x] m`))
	f.Add([]byte("<13>1 - - - - - - \xef\xbb\xbf\xef\xbb\xbfbom"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSyslog(data, testNow, nil)
		checkSyslog(t, s, len(data))
		if s.Facility < 0 && err != nil && err != ErrEmpty && err != ErrPriority {
			t.Fatalf("error %v without PRI", err)
		}
		if err == nil && s.Facility >= 0 {
			roundTrip5424(t, s)
		}
		line, ok := ParseSyslogLine(string(data), testNow, time.UTC)
		checkSyslog(t, line, len(data))
		if ok && (!line.HasTime || line.Facility != -1) {
			t.Fatalf("file line: %+v", line)
		}
	})
}

// checkSyslog checks the invariants of any parsed syslog result.
func checkSyslog(t *testing.T, s Syslog, inLen int) {
	t.Helper()
	if (s.Facility < 0) != (s.Severity < 0) || s.Facility > 23 || s.Severity > 7 || s.Facility < -1 || s.Severity < -1 {
		t.Fatalf("facility %d severity %d", s.Facility, s.Severity)
	}
	for _, v := range []string{s.Host, s.App, s.ProcID, s.MsgID, s.Message} {
		if len(v) > inLen {
			t.Fatalf("field longer than the input: %q", v)
		}
	}
	if len(s.Structured)*3 > inLen {
		t.Fatalf("%d structured entries from %d bytes", len(s.Structured), inLen)
	}
	if !s.HasTime && !s.Time.IsZero() {
		t.Fatalf("time %v without HasTime", s.Time)
	}
}

// roundTrip5424 formats s as RFC 5424 and checks that parsing it gives s
// back, when s can be written as RFC 5424.
func roundTrip5424(t *testing.T, s Syslog) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "<%d>1 ", s.Facility<<3|s.Severity)
	if s.HasTime {
		if y := s.Time.UTC().Year(); y < 0 || y > 9999 {
			return
		}
		b.WriteString(s.Time.UTC().Format(time.RFC3339Nano))
	} else {
		b.WriteByte('-')
	}
	for _, v := range []string{s.Host, s.App, s.ProcID, s.MsgID} {
		if v == "-" {
			return
		}
		for i := 0; i < len(v); i++ {
			if v[i] < 33 || v[i] > 126 {
				return
			}
		}
		b.WriteByte(' ')
		if v == "" {
			v = "-"
		}
		b.WriteString(v)
	}
	b.WriteByte(' ')
	if len(s.Structured) == 0 {
		b.WriteByte('-')
	}
	for _, k := range slices.Sorted(maps.Keys(s.Structured)) {
		v := s.Structured[k]
		dot := strings.IndexByte(k[min(1, len(k)):], '.') + 1
		if dot <= 0 || dot == len(k)-1 {
			if v != "" {
				t.Fatalf("key %q without a parameter has value %q", k, v)
			}
			fmt.Fprintf(&b, "[%s]", k)
			continue
		}
		esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`).Replace(v)
		fmt.Fprintf(&b, `[%s %s="%s"]`, k[:dot], k[dot+1:], esc)
	}
	if s.Message != "" {
		b.WriteString(" \xef\xbb\xbf")
		b.WriteString(s.Message)
	}
	got, err := ParseSyslog([]byte(b.String()), testNow, nil)
	if err != nil {
		t.Fatalf("re-parse %q: %v", b.String(), err)
	}
	if !got.Time.Equal(s.Time) {
		t.Fatalf("re-parse %q: time %v, want %v", b.String(), got.Time, s.Time)
	}
	got.Time, s.Time = time.Time{}, time.Time{}
	if len(s.Structured) == 0 {
		s.Structured = nil
	}
	if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", s) {
		t.Fatalf("re-parse %q:\n got %#v\nwant %#v", b.String(), got, s)
	}
}

func FuzzParseAccess(f *testing.F) {
	for _, name := range []string{"nginx-access.log", "apache-access.log"} {
		for _, line := range fixtureLines(f, name) {
			f.Add(line)
		}
	}
	f.Add(`a - - [22/Nov/2026:02:38:10 +0000] "GET / HTTP/1.1" 200 1 "\\" "x\"" us=999999999999999`)
	f.Fuzz(func(t *testing.T, line string) {
		a, ok := ParseAccess(line)
		if !ok {
			return
		}
		if a.Status < 100 || a.Status > 999 || a.Bytes < 0 || a.Duration < 0 || (!a.HasDuration && a.Duration != 0) {
			t.Fatalf("%q: %+v", line, a)
		}
		for _, v := range []string{a.VHost, a.Client, a.User, a.Method, a.Path, a.Proto, a.Referer, a.UserAgent} {
			if !strings.Contains(line, v) {
				t.Fatalf("%q: field %q is not from the line", line, v)
			}
		}
		if a.Client == "" || (a.Method == "") != (a.Path == "") {
			t.Fatalf("%q: %+v", line, a)
		}
		if a.HasTime && (a.Time.Year() < 1 || a.Time.Year() > 9999) {
			return
		}
		// Written back in a canonical form, the line parses to the same.
		out := formatAccess(a)
		b, ok := ParseAccess(out)
		if !ok {
			t.Fatalf("%q: re-parse %q failed", line, out)
		}
		if !b.Time.Equal(a.Time) {
			t.Fatalf("%q: re-parse %q: time %v, want %v", line, out, b.Time, a.Time)
		}
		a.Time, b.Time = time.Time{}, time.Time{}
		if a != b {
			t.Fatalf("%q: re-parse %q:\n got %+v\nwant %+v", line, out, b, a)
		}
	})
}

func formatAccess(a Access) string {
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	var b strings.Builder
	if a.VHost != "" {
		b.WriteString(a.VHost + " ")
	}
	b.WriteString(a.Client + " - " + dash(a.User) + " [")
	if a.HasTime {
		b.WriteString(a.Time.UTC().Format("02/Jan/2006:15:04:05 -0700"))
	} else {
		b.WriteString("-")
	}
	b.WriteString(`] "`)
	switch {
	case a.Method == "":
		b.WriteString("-")
	case a.Proto == "":
		b.WriteString(a.Method + " " + a.Path)
	default:
		b.WriteString(a.Method + " " + a.Path + " " + a.Proto)
	}
	fmt.Fprintf(&b, `" %d %d "%s" "%s"`, a.Status, a.Bytes, dash(a.Referer), dash(a.UserAgent))
	if a.HasDuration {
		if a.Duration%time.Microsecond == 0 {
			fmt.Fprintf(&b, " us=%d", a.Duration/time.Microsecond)
		} else {
			fmt.Fprintf(&b, " rt=%d.%09d", a.Duration/time.Second, a.Duration%time.Second)
		}
	}
	return b.String()
}

func FuzzFrameReader(f *testing.F) {
	for _, name := range syslogFixtures {
		var b bytes.Buffer
		for i, line := range fixtureLines(f, name) {
			if i%2 == 0 {
				fmt.Fprintf(&b, "%d %s", len(line), line)
			} else {
				b.WriteString(line + "\n")
			}
		}
		f.Add(b.Bytes(), uint16(200))
	}
	f.Add([]byte("12 <13>abcdefgh5 <13>z\n\x00\r\n99 x"), uint16(6))
	f.Add([]byte("6000 "+strings.Repeat("c", 6000)+strings.Repeat("d", 5000)+"\n"+strings.Repeat("e", 9000)), uint16(8000))
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		maxLen := int(limit%10000) + 1
		read := func(r io.Reader) [][]byte {
			fr := NewFrameReader(r, maxLen)
			var frames [][]byte
			total := 0
			for {
				b, err := fr.Next()
				if err != nil {
					if err != io.EOF {
						t.Fatalf("error %v", err)
					}
					return frames
				}
				if len(b) == 0 || len(b) > maxLen || cap(fr.buf) > maxLen+frameSlack {
					t.Fatalf("frame of %d bytes, limit %d, buffer %d", len(b), maxLen, cap(fr.buf))
				}
				total += len(b)
				if total > len(data) || len(frames) > len(data) {
					t.Fatalf("%d bytes in %d frames from %d bytes", total, len(frames), len(data))
				}
				frames = append(frames, bytes.Clone(b))
			}
		}
		whole := read(bytes.NewReader(data))
		if bytesByte := read(iotest.OneByteReader(bytes.NewReader(data))); !slices.EqualFunc(whole, bytesByte, bytes.Equal) {
			t.Fatalf("frames depend on read sizes:\n%q\n%q", whole, bytesByte)
		}
		// Octet counting carries any frame through unchanged.
		var enc bytes.Buffer
		var want [][]byte
		for chunk := range bytes.SplitSeq(data, []byte{'|'}) {
			if len(chunk) == 0 {
				continue
			}
			fmt.Fprintf(&enc, "%d %s", len(chunk), chunk)
			want = append(want, chunk[:min(len(chunk), maxLen)])
		}
		if got := read(iotest.HalfReader(&enc)); !slices.EqualFunc(got, want, bytes.Equal) {
			t.Fatalf("octet counting:\n got %q\nwant %q", got, want)
		}
	})
}
