package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"
)

// kind is where a line comes from: one of the agent's default sources, or
// an application's log file.
type kind uint8

const (
	kindSyslog kind = iota
	kindAuth
	kindKern
	kindNginx
	kindApp
	numKinds
)

// kindInfo is what the agent declares for each kind (agentapi.LogEntry).
var kindInfo = [numKinds]struct{ source, file, format string }{
	kindSyslog: {"syslog", "/var/log/syslog", "syslog"},
	kindAuth:   {"auth", "/var/log/auth.log", "syslog"},
	kindKern:   {"kern", "/var/log/kern.log", "syslog"},
	kindNginx:  {"nginx-access", "/var/log/nginx/access.log", "nginx"},
	kindApp:    {"app", "/var/log/shop/app.log", "raw"},
}

// kindWeight is each kind's share of the lines, in per mille.
var kindWeight = [numKinds]int{
	kindSyslog: 140,
	kindAuth:   110,
	kindKern:   50,
	kindNginx:  450,
	kindApp:    250,
}

// The search targets. Term is a word that appears only as itself (never
// in another case or inside another word), so grep -c and the store count
// the same lines; Regex matches a subset of the term's lines; Needle is in
// exactly one line.
const (
	Term      = "timeout"
	Regex     = "timeout after [0-9]+ms"
	Needle    = "q7needle9x4k2"
	TermHost  = "api-07"
	metaBytes = 6 // per line in the sidecar: host, kind, milliseconds since the start (uint32)
)

// genConfig says what to generate.
type genConfig struct {
	Lines int
	Seed  uint64
	// End is the end of the 24 h window the lines are spread over.
	End time.Time
	// Loc is the zone of timestamps without an offset (traditional syslog).
	Loc *time.Location
}

// genResult is what the generator knows about its lines.
type genResult struct {
	Start, End    time.Time
	Lines         int
	Bytes         int64
	Hosts         []string
	ByKind        [numKinds]int
	TermCount     int
	TermHostCount int
	RegexCount    int
	NeedleCount   int
	NeedleLine    int
	OOMCount      int
	IOErrorCount  int
	SSHFailed     int
}

// host roles: which kinds a host writes besides syslog, auth and kern.
type hostInfo struct {
	name  string
	nginx bool
	app   bool
	// rfc3339 hosts write Debian 12's default high-precision timestamps;
	// the others the traditional "Nov 22 02:38:10" (older releases).
	rfc3339 bool
	// dmesgTime hosts prefix kernel messages with "[seconds.micros] ".
	dmesgTime bool
	appStyle  int
	boot      time.Time
	pid       int
}

func makeHosts(r *rand.Rand, end time.Time) []hostInfo {
	var hs []hostInfo
	add := func(prefix string, n int, nginx, app bool) {
		for i := 1; i <= n; i++ {
			hs = append(hs, hostInfo{name: fmt.Sprintf("%s-%02d", prefix, i), nginx: nginx, app: app})
		}
	}
	add("web", 30, true, true)
	add("api", 25, true, true)
	add("worker", 15, false, true)
	add("db", 12, false, false)
	add("cache", 8, false, false)
	add("ci", 5, false, true)
	add("bastion", 3, false, false)
	add("mon", 2, false, false)
	for i := range hs {
		h := &hs[i]
		h.rfc3339 = r.IntN(10) < 7
		h.dmesgTime = r.IntN(2) == 0
		h.appStyle = r.IntN(3)
		h.boot = end.Add(-time.Duration(2+r.IntN(90*24)) * time.Hour)
		h.pid = 1000 + r.IntN(30000)
	}
	return hs
}

// generator writes the lines; all randomness comes from r.
type generator struct {
	r       *rand.Rand
	hosts   []hostInfo
	byKind  [numKinds][]int // host indexes per kind
	loc     *time.Location
	attack  []string // attackers' addresses, a few of them busy
	clients []string
	res     genResult
	buf     []byte
}

func generate(cfg genConfig, raw, meta io.Writer, logger *slog.Logger) (genResult, error) {
	r := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	g := &generator{r: r, loc: cfg.Loc}
	end := cfg.End.Truncate(time.Millisecond)
	start := end.Add(-24 * time.Hour)
	g.hosts = makeHosts(r, end)
	for i, h := range g.hosts {
		g.res.Hosts = append(g.res.Hosts, h.name)
		for k := range numKinds {
			if k == kindNginx && !h.nginx || k == kindApp && !h.app {
				continue
			}
			g.byKind[k] = append(g.byKind[k], i)
		}
	}
	for range 5000 {
		g.attack = append(g.attack, publicIP(r))
	}
	for range 20000 {
		g.clients = append(g.clients, publicIP(r))
	}
	g.res.Start, g.res.End, g.res.Lines = start, end, cfg.Lines
	needleAt := cfg.Lines * 3 / 5
	g.res.NeedleLine = needleAt + 1

	bw := bufio.NewWriterSize(raw, 1<<20)
	mw := bufio.NewWriterSize(meta, 1<<16)
	var rec [metaBytes]byte
	step := float64(24*time.Hour) / float64(cfg.Lines)
	for i := range cfg.Lines {
		t := start.Add(time.Duration(float64(i) * step))
		k := g.pickKind()
		hi := g.byKind[k][g.zipfIndex(len(g.byKind[k]))]
		if i == needleAt {
			k = kindApp
			hi = g.byKind[kindApp][0]
		}
		h := &g.hosts[hi]
		g.buf = g.buf[:0]
		switch k {
		case kindSyslog:
			g.syslogLine(h, t)
		case kindAuth:
			g.authLine(h, t)
		case kindKern:
			g.kernLine(h, t)
		case kindNginx:
			g.nginxLine(t)
		case kindApp:
			g.appLine(h, t, i == needleAt)
		}
		g.buf = append(g.buf, '\n')
		if _, err := bw.Write(g.buf); err != nil {
			return g.res, err
		}
		rec[0], rec[1] = byte(hi), byte(k)
		binary.LittleEndian.PutUint32(rec[2:], uint32(t.Sub(start)/time.Millisecond))
		if _, err := mw.Write(rec[:]); err != nil {
			return g.res, err
		}
		g.res.Bytes += int64(len(g.buf))
		g.res.ByKind[k]++
		if n := countTerm(g.buf); n > 0 {
			g.res.TermCount++
			if h.name == TermHost {
				g.res.TermHostCount++
			}
		}
		if (i+1)%1_000_000 == 0 {
			logger.Info("generating", "lines", i+1, "of", cfg.Lines)
		}
	}
	if err := bw.Flush(); err != nil {
		return g.res, err
	}
	return g.res, mw.Flush()
}

func (g *generator) pickKind() kind {
	n := g.r.IntN(1000)
	for k := range numKinds {
		if n < kindWeight[k] {
			return k
		}
		n -= kindWeight[k]
	}
	return kindApp
}

// zipfIndex picks one of n, the first ones more often (busy hosts and
// addresses), about like real fleets.
func (g *generator) zipfIndex(n int) int {
	// Square of a uniform number: index i has density ~ 1/sqrt(i).
	u := g.r.Float64()
	return int(u * u * float64(n))
}

func publicIP(r *rand.Rand) string {
	for {
		a := 1 + r.IntN(223)
		if a == 10 || a == 127 || a == 172 || a == 192 || a == 100 {
			continue
		}
		return strconv.Itoa(a) + "." + strconv.Itoa(r.IntN(256)) + "." + strconv.Itoa(r.IntN(256)) + "." + strconv.Itoa(1+r.IntN(254))
	}
}

func (g *generator) pick(list []string) string { return list[g.r.IntN(len(list))] }

func (g *generator) hex(n int) {
	const digits = "0123456789abcdef"
	for range n {
		g.buf = append(g.buf, digits[g.r.IntN(16)])
	}
}

func (g *generator) num(lo, hi int) {
	g.buf = strconv.AppendInt(g.buf, int64(lo+g.r.IntN(hi-lo+1)), 10)
}

func (g *generator) s(parts ...string) {
	for _, p := range parts {
		g.buf = append(g.buf, p...)
	}
}

// header writes a syslog file line's timestamp, host and tag.
func (g *generator) header(h *hostInfo, t time.Time, app string, pid int) {
	t = t.In(g.loc)
	if h.rfc3339 {
		g.buf = t.AppendFormat(g.buf, "2006-01-02T15:04:05.000000-07:00")
	} else {
		g.buf = t.AppendFormat(g.buf, time.Stamp)
	}
	g.s(" ", h.name, " ", app)
	if pid > 0 {
		g.buf = append(g.buf, '[')
		g.buf = strconv.AppendInt(g.buf, int64(pid), 10)
		g.buf = append(g.buf, ']')
	}
	g.s(": ")
}

func (g *generator) nextPID(h *hostInfo) int {
	h.pid += 1 + g.r.IntN(40)
	if h.pid > 4194304 {
		h.pid = 1000
	}
	return h.pid
}

var (
	units = []struct{ name, desc string }{
		{"logrotate.service", "Rotate log files"},
		{"apt-daily.service", "Daily apt download activities"},
		{"apt-daily-upgrade.service", "Daily apt upgrade and clean activities"},
		{"man-db.service", "Daily man-db regeneration"},
		{"systemd-tmpfiles-clean.service", "Cleanup of Temporary Directories"},
		{"sysstat-collect.service", "system activity accounting tool"},
		{"certbot.service", "Certbot"},
		{"phpsessionclean.service", "Clean php session files"},
		{"e2scrub_all.service", "Online ext4 Metadata Check for All Filesystems"},
		{"fstrim.service", "Discard unused blocks on filesystems from /etc/fstab"},
		{"backup.service", "Nightly database backup"},
	}
	cronCmds = []string{
		"command -v debian-sa1 > /dev/null && debian-sa1 1 1",
		"   cd / && run-parts --report /etc/cron.hourly",
		"[ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi",
		"/usr/local/bin/backup.sh >> /var/log/backup.log 2>&1",
		"test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }",
		"/opt/shop/bin/rebuild-sitemap --quiet",
	}
	badUsers  = []string{"root", "root", "root", "admin", "test", "ubuntu", "oracle", "postgres", "user", "git", "ftpuser", "pi", "guest", "support", "debian", "centos", "hadoop", "mysql", "tomcat", "jenkins", "deployer", "steam", "minecraft", "nagios", "ansible"}
	goodUsers = []string{"deploy", "ansible", "alice", "bob", "backup", "carol", "ci-runner"}
	sshKeys   = []string{"ED25519", "RSA", "ECDSA"}
)

func (g *generator) syslogLine(h *hostInfo, t time.Time) {
	switch n := g.r.IntN(100); {
	case n < 30:
		g.header(h, t, "CRON", g.nextPID(h))
		g.s("(", g.pick([]string{"root", "root", "www-data", "postgres"}), ") CMD (", g.pick(cronCmds), ")")
	case n < 70:
		u := units[g.r.IntN(len(units))]
		g.header(h, t, "systemd", 1)
		switch g.r.IntN(4) {
		case 0:
			g.s("Starting ", u.name, " - ", u.desc, "...")
		case 1:
			g.s(u.name, ": Deactivated successfully.")
		case 2:
			g.s("Finished ", u.name, " - ", u.desc, ".")
		default:
			g.s(u.name, ": Consumed ")
			g.num(0, 59)
			g.s(".")
			g.num(100, 999)
			g.s("s CPU time.")
		}
	case n < 80:
		g.header(h, t, "systemd", 1)
		s := strconv.Itoa(1000 + g.r.IntN(90000))
		u := g.pick(goodUsers)
		g.s("Started session-", s, ".scope - Session ", s, " of User ", u, ".")
	case n < 85:
		g.header(h, t, "systemd-timesyncd", 400+g.r.IntN(100))
		g.s("Contacted time server 192.0.2.", strconv.Itoa(1+g.r.IntN(50)), ":123 (0.debian.pool.ntp.org).")
	case n < 90:
		g.header(h, t, "rsyslogd", 600+g.r.IntN(50))
		g.s(`[origin software="rsyslogd" swVersion="8.2302.0" x-pid="`, strconv.Itoa(600+g.r.IntN(50)), `" x-info="https://www.rsyslog.com"] rsyslogd was HUPed`)
	case n < 95:
		g.header(h, t, "dhclient", 700+g.r.IntN(100))
		g.s("DHCPACK of 10.0.", strconv.Itoa(g.r.IntN(16)), ".", strconv.Itoa(2+g.r.IntN(250)), " from 10.0.0.1 (xid=0x")
		g.hex(8)
		g.s(")")
	case n < 99:
		g.header(h, t, "containerd", 900+g.r.IntN(100))
		g.s(`time="`)
		g.buf = t.UTC().AppendFormat(g.buf, time.RFC3339Nano)
		g.s(`" level=info msg="cleaning up dead shim" namespace=moby`)
	default:
		g.header(h, t, "systemd", 1)
		u := g.pick([]string{"nginx.service", "php8.2-fpm.service", "shop-api.service", "redis-server.service"})
		if g.r.IntN(2) == 0 {
			g.s(u, ": Main process exited, code=exited, status=1/FAILURE")
		} else {
			g.s(u, ": Failed with result 'exit-code'.")
		}
	}
}

func (g *generator) attacker() string { return g.attack[g.zipfIndex(len(g.attack))] }

func (g *generator) authLine(h *hostInfo, t time.Time) {
	port := func() { g.num(1024, 65535) }
	pid := g.nextPID(h)
	switch n := g.r.IntN(100); {
	case n < 38:
		g.header(h, t, "sshd", pid)
		u := g.pick(badUsers)
		if u == "root" || g.r.IntN(3) > 0 {
			g.s("Failed password for ", u, " from ", g.attacker(), " port ")
		} else {
			g.s("Failed password for invalid user ", u, " from ", g.attacker(), " port ")
		}
		port()
		g.s(" ssh2")
		g.res.SSHFailed++
	case n < 52:
		g.header(h, t, "sshd", pid)
		g.s("Invalid user ", g.pick(badUsers), " from ", g.attacker(), " port ")
		port()
	case n < 66:
		g.header(h, t, "sshd", pid)
		g.s("Connection closed by authenticating user ", g.pick(badUsers), " ", g.attacker(), " port ")
		port()
		g.s(" [preauth]")
	case n < 76:
		g.header(h, t, "sshd", pid)
		g.s("Received disconnect from ", g.attacker(), " port ")
		port()
		g.s(":11: Bye Bye [preauth]")
	case n < 80:
		g.header(h, t, "sshd", pid)
		g.s("Accepted publickey for ", g.pick(goodUsers), " from 10.0.", strconv.Itoa(g.r.IntN(16)), ".", strconv.Itoa(2+g.r.IntN(250)), " port ")
		port()
		g.s(" ssh2: ", g.pick(sshKeys), " SHA256:")
		g.hex(43)
	case n < 87:
		g.header(h, t, "sshd", pid)
		u := g.pick(goodUsers)
		if g.r.IntN(2) == 0 {
			g.s("pam_unix(sshd:session): session opened for user ", u, "(uid=100", strconv.Itoa(g.r.IntN(7)), ") by (uid=0)")
		} else {
			g.s("pam_unix(sshd:session): session closed for user ", u)
		}
	case n < 92:
		g.header(h, t, "sudo", pid)
		u := g.pick(goodUsers)
		g.s("    ", u, " : TTY=pts/", strconv.Itoa(g.r.IntN(4)), " ; PWD=/home/", u, " ; USER=root ; COMMAND=",
			g.pick([]string{"/usr/bin/systemctl restart nginx", "/usr/bin/apt-get update", "/usr/bin/journalctl -u shop-api", "/usr/bin/tail -n 200 /var/log/syslog", "/usr/sbin/reboot"}))
	case n < 97:
		g.header(h, t, "CRON", pid)
		if g.r.IntN(2) == 0 {
			g.s("pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)")
		} else {
			g.s("pam_unix(cron:session): session closed for user root")
		}
	default:
		g.header(h, t, "systemd-logind", 500+g.r.IntN(50))
		g.s("New session ", strconv.Itoa(1000+g.r.IntN(90000)), " of user ", g.pick(goodUsers), ".")
	}
}

func (g *generator) kernLine(h *hostInfo, t time.Time) {
	g.header(h, t, "kernel", 0)
	if h.dmesgTime {
		up := t.Sub(h.boot)
		g.buf = append(g.buf, '[')
		g.buf = strconv.AppendInt(g.buf, int64(up/time.Second), 10)
		g.buf = append(g.buf, '.')
		g.buf = fmt.Appendf(g.buf, "%06d", int64(up%time.Second)/1000)
		g.s("] ")
	}
	switch n := g.r.IntN(1000); {
	case n < 700:
		g.s("[UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=", g.attacker(), " DST=10.0.",
			strconv.Itoa(g.r.IntN(16)), ".", strconv.Itoa(2+g.r.IntN(250)), " LEN=", strconv.Itoa(40+g.r.IntN(40)),
			" TOS=0x00 PREC=0x00 TTL=", strconv.Itoa(30+g.r.IntN(220)), " ID=", strconv.Itoa(g.r.IntN(65536)),
			" PROTO=TCP SPT=", strconv.Itoa(1024+g.r.IntN(64000)), " DPT=", g.pick([]string{"23", "22", "3389", "445", "8080", "5900", "6379", "2375"}),
			" WINDOW=", strconv.Itoa(1024+g.r.IntN(64000)), " RES=0x00 SYN URGP=0")
	case n < 820:
		g.s(`audit: type=1400 audit(`, strconv.FormatInt(t.Unix(), 10), ".", strconv.Itoa(100+g.r.IntN(900)), ":", strconv.Itoa(g.r.IntN(9999)),
			`): apparmor="DENIED" operation="open" class="file" profile="/usr/sbin/nginx" name="/proc/`, strconv.Itoa(1000+g.r.IntN(90000)),
			`/status" pid=`, strconv.Itoa(1000+g.r.IntN(90000)), ` comm="nginx" requested_mask="r" denied_mask="r" fsuid=33 ouid=33`)
	case n < 900:
		g.s("TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.  Check SNMP counters.")
	case n < 960:
		g.s("nf_conntrack: nf_conntrack: table full, dropping packet")
	case n < 990:
		g.s(g.pick([]string{"eth0", "ens3", "eno1"}), ": Link is Up - 10Gbps/Full - flow control rx/tx")
	case n < 996:
		g.s("Out of memory: Killed process ", strconv.Itoa(1000+g.r.IntN(90000)), " (", g.pick([]string{"java", "php-fpm8.2", "postgres", "node", "python3"}),
			") total-vm:", strconv.Itoa(1_000_000+g.r.IntN(8_000_000)), "kB, anon-rss:", strconv.Itoa(500_000+g.r.IntN(3_000_000)),
			"kB, file-rss:0kB, shmem-rss:0kB, UID:", strconv.Itoa(33+g.r.IntN(1000)), " pgtables:", strconv.Itoa(1000+g.r.IntN(9000)), "kB oom_score_adj:0")
		g.res.OOMCount++
	default:
		g.s("I/O error, dev ", g.pick([]string{"sda", "sdb", "nvme0n1"}), ", sector ", strconv.Itoa(g.r.IntN(1_000_000_000)),
			" op 0x0:(READ) flags 0x80700 phys_seg 1 prio class 2")
		g.res.IOErrorCount++
	}
}

var (
	paths = []string{"/", "/api/v1/orders", "/api/v1/orders/", "/api/v1/products?page=", "/api/v1/cart", "/static/js/app.", "/static/css/main.",
		"/images/p/", "/health", "/login", "/search?q=", "/api/v1/users/me", "/favicon.ico", "/robots.txt", "/wp-login.php", "/.env", "/api/v1/auth/callback?code="}
	searchWords = []string{"shoes", "laptop", "coffee", "desk", "lamp", "phone", "case", "cable", "chair", "book"}
	agents      = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
		"curl/7.88.1",
		"Go-http-client/1.1",
		"python-requests/2.31.0",
		"kube-probe/1.30",
	}
)

func (g *generator) nginxLine(t time.Time) {
	if g.r.IntN(5) == 0 {
		g.s("10.0.", strconv.Itoa(g.r.IntN(16)), ".", strconv.Itoa(2+g.r.IntN(250)))
	} else {
		g.s(g.clients[g.zipfIndex(len(g.clients))])
	}
	g.s(" - ")
	if g.r.IntN(50) == 0 {
		g.s(g.pick(goodUsers))
	} else {
		g.s("-")
	}
	g.s(" [")
	g.buf = t.In(g.loc).AppendFormat(g.buf, "02/Jan/2006:15:04:05 -0700")
	g.s(`] "`)
	method := "GET"
	switch n := g.r.IntN(100); {
	case n < 12:
		method = "POST"
	case n < 14:
		method = "PUT"
	case n < 15:
		method = "DELETE"
	case n < 17:
		method = "HEAD"
	}
	g.s(method, " ")
	p := g.pick(paths)
	g.s(p)
	switch p {
	case "/api/v1/orders/", "/images/p/":
		g.num(1, 999999)
		if p == "/images/p/" {
			g.s(".jpg")
		}
	case "/api/v1/products?page=":
		g.num(1, 60)
	case "/static/js/app.", "/static/css/main.":
		g.hex(8)
		if p == "/static/js/app." {
			g.s(".js")
		} else {
			g.s(".css")
		}
	case "/search?q=":
		g.s(g.pick(searchWords))
	case "/api/v1/auth/callback?code=":
		g.hex(16)
		g.s("&state=")
		g.hex(8)
		if g.r.IntN(2) == 0 {
			g.s("&token=")
			g.hex(32)
		}
	}
	g.s(" HTTP/", g.pick([]string{"1.1", "1.1", "2.0"}), `" `)
	status := 200
	switch {
	case p == "/wp-login.php" || p == "/.env":
		status = 404
	default:
		switch n := g.r.IntN(1000); {
		case n < 80:
			status = 304
		case n < 100:
			status = 301
		case n < 130:
			status = 404
		case n < 140:
			status = 499
		case n < 146:
			status = 500
		case n < 150:
			status = 502
		case n < 152:
			status = 503
		case n < 158:
			status = 401
		}
	}
	g.buf = strconv.AppendInt(g.buf, int64(status), 10)
	g.s(" ")
	if status == 304 || status == 499 {
		g.s("0")
	} else {
		g.num(150, 180000)
	}
	g.s(` "`)
	if g.r.IntN(3) == 0 {
		g.s("-")
	} else {
		g.s("https://shop.example.com/", g.pick([]string{"", "cart", "search", "products", "checkout"}))
	}
	g.s(`" "`, g.pick(agents), `" `)
	// $request_time: mostly fast, a long tail.
	ms := int(g.r.ExpFloat64() * 40)
	if g.r.IntN(200) == 0 {
		ms += 1000 + g.r.IntN(9000)
	}
	g.buf = strconv.AppendInt(g.buf, int64(ms/1000), 10)
	g.buf = append(g.buf, '.')
	g.buf = fmt.Appendf(g.buf, "%03d", ms%1000)
}

var (
	appLoggers = []string{"orders", "payments", "catalog", "auth", "cart", "search", "mailer", "inventory"}
	infoMsgs   = []string{"order created", "payment captured", "cart updated", "user logged in", "product viewed", "search served", "email queued", "stock reserved", "cache refreshed", "session extended"}
	warnMsgs   = []string{"slow query", "retrying request to payments-api", "cache miss storm", "deprecated API version used", "rate limit near for client"}
	errMsgs    = []string{"payment declined by provider", "invalid signature on webhook", "failed to send email: connection refused", "constraint violation on orders", "panic recovered in handler"}
	debugMsgs  = []string{"sql: SELECT id, total FROM orders WHERE customer_id = $1", "cache get", "feature flag evaluated", "request headers parsed"}
)

// appLine writes an application's line in one of three styles: logfmt,
// Java-like and JSON. The search term appears in some error lines.
func (g *generator) appLine(h *hostInfo, t time.Time, needle bool) {
	level, msg := "info", ""
	switch n := g.r.IntN(1000); {
	case needle:
		level, msg = "error", "webhook replay detected id="+Needle
	case n < 770:
		msg = g.pick(infoMsgs)
	case n < 850:
		level, msg = "debug", g.pick(debugMsgs)
	case n < 940:
		level, msg = "warn", g.pick(warnMsgs)
	case n < 965:
		level, msg = "error", g.pick(errMsgs)
	case n < 985:
		level = "error"
		msg = "upstream timeout after " + strconv.Itoa(500*(1+g.r.IntN(12))) + "ms calling " + g.pick([]string{"payments-api", "inventory-api", "mail-relay"})
		g.res.RegexCount++
	default:
		level = "error"
		msg = "db pool timeout: no connection available within " + strconv.Itoa(1+g.r.IntN(10)) + "s"
	}
	logger := g.pick(appLoggers)
	reqID := func() { g.hex(16) }
	tu := t.UTC()
	switch h.appStyle {
	case 0:
		g.s("time=")
		g.buf = tu.AppendFormat(g.buf, "2006-01-02T15:04:05.000Z07:00")
		g.s(" level=", level, ` logger=`, logger, ` msg="`, msg, `" request_id=`)
		reqID()
		g.s(" user_id=")
		g.num(1, 200000)
		g.s(" duration_ms=")
		g.num(0, 900)
	case 1:
		g.buf = tu.AppendFormat(g.buf, "2006-01-02 15:04:05.000")
		lv := strings.ToUpper(level)
		if len(lv) == 4 {
			lv += " "
		}
		g.s(" ", lv, " [http-nio-8080-exec-", strconv.Itoa(1+g.r.IntN(200)), "] c.e.shop.", logger, " - ", msg, " (req ")
		reqID()
		g.s(")")
	default:
		g.s(`{"ts":"`)
		g.buf = tu.AppendFormat(g.buf, "2006-01-02T15:04:05.000Z07:00")
		g.s(`","level":"`, level, `","logger":"`, logger, `","msg":"`, msg, `","request_id":"`)
		reqID()
		g.s(`","duration_ms":`)
		g.num(0, 900)
		g.s("}")
	}
	if needle {
		g.res.NeedleCount++
	}
}

// countTerm reports whether line holds the term (as grep -c counts).
func countTerm(line []byte) int {
	n := len(Term)
	for i := 0; i+n <= len(line); i++ {
		if line[i] == Term[0] && string(line[i:i+n]) == Term {
			return 1
		}
	}
	return 0
}

// createFiles opens the raw text and the sidecar for writing.
func createFiles(rawPath, metaPath string) (*os.File, *os.File, error) {
	raw, err := os.Create(rawPath)
	if err != nil {
		return nil, nil, err
	}
	meta, err := os.Create(metaPath)
	if err != nil {
		raw.Close()
		return nil, nil, err
	}
	return raw, meta, nil
}
