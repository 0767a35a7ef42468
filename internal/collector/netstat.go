package collector

import (
	"bytes"
	"errors"
	"io/fs"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// netstatField reports whether protocol statistic proto_field is exported:
// the same set as node_exporter's default (errors, forwarding, octets, ICMP
// messages, TCP listen queue, SYN cookies, retransmissions and timeouts,
// TCP and UDP traffic).
func netstatField(proto, field string) bool {
	if field == "InErrors" || field == "InErrs" {
		return true
	}
	switch proto {
	case "Ip":
		return field == "Forwarding"
	case "Ip6", "IpExt":
		return field == "InOctets" || field == "OutOctets"
	case "Icmp", "Icmp6":
		return field == "InMsgs" || field == "OutMsgs"
	case "TcpExt":
		return strings.HasPrefix(field, "Listen") || strings.HasPrefix(field, "Syncookies") ||
			field == "TCPSynRetrans" || field == "TCPTimeouts"
	case "Tcp":
		switch field {
		case "ActiveOpens", "InSegs", "OutSegs", "OutRsts", "PassiveOpens", "RetransSegs", "CurrEstab":
			return true
		}
	case "Udp", "Udp6":
		switch field {
		case "InDatagrams", "OutDatagrams", "NoPorts", "RcvbufErrors", "SndbufErrors":
			return true
		}
	}
	return false
}

// parseNetstatPairs calls fn for each pair of lines of /proc/net/netstat or
// /proc/net/snmp ("Proto: Name…" then "Proto: value…"), with the header line
// and the values line. Both lines are checked to have the same protocol and
// the same number of fields.
func parseNetstatPairs(file string, data []byte, fn func(header, values []byte) error) error {
	for len(data) > 0 {
		var header, values []byte
		header, data = cutLine(data)
		if len(bytes.TrimSpace(header)) == 0 {
			continue
		}
		values, data = cutLine(data)
		hp, _, ok1 := bytes.Cut(header, []byte(":"))
		vp, _, ok2 := bytes.Cut(values, []byte(":"))
		if !ok1 || !ok2 || !bytes.Equal(hp, vp) {
			return malformed(file, "line %q is not followed by its values", header)
		}
		if countFields(header) != countFields(values) {
			return malformed(file, "%s: %d names but %d values", hp, countFields(header)-1, countFields(values)-1)
		}
		if err := fn(header, values); err != nil {
			return err
		}
	}
	return nil
}

// countFields counts the blank-separated fields of b.
func countFields(b []byte) int {
	n := 0
	for {
		var f []byte
		f, b = nextField(b)
		if len(f) == 0 {
			return n
		}
		n++
	}
}

// snmp6Proto splits a /proc/net/snmp6 name ("Udp6InDatagrams") into its
// protocol (up to and including the first 6) and field.
func snmp6Proto(name string) (proto, field string) {
	i := strings.IndexByte(name, '6')
	if i < 0 {
		return "", name
	}
	return name[:i+1], name[i+1:]
}

// netstatCollector exports node_netstat_<Proto>_<Field> (untyped, as
// node_exporter does) from /proc/net/netstat, /proc/net/snmp and
// /proc/net/snmp6. A missing snmp6 (IPv6 disabled) is not an error.
type netstatCollector struct {
	e                     *env
	netstatPath, snmpPath string
	snmp6Path             string
	families              dynamicFamilies
	headers               map[string][]*dynamicFamily
	pending               []pending
}

func newNetstatCollector(e *env) (collector, error) {
	return &netstatCollector{
		e:           e,
		netstatPath: e.procPath("net", "netstat"),
		snmpPath:    e.procPath("net", "snmp"),
		snmp6Path:   e.procPath("net", "snmp6"),
		headers:     map[string][]*dynamicFamily{},
	}, nil
}

// netstatFamily builds the family of proto_field, if exported.
func netstatFamily(key string) (family, bool) {
	proto, field, _ := strings.Cut(key, "_")
	if !netstatField(proto, field) || !validMetricName(key) {
		return family{}, false
	}
	return newFamily("node_netstat_"+key, "Statistic "+proto+field+".", prometheus.UntypedValue), true
}

func (c *netstatCollector) update(ch chan<- prometheus.Metric) error {
	c.families.next()
	c.pending = c.pending[:0]
	for _, file := range [...]string{c.netstatPath, c.snmpPath} {
		data, err := c.e.buf.read(file)
		if err != nil {
			return err
		}
		if err := parseNetstatPairs(file, data, c.pair); err != nil {
			return err
		}
	}
	data, err := c.e.buf.read(c.snmp6Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		if err := c.snmp6(data); err != nil {
			return err
		}
	}
	for _, p := range c.pending {
		p.f.send(ch, p.v, nil)
	}
	return nil
}

// pair queues the exported values of one header and values pair.
func (c *netstatCollector) pair(header, values []byte) error {
	columns, ok := c.headers[string(header)]
	if !ok {
		if len(c.headers) >= maxDynamic {
			clear(c.headers)
		}
		proto, names, _ := bytes.Cut(header, []byte(":"))
		var key []byte
		for {
			var name []byte
			name, names = nextField(names)
			if len(name) == 0 {
				break
			}
			key = append(append(append(key[:0], proto...), '_'), name...)
			columns = append(columns, c.families.lookup(key, netstatFamily))
		}
		c.headers[string(header)] = columns
	}
	proto, values, _ := bytes.Cut(values, []byte(":"))
	for _, col := range columns {
		var field []byte
		field, values = nextField(values)
		if !col.take(c.families.gen) {
			continue
		}
		v, ok := parseNumber(field)
		if !ok {
			return malformed("netstat", "%s: value %q", proto, field)
		}
		c.pending = append(c.pending, pending{&col.family, v})
	}
	return nil
}

// snmp6 queues the exported values of /proc/net/snmp6 ("Name value" lines).
func (c *netstatCollector) snmp6(data []byte) error {
	for len(data) > 0 {
		var line []byte
		line, data = cutLine(data)
		name, rest := nextField(line)
		if len(name) == 0 {
			continue
		}
		e := c.families.lookup(name, func(name string) (family, bool) {
			proto, field := snmp6Proto(name)
			return netstatFamily(proto + "_" + field)
		})
		if !e.take(c.families.gen) {
			continue
		}
		field, _ := nextField(rest)
		v, ok := parseNumber(field)
		if !ok {
			return malformed("snmp6", "%s: %q", name, field)
		}
		c.pending = append(c.pending, pending{&e.family, v})
	}
	return nil
}
