package logs_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/logs"
)

func TestRedactor(t *testing.T) {
	all := logs.RedactOptions{Emails: true, IPAddresses: true, URLSecrets: true, Key: []byte("key one")}
	pseudo := regexp.MustCompile(`ip-[0-9a-f]{8}`)
	tests := []struct {
		name string
		o    logs.RedactOptions
		in   string
		// want is the output with every pseudonym written as "ip-X".
		want string
	}{
		{"email", all, "password reset for jane.doe+shop@example.co.za sent", "password reset for <email> sent"},
		{"two emails", all, "from a@b.io to c.d@mail.example.org", "from <email> to <email>"},
		{"not an email", all, "user@localhost logged in", "user@localhost logged in"},
		{"ipv4", all, "Failed password for root from 203.0.113.9 port 50122 ssh2", "Failed password for root from ip-X port 50122 ssh2"},
		{"ipv4 edges", all, "10.0.0.1,255.255.255.255", "ip-X,ip-X"},
		{"not ipv4", all, "version 1.2.3 and 256.1.1.1", "version 1.2.3 and 256.1.1.1"},
		{"ipv6 full", all, "from 2001:db8:0:0:0:0:0:1 port 22", "from ip-X port 22"},
		{"ipv6 compressed", all, "from 2001:db8::1 port 22", "from ip-X port 22"},
		{"ipv6 compressed middle", all, "client 2001:db8:4::17 GET /", "client ip-X GET /"},
		{"ipv6 loopback", all, "connect to ::1 refused", "connect to ip-X refused"},
		{"ipv6 link local with zone", all, "neighbour fe80::1ff:fe23:4567:890a%eth0 up", "neighbour ip-X%eth0 up"},
		{"ipv6 bracketed", all, "upstream [2001:db8::2]:8080 down", "upstream [ip-X]:8080 down"},
		{"times untouched", all, "Nov 22 02:38:10 web1 cron at 23:59:59.123", "Nov 22 02:38:10 web1 cron at 23:59:59.123"},
		{"mac untouched", all, "link aa:bb:cc:dd:ee:ff up", "link aa:bb:cc:dd:ee:ff up"},
		{"scope operator untouched", all, "panic in std::vector at Foo::bar", "panic in std::vector at Foo::bar"},
		{"url userinfo", all, "fetching https://deploy:s3cr3t@git.example.com/repo.git", "fetching https://<redacted>@git.example.com/repo.git"},
		{"query secrets", all, `GET /cb?code=1&access_token=abc.def&state=x;password=hunter2 HTTP/1.1`, `GET /cb?code=1&access_token=<redacted>&state=x;password=<redacted> HTTP/1.1`},
		{"query secret case", all, "/api?API_KEY=XYZ123&page=2", "/api?API_KEY=<redacted>&page=2"},
		{"query no secret", all, "/search?q=token&page=2", "/search?q=token&page=2"},
		{"off", logs.RedactOptions{}, "a@b.io 10.0.0.1 https://u:p@h/?token=x", "a@b.io 10.0.0.1 https://u:p@h/?token=x"},
		{"emails only", logs.RedactOptions{Emails: true}, "a@b.io from 10.0.0.1", "<email> from 10.0.0.1"},
		{"custom pattern", logs.RedactOptions{Patterns: []logs.RedactPattern{
			{Regex: `card=(\d{4})\d{8}(\d{4})`, Replace: "card=$1********$2"},
			{Regex: `(?i)bearer [a-z0-9._-]+`, Replace: "Bearer <token>"},
		}}, "paid card=4111111111111111 with bearer eyJhbGciOi.x-y", "paid card=4111********1111 with Bearer <token>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := logs.NewRedactor(tc.o)
			require.NoError(t, err)
			got := r.Redact(tc.in)
			require.Equal(t, tc.want, pseudo.ReplaceAllString(got, "ip-X"), "Redact(%q) = %q", tc.in, got)
		})
	}
}

func TestRedactorPseudonyms(t *testing.T) {
	r1, err := logs.NewRedactor(logs.RedactOptions{IPAddresses: true, Key: []byte("key one")})
	require.NoError(t, err)
	r1again, err := logs.NewRedactor(logs.RedactOptions{IPAddresses: true, Key: []byte("key one")})
	require.NoError(t, err)
	r2, err := logs.NewRedactor(logs.RedactOptions{IPAddresses: true, Key: []byte("key two")})
	require.NoError(t, err)

	for _, addr := range []string{"203.0.113.9", "2001:db8::1"} {
		a := r1.Redact("from " + addr)
		require.NotContains(t, a, addr)
		require.Equal(t, a, r1.Redact("from "+addr), "a pseudonym changes between calls")
		require.Equal(t, a, r1again.Redact("from "+addr), "a pseudonym changes with a new redactor of the same key")
		require.NotEqual(t, a, r2.Redact("from "+addr), "two keys give the same pseudonym")
	}
	require.NotEqual(t, r1.Redact("203.0.113.9"), r1.Redact("203.0.113.10"), "two addresses share a pseudonym")
	// The same address keeps one pseudonym wherever it appears.
	got := r1.Redact("203.0.113.9 then 203.0.113.9")
	first, second, _ := strings.Cut(got, " then ")
	require.Equal(t, first, second)
}

func TestRedactorActive(t *testing.T) {
	var nilRedactor *logs.Redactor
	require.False(t, nilRedactor.Active())
	require.Equal(t, "a@b.io", nilRedactor.Redact("a@b.io"))
	off, err := logs.NewRedactor(logs.RedactOptions{})
	require.NoError(t, err)
	require.False(t, off.Active())
	for _, o := range []logs.RedactOptions{{Emails: true}, {IPAddresses: true}, {URLSecrets: true}, {Patterns: []logs.RedactPattern{{Regex: "x"}}}} {
		r, err := logs.NewRedactor(o)
		require.NoError(t, err)
		require.True(t, r.Active(), "%+v", o)
	}
}

func TestRedactorBadPattern(t *testing.T) {
	_, err := logs.NewRedactor(logs.RedactOptions{Patterns: []logs.RedactPattern{{Regex: "ok"}, {Regex: "card=(\\d+"}}})
	require.Error(t, err)
	require.Contains(t, err.Error(), "pattern 2")
	require.Contains(t, err.Error(), `card=(\\d+`)
}
