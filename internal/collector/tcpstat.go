package collector

import (
	"errors"
	"io/fs"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// tcpStates are the TCP states by their number in /proc/net/tcp, named as
// node_exporter names them.
var tcpStates = [...]string{
	1:  "established",
	2:  "syn_sent",
	3:  "syn_recv",
	4:  "fin_wait1",
	5:  "fin_wait2",
	6:  "time_wait",
	7:  "close",
	8:  "close_wait",
	9:  "last_ack",
	10: "listen",
	11: "closing",
}

// tcpListen is the number of the listen state.
const tcpListen = 10

// tcpCounts are the sockets by state and their queued bytes.
type tcpCounts struct {
	states   [len(tcpStates)]uint64
	txQueued uint64
	rxQueued uint64
}

// add counts one line of /proc/net/tcp{,6}: "sl local remote st tx:rx …".
// The header line is skipped.
func (t *tcpCounts) add(line []byte) error {
	sl, rest := nextField(line)
	if len(sl) == 0 {
		return nil
	}
	if string(sl) == "sl" {
		return nil
	}
	_, rest = nextField(rest) // local address
	_, rest = nextField(rest) // remote address
	st, rest := nextField(rest)
	queues, _ := nextField(rest)
	state, ok := parseHex(st)
	if !ok || len(queues) != 17 || queues[8] != ':' {
		return malformed("net/tcp", "line %q", line)
	}
	tx, ok1 := parseHex(queues[:8])
	rx, ok2 := parseHex(queues[9:])
	if !ok1 || !ok2 {
		return malformed("net/tcp", "queues %q", queues)
	}
	t.count(state, tx, rx)
	return nil
}

// count counts one socket. Unknown states are skipped. The queues of
// listening sockets count connections, not bytes, and are left out.
func (t *tcpCounts) count(state, tx, rx uint64) {
	if state == 0 || state >= uint64(len(tcpStates)) {
		return
	}
	t.states[state]++
	if state != tcpListen {
		t.txQueued += tx
		t.rxQueued += rx
	}
}

// tcpstatCollector exports node_tcp_connection_states{state}: the number
// of TCP sockets in each state seen, and rx_queued_bytes and
// tx_queued_bytes, IPv4 and IPv6 together.
//
// With the default ProcPath the sockets are counted over netlink
// sock_diag, as node_exporter does, in one dump for both address families:
// the kernel answers at a fraction of the cost of generating /proc/net/tcp
// and tcp6 (see BenchmarkTCPStat).
// Otherwise (a /proc mounted elsewhere, fixtures), or if netlink is refused,
// <ProcPath>/net/tcp and tcp6 are streamed through a fixed buffer, as they
// can be large on a busy server. Both count the sockets of the agent's
// network namespace. A missing tcp6 (IPv6 disabled) is not an error.
type tcpstatCollector struct {
	e          *env
	paths      [2]string
	states     family
	labels     [len(tcpStates)][]*dto.LabelPair
	rx, tx     []*dto.LabelPair
	buf        []byte
	counts     tcpCounts // of the current collection; a field, as the netlink seam would move a local to the heap
	useNetlink bool
	compat     bool // see countTCPNetlink
	netlink    func(t *tcpCounts, buf []byte, compat *bool) error
}

func newTCPStatCollector(e *env) (collector, error) {
	c := &tcpstatCollector{
		e:      e,
		paths:  [2]string{e.procPath("net", "tcp"), e.procPath("net", "tcp6")},
		states: newFamily("node_tcp_connection_states", "Number of connection states.", prometheus.GaugeValue, "state"),
		rx:     labelPairs("state", "rx_queued_bytes"),
		tx:     labelPairs("state", "tx_queued_bytes"),

		useNetlink: netlinkTCPSupported && e.opts.ProcPath == DefaultProcPath,
		compat:     true,
		netlink:    countTCPNetlink,
	}
	for i, s := range tcpStates {
		if s != "" {
			c.labels[i] = labelPairs("state", s)
		}
	}
	return c, nil
}

func (c *tcpstatCollector) update(ch chan<- prometheus.Metric) error {
	if c.buf == nil {
		c.buf = make([]byte, 64<<10)
	}
	t := &c.counts
	*t = tcpCounts{}
	if c.useNetlink {
		err := c.netlink(t, c.buf, &c.compat)
		if err == nil {
			c.send(ch, t)
			return nil
		}
		c.e.logger.Debug("counting TCP sockets over netlink failed; reading /proc/net/tcp from now on",
			"collector", "tcpstat", "err", err)
		c.useNetlink = false
		*t = tcpCounts{}
	}
	for i, path := range c.paths {
		err := c.count(path, t)
		if i == 1 && errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return err
		}
	}
	c.send(ch, t)
	return nil
}

// send emits the counts.
func (c *tcpstatCollector) send(ch chan<- prometheus.Metric, t *tcpCounts) {
	for i, n := range t.states {
		if n > 0 {
			c.states.send(ch, float64(n), c.labels[i])
		}
	}
	c.states.send(ch, float64(t.rxQueued), c.rx)
	c.states.send(ch, float64(t.txQueued), c.tx)
}

// count adds the sockets of one file to t.
func (c *tcpstatCollector) count(path string, t *tcpCounts) error {
	var s lineScanner
	if err := s.open(path, c.buf); err != nil {
		return err
	}
	defer s.close()
	for {
		line, ok := s.next()
		if !ok {
			return s.err
		}
		if err := t.add(line); err != nil {
			return err
		}
	}
}
