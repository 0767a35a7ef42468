package parse

import (
	"bytes"
	"io"
	"testing"
)

func benchLines(b *testing.B, name string, fn func(line string)) {
	lines := fixtureLines(b, name)
	size := 0
	for _, l := range lines {
		size += len(l)
	}
	b.SetBytes(int64(size / len(lines)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		fn(lines[i%len(lines)])
		i++
	}
}

func BenchmarkParseSyslogLine(b *testing.B) {
	for _, name := range []string{"debian12-syslog.log", "rhel9-messages"} {
		b.Run(name, func(b *testing.B) {
			benchLines(b, name, func(line string) {
				if _, ok := ParseSyslogLine(line, testNow, nil); !ok {
					b.Fatal(line)
				}
			})
		})
	}
}

func BenchmarkParseSyslog(b *testing.B) {
	for _, tc := range []struct{ name, msg string }{
		{"rfc3164", "<38>Nov 22 02:38:10 web1 sshd[48977]: Accepted publickey for deploy from 198.51.100.20 port 50122 ssh2"},
		{"rfc5424", "<86>1 2026-11-22T02:38:10.123456+00:00 web1 sshd 48977 - - Accepted publickey for deploy from 198.51.100.20 port 50122 ssh2"},
		{"rfc5424-sd", `<165>1 2026-11-22T02:38:10.003Z db1.example.net saypro-agent 1200 QUEUE [queue@53595 bytes="1048576" files="12"][origin ip="10.20.0.31"] disk queue above warning size`},
		{"cisco", "<189>1841: *Nov 22 02:38:10.123: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.0.0.5)"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			msg := []byte(tc.msg)
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseSyslog(msg, testNow, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseAccess(b *testing.B) {
	for _, name := range []string{"nginx-access.log", "apache-access.log"} {
		b.Run(name, func(b *testing.B) {
			benchLines(b, name, func(line string) {
				if _, ok := ParseAccess(line); !ok {
					b.Fatal(line)
				}
			})
		})
	}
}

// benchMessages returns the parsed lines of a syslog fixture.
func benchMessages(b *testing.B, name string) []Syslog {
	var out []Syslog
	for _, line := range fixtureLines(b, name) {
		s, ok := ParseSyslogLine(line, testNow, nil)
		if !ok {
			b.Fatal(line)
		}
		out = append(out, s)
	}
	return out
}

func BenchmarkParseAuth(b *testing.B) {
	msgs := benchMessages(b, "debian12-auth.log")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s := msgs[i%len(msgs)]
		ParseAuth(s.App, s.Message)
		i++
	}
}

func BenchmarkParseKernel(b *testing.B) {
	msgs := benchMessages(b, "debian12-kern.log")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ParseKernel(msgs[i%len(msgs)].Message)
		i++
	}
}

func BenchmarkFrameReader(b *testing.B) {
	var stream bytes.Buffer
	frames := 0
	for range 20 {
		for _, line := range fixtureLines(b, "network-syslog.txt") {
			stream.WriteString(line + "\n")
			frames++
		}
	}
	data := stream.Bytes()
	r := bytes.NewReader(data)
	fr := NewFrameReader(r, 0)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(data)
		*fr = FrameReader{rd: r, max: fr.max, buf: fr.buf}
		n := 0
		for {
			_, err := fr.Next()
			if err == io.EOF {
				break
			}
			n++
		}
		if n != frames {
			b.Fatal(n, frames)
		}
	}
}
