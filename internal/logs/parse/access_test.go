package parse

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseAccess(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want Access
		ok   bool
	}{
		{
			name: "nginx combined",
			in:   `198.51.100.20 - - [22/Nov/2026:02:38:10 +0000] "GET /api/v1/products?page=2 HTTP/1.1" 200 5123 "https://shop.example.co.za/catalog" "Mozilla/5.0 (X11; Linux x86_64)"`,
			want: Access{Client: "198.51.100.20", Method: "GET", Path: "/api/v1/products?page=2", Proto: "HTTP/1.1", Status: 200, Bytes: 5123,
				Referer: "https://shop.example.co.za/catalog", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", Time: utc("2026-11-22T02:38:10Z"), HasTime: true},
			ok: true,
		},
		{
			name: "apache common with user and offset",
			in:   `192.168.10.22 - jsmith [22/Nov/2026:04:38:11 +0200] "GET /reports/monthly.pdf HTTP/1.1" 200 188213` + "\r\n",
			want: Access{Client: "192.168.10.22", User: "jsmith", Method: "GET", Path: "/reports/monthly.pdf", Proto: "HTTP/1.1", Status: 200, Bytes: 188213,
				Time: utc("2026-11-22T02:38:11Z"), HasTime: true},
			ok: true,
		},
		{
			name: "common with dash bytes",
			in:   `192.168.10.23 - - [22/Nov/2026:04:38:12 -0130] "GET /favicon.ico HTTP/1.1" 404 -`,
			want: Access{Client: "192.168.10.23", Method: "GET", Path: "/favicon.ico", Proto: "HTTP/1.1", Status: 404,
				Time: utc("2026-11-22T06:08:12Z"), HasTime: true},
			ok: true,
		},
		{
			name: "apache vhost_combined",
			in:   `intranet.saypro.local:443 192.168.10.24 - - [22/Nov/2026:04:38:13 +0200] "POST /api/login HTTP/1.1" 401 61 "https://intranet.saypro.local/login" "Mozilla/5.0"`,
			want: Access{VHost: "intranet.saypro.local:443", Client: "192.168.10.24", Method: "POST", Path: "/api/login", Proto: "HTTP/1.1", Status: 401, Bytes: 61,
				Referer: "https://intranet.saypro.local/login", UserAgent: "Mozilla/5.0", Time: utc("2026-11-22T02:38:13Z"), HasTime: true},
			ok: true,
		},
		{
			name: "vhost without port and nginx request_time",
			in:   `shop.example.co.za 198.51.100.36 - - [22/Nov/2026:02:38:18 +0000] "GET /robots.txt HTTP/1.1" 200 67 "-" "Googlebot/2.1" 0.004`,
			want: Access{VHost: "shop.example.co.za", Client: "198.51.100.36", Method: "GET", Path: "/robots.txt", Proto: "HTTP/1.1", Status: 200, Bytes: 67,
				UserAgent: "Googlebot/2.1", Time: utc("2026-11-22T02:38:18Z"), HasTime: true, Duration: 4 * time.Millisecond, HasDuration: true},
			ok: true,
		},
		{
			name: "bare seconds",
			in:   `198.51.100.33 - - [22/Nov/2026:02:38:14 +0000] "GET /checkout HTTP/1.1" 502 559 "-" "Safari" 30.004`,
			want: Access{Client: "198.51.100.33", Method: "GET", Path: "/checkout", Proto: "HTTP/1.1", Status: 502, Bytes: 559,
				UserAgent: "Safari", Time: utc("2026-11-22T02:38:14Z"), HasTime: true, Duration: 30004 * time.Millisecond, HasDuration: true},
			ok: true,
		},
		{
			name: "rt and upstream times",
			in:   `198.51.100.34 - - [22/Nov/2026:02:38:15 +0000] "GET /api/v1/cart HTTP/1.1" 200 842 "-" "okhttp/4.12.0" urt="0.086" rt=0.087 uct="0.001"`,
			want: Access{Client: "198.51.100.34", Method: "GET", Path: "/api/v1/cart", Proto: "HTTP/1.1", Status: 200, Bytes: 842,
				UserAgent: "okhttp/4.12.0", Time: utc("2026-11-22T02:38:15Z"), HasTime: true, Duration: 87 * time.Millisecond, HasDuration: true},
			ok: true,
		},
		{
			name: "rhel main with forwarded-for and request_time",
			in:   `198.51.100.35 - - [22/Nov/2026:02:38:17 +0000] "HEAD / HTTP/1.1" 499 0 "-" "curl/8.5.0" "203.0.113.5, 10.0.0.2" request_time=0.250`,
			want: Access{Client: "198.51.100.35", Method: "HEAD", Path: "/", Proto: "HTTP/1.1", Status: 499,
				UserAgent: "curl/8.5.0", Time: utc("2026-11-22T02:38:17Z"), HasTime: true, Duration: 250 * time.Millisecond, HasDuration: true},
			ok: true,
		},
		{
			name: "apache %D and escaped quotes",
			in:   `192.168.10.25 - - [22/Nov/2026:04:38:15 +0200] "GET /s?q=\"x\" HTTP/1.1" 200 9012 "-" "Mozilla/5.0 \"quoted\" agent" D=48211`,
			want: Access{Client: "192.168.10.25", Method: "GET", Path: `/s?q=\"x\"`, Proto: "HTTP/1.1", Status: 200, Bytes: 9012,
				UserAgent: `Mozilla/5.0 \"quoted\" agent`, Time: utc("2026-11-22T02:38:15Z"), HasTime: true, Duration: 48211 * time.Microsecond, HasDuration: true},
			ok: true,
		},
		{
			name: "us",
			in:   `::1 - - [22/Nov/2026:04:38:16 +0200] "OPTIONS * HTTP/1.0" 200 - "-" "Apache/2.4.62 (Debian) (internal dummy connection)" us=312`,
			want: Access{Client: "::1", Method: "OPTIONS", Path: "*", Proto: "HTTP/1.0", Status: 200,
				UserAgent: "Apache/2.4.62 (Debian) (internal dummy connection)", Time: utc("2026-11-22T02:38:16Z"), HasTime: true, Duration: 312 * time.Microsecond, HasDuration: true},
			ok: true,
		},
		{
			name: "integer is not a response time",
			in:   `10.0.0.1 - - [22/Nov/2026:02:38:16 +0000] "GET / HTTP/1.1" 200 1 "-" "-" 12`,
			want: Access{Client: "10.0.0.1", Method: "GET", Path: "/", Proto: "HTTP/1.1", Status: 200, Bytes: 1, Time: utc("2026-11-22T02:38:16Z"), HasTime: true},
			ok:   true,
		},
		{
			name: "tls garbage request",
			in:   `192.0.2.14 - - [22/Nov/2026:02:38:13 +0000] "\x16\x03\x01\x02\x00\x01" 400 157 "-" "-"`,
			want: Access{Client: "192.0.2.14", Status: 400, Bytes: 157, Time: utc("2026-11-22T02:38:13Z"), HasTime: true},
			ok:   true,
		},
		{
			name: "dash request",
			in:   `192.0.2.15 - - [22/Nov/2026:02:38:13 +0000] "-" 400 0 "-" "-"`,
			want: Access{Client: "192.0.2.15", Status: 400, Time: utc("2026-11-22T02:38:13Z"), HasTime: true},
			ok:   true,
		},
		{
			name: "http/0.9 and bad time",
			in:   `192.0.2.16 - - [yesterday] "GET /" 200 10`,
			want: Access{Client: "192.0.2.16", Method: "GET", Path: "/", Status: 200, Bytes: 10},
			ok:   true,
		},
		{name: "status too short", in: `1.2.3.4 - - [22/Nov/2026:02:38:13 +0000] "GET / HTTP/1.1" 20 1`},
		{name: "status 099", in: `1.2.3.4 - - [22/Nov/2026:02:38:13 +0000] "GET / HTTP/1.1" 099 1`},
		{name: "bytes not a number", in: `1.2.3.4 - - [22/Nov/2026:02:38:13 +0000] "GET / HTTP/1.1" 200 x`},
		{name: "unterminated request", in: `1.2.3.4 - - [22/Nov/2026:02:38:13 +0000] "GET / HTTP/1.1 200 1`},
		{name: "too many words", in: `a b c d e [22/Nov/2026:02:38:13 +0000] "GET / HTTP/1.1" 200 1`},
		{name: "too few words", in: `a b [22/Nov/2026:02:38:13 +0000] "GET / HTTP/1.1" 200 1`},
		{name: "syslog line", in: `Nov 22 02:38:10 web1 sshd[42]: Accepted publickey for deploy`},
		{name: "nginx error log", in: `2026/11/22 02:38:10 [error] 1234#1234: *5 connect() failed (111: Connection refused) while connecting to upstream`},
		{name: "empty", in: ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseAccess(tc.in)
			require.Equal(t, tc.ok, ok)
			if !ok {
				return
			}
			require.True(t, tc.want.Time.Equal(got.Time))
			tc.want.Time, got.Time = time.Time{}, time.Time{}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseAccessFixtures(t *testing.T) {
	for _, name := range []string{"nginx-access.log", "apache-access.log"} {
		t.Run(name, func(t *testing.T) {
			withDuration := 0
			for _, line := range fixtureLines(t, name) {
				a, ok := ParseAccess(line)
				require.True(t, ok, line)
				require.True(t, a.HasTime, line)
				require.NotEmpty(t, a.Client, line)
				require.True(t, a.Status >= 100 && a.Status <= 999, line)
				if a.HasDuration {
					withDuration++
				}
			}
			require.Positive(t, withDuration)
		})
	}
}
