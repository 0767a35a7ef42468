package logs_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/logs"
)

func TestSanitize(t *testing.T) {
	long := strings.Repeat("a", 70000)
	// 65535 ASCII bytes then "é" (2 bytes) straddling the 64 KiB limit.
	straddle := strings.Repeat("b", 65535) + "é" + strings.Repeat("c", 100)
	tests := []struct {
		name      string
		in        string
		max       int
		want      string
		truncated bool
	}{
		{"clean", "Accepted publickey for deploy from 198.51.100.20", 64 << 10, "Accepted publickey for deploy from 198.51.100.20", false},
		{"tab kept", "a\tb", 100, "a\tb", false},
		{"utf8 kept", "Grüße – 日本語 ✓", 100, "Grüße – 日本語 ✓", false},
		{"empty", "", 100, "", false},
		{"invalid utf8", "bad \xff\xfe end", 100, "bad \uFFFD\uFFFD end", false},
		{"truncated sequence", "caf\xc3", 100, "caf\uFFFD", false},
		{"control bytes", "a\x00b\x1b[31mred\x7f\r\n", 100, `a\x00b\x1b[31mred\x7f\x0d\x0a`, false},
		{"binary", "\x16\x03\x01\x02\x00\x01", 100, `\x16\x03\x01\x02\x00\x01`, false},
		{"control and invalid", "\x00\xff", 100, "\\x00\uFFFD", false},
		{"no limit", long, 0, long, false},
		{"at limit", long[:100], 100, long[:100], false},
		{"over limit", long, 64 << 10, long[:64<<10] + " …[truncated 4464 bytes]", true},
		{"cut at rune start", straddle, 64 << 10, straddle[:65535] + " …[truncated 102 bytes]", true},
		{"cut then escaped", "\x01" + long, 10, `\x01` + long[:9] + " …[truncated 69991 bytes]", true},
		// Binary made only of continuation bytes has no character
		// boundary to step back to: it is cut at the limit, not emptied.
		{"continuation bytes", strings.Repeat("\x80", 100), 10, strings.Repeat("\uFFFD", 10) + " …[truncated 90 bytes]", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, truncated := logs.Sanitize(tc.in, tc.max)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.truncated, truncated)
			require.True(t, utf8.ValidString(got))
		})
	}
}

func TestSanitizeCleanInputDoesNotAllocate(t *testing.T) {
	lines := []string{
		"2026-11-22T02:38:10.123456+00:00 web1 sshd[42]: Failed password for root from 203.0.113.9 port 50122 ssh2",
		"Grüße aus Johannesburg – ✓",
		strings.Repeat("x", 64<<10),
	}
	for _, line := range lines {
		allocs := testing.AllocsPerRun(100, func() {
			out, _ := logs.Sanitize(line, 64<<10)
			if len(out) != len(line) {
				t.Fatal("clean input changed")
			}
		})
		require.Zero(t, allocs, "allocations for %.20q", line)
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"", "plain", "a\x00b", "\xff\xfe", "é" + strings.Repeat("x", 40), strings.Repeat("\x80", 50), "日本語\x1b[0m"} {
		f.Add(s, 16)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		max %= 1 << 12
		if max < 0 {
			max = -max
		}
		out, truncated := logs.Sanitize(s, max)
		if !utf8.ValidString(out) {
			t.Fatalf("Sanitize(%q, %d) = %q: not valid UTF-8", s, max, out)
		}
		for i := 0; i < len(out); i++ {
			if c := out[i]; c < 0x20 && c != '\t' || c == 0x7f {
				t.Fatalf("Sanitize(%q, %d) = %q: control byte %#x left", s, max, out, c)
			}
		}
		if truncated != (max > 0 && len(s) > max) {
			t.Fatalf("Sanitize(%q, %d) reports truncated=%v", s, max, truncated)
		}
		// Each kept input byte grows to at most 4 bytes (\xNN), plus the marker.
		limit := 4*len(s) + 1
		if max > 0 {
			limit = 4*min(max, len(s)) + len(" …[truncated  bytes]") + 20
		}
		if len(out) > limit {
			t.Fatalf("Sanitize(%q, %d) is %d bytes, over %d", s, max, len(out), limit)
		}
		if !truncated {
			if again, _ := logs.Sanitize(out, 0); again != out {
				t.Fatalf("Sanitize is not idempotent on %q: %q", out, again)
			}
		}
	})
}
