package parse

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testNow is the reference time for year inference in the fixtures.
var testNow = time.Date(2026, time.November, 22, 2, 45, 0, 0, time.UTC)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// fixtureLines returns the non-empty lines of testdata/name.
func fixtureLines(tb testing.TB, name string) []string {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	require.NoError(tb, err)
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if sc.Text() != "" {
			lines = append(lines, sc.Text())
		}
	}
	require.NoError(tb, sc.Err())
	require.NotEmpty(tb, lines)
	return lines
}

func TestSeverityName(t *testing.T) {
	want := []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}
	for i, w := range want {
		require.Equal(t, w, SeverityName(i))
	}
	require.Empty(t, SeverityName(-1))
	require.Empty(t, SeverityName(8))
}

func TestParseSyslog(t *testing.T) {
	sast := time.FixedZone("SAST", 2*3600)
	for _, tc := range []struct {
		name string
		in   string
		loc  *time.Location
		now  time.Time
		want Syslog
		err  error
	}{
		{
			name: "rfc3164 linux forward",
			in:   "<38>Nov 22 02:38:10 web1 sshd[48977]: Accepted publickey for deploy from 198.51.100.20 port 50122 ssh2\n",
			want: Syslog{Time: utc("2026-11-22T02:38:10Z"), HasTime: true, Facility: 4, Severity: 6, Host: "web1", App: "sshd", ProcID: "48977",
				Message: "Accepted publickey for deploy from 198.51.100.20 port 50122 ssh2"},
		},
		{
			name: "rfc3164 in a location",
			in:   "<38>Nov 22 04:38:10 web1 sshd[1]: x",
			loc:  sast,
			want: Syslog{Time: utc("2026-11-22T02:38:10Z"), HasTime: true, Facility: 4, Severity: 6, Host: "web1", App: "sshd", ProcID: "1", Message: "x"},
		},
		{
			name: "rsyslog forward format with rfc3339",
			in:   "<30>2026-11-22T02:38:10.123456+00:00 web1 systemd[1]: Started session-812.scope - Session 812 of User deploy.\r\n",
			want: Syslog{Time: utc("2026-11-22T02:38:10.123456Z"), HasTime: true, Facility: 3, Severity: 6, Host: "web1", App: "systemd", ProcID: "1",
				Message: "Started session-812.scope - Session 812 of User deploy."},
		},
		{
			name: "rfc5424 no sd",
			in:   "<86>1 2026-11-22T02:38:10.123456+00:00 web1 sshd 48977 - - Accepted publickey",
			want: Syslog{Time: utc("2026-11-22T02:38:10.123456Z"), HasTime: true, Facility: 10, Severity: 6, Host: "web1", App: "sshd", ProcID: "48977", Message: "Accepted publickey"},
		},
		{
			name: "rfc5424 sd",
			in:   `<165>1 2026-11-22T02:38:10.003Z db1.example.net saypro-agent 1200 QUEUE [queue@53595 bytes="1048576" files="12"][origin ip="10.20.0.31" software="saypro-agent"] disk queue above warning size`,
			want: Syslog{Time: utc("2026-11-22T02:38:10.003Z"), HasTime: true, Facility: 20, Severity: 5, Host: "db1.example.net", App: "saypro-agent", ProcID: "1200", MsgID: "QUEUE",
				Structured: map[string]string{"queue@53595.bytes": "1048576", "queue@53595.files": "12", "origin.ip": "10.20.0.31", "origin.software": "saypro-agent"},
				Message:    "disk queue above warning size"},
		},
		{
			name: "rfc5424 escapes and offset",
			in:   `<14>1 2026-11-22T04:38:21+02:00 app3 payments 2211 TXN [meta@53595 user="o\"brien" path="C:\\tmp" note="a\]b" raw="\n"][origin ip="10.0.0.9"][flag@1] payment declined`,
			want: Syslog{Time: utc("2026-11-22T02:38:21Z"), HasTime: true, Facility: 1, Severity: 6, Host: "app3", App: "payments", ProcID: "2211", MsgID: "TXN",
				Structured: map[string]string{"meta@53595.user": `o"brien`, "meta@53595.path": `C:\tmp`, "meta@53595.note": "a]b", "meta@53595.raw": `\n`, "origin.ip": "10.0.0.9", "flag@1": ""},
				Message:    "payment declined"},
		},
		{
			name: "rfc5424 all nil",
			in:   "<13>1 - - - - - -",
			want: Syslog{Facility: 1, Severity: 5},
		},
		{
			name: "rfc5424 bom",
			in:   "<13>1 2026-11-22T02:38:10Z h a - - - \xef\xbb\xbfhello",
			want: Syslog{Time: utc("2026-11-22T02:38:10Z"), HasTime: true, Facility: 1, Severity: 5, Host: "h", App: "a", Message: "hello"},
		},
		{
			name: "rfc5424 without sd is lenient",
			in:   "<13>1 2026-11-22T02:38:10Z h a - - hello world",
			want: Syslog{Time: utc("2026-11-22T02:38:10Z"), HasTime: true, Facility: 1, Severity: 5, Host: "h", App: "a", Message: "hello world"},
		},
		{
			name: "rfc5424 bad time",
			in:   "<13>1 2026-11-22 h a - - - x",
			want: Syslog{Facility: 1, Severity: 5, Message: "1 2026-11-22 h a - - - x"},
			err:  ErrHeader,
		},
		{
			name: "rfc5424 time without zone",
			in:   "<13>1 2026-11-22T02:38:10 h a - - - x",
			want: Syslog{Facility: 1, Severity: 5, Message: "1 2026-11-22T02:38:10 h a - - - x"},
			err:  ErrHeader,
		},
		{
			name: "rfc5424 short header",
			in:   "<13>1 - h a",
			want: Syslog{Facility: 1, Severity: 5, Message: "1 - h a"},
			err:  ErrHeader,
		},
		{
			name: "rfc5424 bad sd",
			in:   `<13>1 - h a - - [x a="b] msg`,
			want: Syslog{Facility: 1, Severity: 5, Message: `1 - h a - - [x a="b] msg`},
			err:  ErrStructuredData,
		},
		{
			name: "rfc5424 sd glued to msg",
			in:   `<13>1 - h a - - [x a="b"]msg`,
			want: Syslog{Facility: 1, Severity: 5, Message: `1 - h a - - [x a="b"]msg`},
			err:  ErrStructuredData,
		},
		{
			name: "pfsense bsd without host",
			in:   "<134>Nov 22 02:38:10 filterlog[51234]: 5,,,1000000103,igb0,match,block,in,4",
			want: Syslog{Time: utc("2026-11-22T02:38:10Z"), HasTime: true, Facility: 16, Severity: 6, App: "filterlog", ProcID: "51234", Message: "5,,,1000000103,igb0,match,block,in,4"},
		},
		{
			name: "no host tag without pid",
			in:   "<38>Nov  2 02:38:11 sudo: alice : TTY=pts/0",
			want: Syslog{Time: utc("2026-11-02T02:38:11Z"), HasTime: true, Facility: 4, Severity: 6, App: "sudo", Message: "alice : TTY=pts/0"},
		},
		{
			name: "host without tag",
			in:   "<13>Nov 22 02:38:11 10.0.0.1 link up",
			want: Syslog{Time: utc("2026-11-22T02:38:11Z"), HasTime: true, Facility: 1, Severity: 5, Host: "10.0.0.1", Message: "link up"},
		},
		{
			name: "ipv6 host",
			in:   "<13>Nov 22 02:38:11 2001:db8::1 ntpd[9]: sync",
			want: Syslog{Time: utc("2026-11-22T02:38:11Z"), HasTime: true, Facility: 1, Severity: 5, Host: "2001:db8::1", App: "ntpd", ProcID: "9", Message: "sync"},
		},
		{
			name: "cisco ios sequence and unsynced clock",
			in:   "<189>1841: *Nov 22 02:38:10.123: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.0.0.5)",
			want: Syslog{Time: utc("2026-11-22T02:38:10.123Z"), HasTime: true, Facility: 23, Severity: 5, MsgID: "SYS-5-CONFIG_I",
				Message: "%SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.0.0.5)"},
		},
		{
			name: "cisco ios local zone",
			in:   "<187>1842: Nov 22 04:38:12.456 SAST: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down",
			loc:  sast,
			want: Syslog{Time: utc("2026-11-22T02:38:12.456Z"), HasTime: true, Facility: 23, Severity: 3, MsgID: "LINK-3-UPDOWN",
				Message: "%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down"},
		},
		{
			name: "cisco ios year and utc",
			in:   "<189>1843: Nov 22 2026 02:38:13.789 UTC: %LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet0/1, changed state to down",
			loc:  sast,
			want: Syslog{Time: utc("2026-11-22T02:38:13.789Z"), HasTime: true, Facility: 23, Severity: 5, MsgID: "LINEPROTO-5-UPDOWN",
				Message: "%LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet0/1, changed state to down"},
		},
		{
			name: "nx-os",
			in:   "<189>: 2026 Nov 22 02:38:14 UTC: %ETHPORT-5-IF_DOWN_LINK_FAILURE: Interface Ethernet1/12 is down (Link failure)",
			want: Syslog{Time: utc("2026-11-22T02:38:14Z"), HasTime: true, Facility: 23, Severity: 5, MsgID: "ETHPORT-5-IF_DOWN_LINK_FAILURE",
				Message: "%ETHPORT-5-IF_DOWN_LINK_FAILURE: Interface Ethernet1/12 is down (Link failure)"},
		},
		{
			name: "asa without header",
			in:   "<166>%ASA-6-302013: Built outbound TCP connection 4412301",
			want: Syslog{Facility: 20, Severity: 6, MsgID: "ASA-6-302013", Message: "%ASA-6-302013: Built outbound TCP connection 4412301"},
		},
		{
			name: "asa with device id",
			in:   "<166>Nov 22 2026 02:38:15 asa01 : %ASA-6-302014: Teardown TCP connection 4412301",
			want: Syslog{Time: utc("2026-11-22T02:38:15Z"), HasTime: true, Facility: 20, Severity: 6, Host: "asa01", MsgID: "ASA-6-302014",
				Message: "%ASA-6-302014: Teardown TCP connection 4412301"},
		},
		{
			name: "asa timestamp colon",
			in:   "<164>Nov 22 2026 02:38:16: %ASA-4-106023: Deny tcp",
			want: Syslog{Time: utc("2026-11-22T02:38:16Z"), HasTime: true, Facility: 20, Severity: 4, MsgID: "ASA-4-106023", Message: "%ASA-4-106023: Deny tcp"},
		},
		{
			name: "fortigate",
			in:   `<189>date=2026-11-22 time=04:38:17 devname="FGT60F-HQ" devid="FGT60FTK21000001" eventtime=1795315097123456789 tz="+0200" logid="0000000013" type="traffic"`,
			want: Syslog{Time: utc("2026-11-22T02:38:17Z"), HasTime: true, Facility: 23, Severity: 5, Host: "FGT60F-HQ",
				Message: `date=2026-11-22 time=04:38:17 devname="FGT60F-HQ" devid="FGT60FTK21000001" eventtime=1795315097123456789 tz="+0200" logid="0000000013" type="traffic"`},
		},
		{
			name: "fortigate without tz",
			in:   `<189>date=2026-11-22 time=04:38:17 devname=fw2 type="traffic"`,
			loc:  sast,
			want: Syslog{Time: utc("2026-11-22T02:38:17Z"), HasTime: true, Facility: 23, Severity: 5, Host: "fw2", Message: `date=2026-11-22 time=04:38:17 devname=fw2 type="traffic"`},
		},
		{
			name: "tag only",
			in:   "<13>backup.sh: nightly backup finished",
			want: Syslog{Facility: 1, Severity: 5, App: "backup.sh", Message: "nightly backup finished"},
		},
		{
			name: "no pri",
			in:   "Nov 22 02:38:10 web1 cron[1]: job",
			want: Syslog{Time: utc("2026-11-22T02:38:10Z"), HasTime: true, Facility: -1, Severity: -1, Host: "web1", App: "cron", ProcID: "1", Message: "job"},
		},
		{
			name: "plain text",
			in:   "<13>hello world",
			want: Syslog{Facility: 1, Severity: 5, Message: "hello world"},
		},
		{
			name: "year inference back",
			in:   "<191>Dec 31 23:59:59 old-host app: x",
			now:  time.Date(2027, 1, 1, 0, 0, 30, 0, time.UTC),
			want: Syslog{Time: utc("2026-12-31T23:59:59Z"), HasTime: true, Facility: 23, Severity: 7, Host: "old-host", App: "app", Message: "x"},
		},
		{
			name: "year inference forward",
			in:   "<191>Jan  1 00:00:10 h app: x",
			now:  time.Date(2026, 12, 31, 23, 59, 50, 0, time.UTC),
			want: Syslog{Time: utc("2027-01-01T00:00:10Z"), HasTime: true, Facility: 23, Severity: 7, Host: "h", App: "app", Message: "x"},
		},
		{
			name: "year inference leap day",
			in:   "<191>Feb 29 12:00:00 h app: x",
			now:  time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC),
			want: Syslog{Time: utc("2028-02-29T12:00:00Z"), HasTime: true, Facility: 23, Severity: 7, Host: "h", App: "app", Message: "x"},
		},
		{name: "empty", in: "\n", want: Syslog{Facility: -1, Severity: -1}, err: ErrEmpty},
		{name: "pri too big", in: "<192>x", want: Syslog{Facility: -1, Severity: -1, Message: "<192>x"}, err: ErrPriority},
		{name: "pri unterminated", in: "<13", want: Syslog{Facility: -1, Severity: -1, Message: "<13"}, err: ErrPriority},
		{name: "pri empty", in: "<>x", want: Syslog{Facility: -1, Severity: -1, Message: "<>x"}, err: ErrPriority},
		{name: "pri only", in: "<0>", want: Syslog{Facility: 0, Severity: 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := tc.now
			if now.IsZero() {
				now = testNow
			}
			got, err := ParseSyslog([]byte(tc.in), now, tc.loc)
			require.ErrorIs(t, err, tc.err)
			requireSyslogEqual(t, tc.want, got)
		})
	}
}

func requireSyslogEqual(t *testing.T, want, got Syslog) {
	t.Helper()
	require.True(t, want.Time.Equal(got.Time), "time: want %v, got %v", want.Time, got.Time)
	want.Time, got.Time = time.Time{}, time.Time{}
	require.Equal(t, want, got)
}

func TestParseSyslogLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want Syslog
		ok   bool
	}{
		{
			name: "debian 12 rfc3339",
			in:   "2026-11-22T02:38:10.123456+00:00 web1 sshd[42]: Accepted publickey for deploy",
			want: Syslog{Time: utc("2026-11-22T02:38:10.123456Z"), HasTime: true, Host: "web1", App: "sshd", ProcID: "42", Message: "Accepted publickey for deploy"},
			ok:   true,
		},
		{
			name: "rfc3339 offset",
			in:   "2026-11-22T04:38:10.5+02:00 web1 kernel: [ 1.0] x",
			want: Syslog{Time: utc("2026-11-22T02:38:10.5Z"), HasTime: true, Host: "web1", App: "kernel", Message: "[ 1.0] x"},
			ok:   true,
		},
		{
			name: "traditional",
			in:   "Nov 22 02:38:10 app2 systemd[1]: Started session-1",
			want: Syslog{Time: utc("2026-11-22T02:38:10Z"), HasTime: true, Host: "app2", App: "systemd", ProcID: "1", Message: "Started session-1"},
			ok:   true,
		},
		{
			name: "traditional padded day",
			in:   "Nov  2 09:15:00 app2 sudo:    jdoe : TTY=pts/2",
			want: Syslog{Time: utc("2026-11-02T09:15:00Z"), HasTime: true, Host: "app2", App: "sudo", Message: "   jdoe : TTY=pts/2"},
			ok:   true,
		},
		{
			name: "message without tag",
			in:   "Nov 22 02:38:10 app2 -- MARK --",
			want: Syslog{Time: utc("2026-11-22T02:38:10Z"), HasTime: true, Host: "app2", Message: "-- MARK --"},
			ok:   true,
		},
		{
			name: "tag with empty message",
			in:   "Nov 22 02:38:10 app2 systemd[1]:",
			want: Syslog{Time: utc("2026-11-22T02:38:10Z"), HasTime: true, Host: "app2", App: "systemd", ProcID: "1"},
			ok:   true,
		},
		{
			name: "tag with parentheses",
			in:   "Nov 22 02:38:10 app2 (sd-pam): pam_unix(systemd-user:session): session closed for user alice",
			want: Syslog{Time: utc("2026-11-22T02:38:10Z"), HasTime: true, Host: "app2", App: "(sd-pam)", Message: "pam_unix(systemd-user:session): session closed for user alice"},
			ok:   true,
		},
		{name: "timestamp only", in: "Nov 22 02:38:10", want: Syslog{Facility: -1, Severity: -1}},
		{name: "timestamp and spaces", in: "Nov 22 02:38:10   ", want: Syslog{Facility: -1, Severity: -1}},
		{name: "no timestamp", in: "web1 sshd[1]: x", want: Syslog{Facility: -1, Severity: -1}},
		{name: "bad day", in: "Nov 32 02:38:10 h a: x", want: Syslog{Facility: -1, Severity: -1}},
		{name: "bad hour", in: "Nov 22 24:38:10 h a: x", want: Syslog{Facility: -1, Severity: -1}},
		{name: "bad month", in: "Foo 22 02:38:10 h a: x", want: Syslog{Facility: -1, Severity: -1}},
		{name: "bad rfc3339 date", in: "2026-02-30T02:38:10Z h a: x", want: Syslog{Facility: -1, Severity: -1}},
		{name: "glued", in: "Nov 22 02:38:10host a: x", want: Syslog{Facility: -1, Severity: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseSyslogLine(tc.in, testNow, nil)
			require.Equal(t, tc.ok, ok)
			if ok {
				tc.want.Facility, tc.want.Severity = -1, -1
			}
			requireSyslogEqual(t, tc.want, got)
		})
	}
}

func TestParseSyslogLineFixtures(t *testing.T) {
	for _, name := range []string{"debian12-syslog.log", "debian12-auth.log", "debian12-kern.log", "rhel9-messages", "rhel9-secure"} {
		t.Run(name, func(t *testing.T) {
			for _, line := range fixtureLines(t, name) {
				s, ok := ParseSyslogLine(line, testNow, nil)
				require.True(t, ok, line)
				require.True(t, s.HasTime, line)
				require.NotEmpty(t, s.Host, line)
				require.NotEmpty(t, s.App, line)
				require.NotEmpty(t, s.Message, line)
				require.False(t, s.Time.After(testNow), line)
				require.True(t, s.Time.After(testNow.Add(-30*24*time.Hour)), line)
			}
		})
	}
}

func TestParseSyslogFixtures(t *testing.T) {
	for _, line := range fixtureLines(t, "network-syslog.txt") {
		s, err := ParseSyslog([]byte(line), testNow, nil)
		require.NoError(t, err, line)
		require.GreaterOrEqual(t, s.Severity, 0, line)
		require.NotEmpty(t, SeverityName(s.Severity))
		if s.HasTime {
			d := s.Time.Sub(testNow)
			require.True(t, d < 40*24*time.Hour && d > -40*24*time.Hour, "%s: %v", line, s.Time)
		}
	}
}

func TestFacilityName(t *testing.T) {
	for f, want := range map[int]string{-1: "", 0: "kern", 4: "auth", 10: "authpriv", 16: "local0", 23: "local7", 24: ""} {
		if got := FacilityName(f); got != want {
			t.Errorf("FacilityName(%d) = %q, want %q", f, got, want)
		}
	}
}
