package logs

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/saypro/monitor/internal/logs/parse"
)

// SyslogOptions configure a syslog receiver.
type SyslogOptions struct {
	// UDP and TCP are listen addresses; empty turns each off.
	UDP, TCP string
	// TLSListen with TLSConfig is a TCP listener with TLS (RFC 5425).
	TLSListen string
	TLSConfig *tls.Config
	// MaxConnections bounds TCP and TLS connections together.
	MaxConnections int
	// IdleTimeout closes a silent connection.
	IdleTimeout time.Duration
	// MaxMessage bounds one message; longer ones are truncated.
	MaxMessage int
	Logger     *slog.Logger
}

// SyslogReceiver receives syslog messages (RFC 5424 and RFC 3164) over UDP,
// TCP and TLS (RFC 6587 framing: octet counting or newline) and feeds them
// to a pipeline in batches.
type SyslogReceiver struct {
	o     SyslogOptions
	p     *Pipeline
	queue chan Entry
	conns chan struct{}

	udp      net.PacketConn
	tcp, tls net.Listener

	wg sync.WaitGroup
}

// NewSyslogReceiver listens on the configured addresses; an address in use
// is an error naming it.
func NewSyslogReceiver(o SyslogOptions, p *Pipeline) (*SyslogReceiver, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = 1000
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 10 * time.Minute
	}
	if o.MaxMessage <= 0 {
		o.MaxMessage = 64 << 10
	}
	r := &SyslogReceiver{o: o, p: p, queue: make(chan Entry, 20000), conns: make(chan struct{}, o.MaxConnections)}
	var err error
	if o.UDP != "" {
		if r.udp, err = net.ListenPacket("udp", o.UDP); err != nil {
			return nil, fmt.Errorf("syslog over UDP: %w (set logs.syslog.udp to a free address)", err)
		}
	}
	if o.TCP != "" {
		if r.tcp, err = net.Listen("tcp", o.TCP); err != nil {
			r.Close()
			return nil, fmt.Errorf("syslog over TCP: %w (set logs.syslog.tcp to a free address)", err)
		}
	}
	if o.TLSListen != "" {
		if o.TLSConfig == nil {
			r.Close()
			return nil, errors.New("syslog over TLS needs a certificate")
		}
		if r.tls, err = tls.Listen("tcp", o.TLSListen, o.TLSConfig); err != nil {
			r.Close()
			return nil, fmt.Errorf("syslog over TLS: %w (set logs.syslog.tls.listen to a free address)", err)
		}
	}
	return r, nil
}

// Addrs returns the bound addresses (nil where off).
func (r *SyslogReceiver) Addrs() (udp, tcp, tlsAddr net.Addr) {
	if r.udp != nil {
		udp = r.udp.LocalAddr()
	}
	if r.tcp != nil {
		tcp = r.tcp.Addr()
	}
	if r.tls != nil {
		tlsAddr = r.tls.Addr()
	}
	return
}

// Close stops listening; Run returns.
func (r *SyslogReceiver) Close() {
	if r.udp != nil {
		r.udp.Close()
	}
	if r.tcp != nil {
		r.tcp.Close()
	}
	if r.tls != nil {
		r.tls.Close()
	}
}

// Run receives until ctx is cancelled, then closes the listeners, waits for
// the connections and stores what was queued.
func (r *SyslogReceiver) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, r.Close)
	defer stop()
	if r.udp != nil {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.serveUDP(ctx)
		}()
	}
	for _, ln := range []net.Listener{r.tcp, r.tls} {
		if ln == nil {
			continue
		}
		transport := "syslog-tcp"
		if ln == r.tls {
			transport = "syslog-tls"
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.serveStream(ctx, ln, transport)
		}()
	}
	// The batcher waits on r.wg at the end, so it starts after every Add.
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		r.batch(ctx)
	}()
	<-ctx.Done()
	r.Close()
	r.wg.Wait()
	<-flushed
	return nil
}

func (r *SyslogReceiver) enqueue(e Entry) {
	select {
	case r.queue <- e:
	default:
		r.p.Dropped(e.Source, "queue_full", 1)
	}
}

// batch stores queued entries every 200 ms or 2000 entries.
func (r *SyslogReceiver) batch(ctx context.Context) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	var buf []Entry
	flush := func() {
		if len(buf) > 0 {
			r.p.commit(buf, time.Now()) // errors are counted and logged there
			buf = nil
		}
	}
	for {
		select {
		case e := <-r.queue:
			buf = append(buf, e)
			if len(buf) >= 2000 {
				flush()
			}
		case <-t.C:
			flush()
		case <-ctx.Done():
			r.wg.Wait()
			for {
				select {
				case e := <-r.queue:
					buf = append(buf, e)
				default:
					flush()
					return
				}
			}
		}
	}
}

func (r *SyslogReceiver) serveUDP(ctx context.Context) {
	buf := make([]byte, 65536)
	for {
		n, addr, err := r.udp.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			r.o.Logger.Warn("reading syslog over UDP", "err", err)
			continue
		}
		if n == 0 {
			continue
		}
		r.p.m.received.WithLabelValues("syslog-udp").Inc()
		r.enqueue(r.p.FromSyslog(buf[:n], hostOf(addr), time.Now()))
	}
}

func hostOf(a net.Addr) string {
	if host, _, err := net.SplitHostPort(a.String()); err == nil {
		return host
	}
	return a.String()
}

func (r *SyslogReceiver) serveStream(ctx context.Context, ln net.Listener, transport string) {
	var conns sync.WaitGroup
	defer conns.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			r.o.Logger.Warn("accepting a syslog connection", "transport", transport, "err", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		select {
		case r.conns <- struct{}{}:
		default:
			r.o.Logger.Warn("too many syslog connections; refusing one (raise logs.syslog.max_connections)", "remote", c.RemoteAddr().String())
			c.Close()
			continue
		}
		conns.Add(1)
		go func() {
			defer conns.Done()
			defer func() { <-r.conns }()
			r.serveConn(ctx, c, transport)
		}()
	}
}

func (r *SyslogReceiver) serveConn(ctx context.Context, c net.Conn, transport string) {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	sender := hostOf(c.RemoteAddr())
	fr := parse.NewFrameReader(deadlineReader{c, r.o.IdleTimeout}, r.o.MaxMessage)
	for {
		msg, err := fr.Next()
		if len(msg) > 0 {
			r.p.m.received.WithLabelValues(transport).Inc()
			e := r.p.FromSyslog(msg, sender, time.Now())
			if fr.Truncated() {
				e.Message += " …[truncated]"
				r.p.m.truncated.Inc()
			}
			r.enqueue(e)
		}
		if err != nil {
			return
		}
	}
}

// deadlineReader sets a read deadline before each read, so an idle
// connection is closed.
type deadlineReader struct {
	c    net.Conn
	idle time.Duration
}

func (d deadlineReader) Read(p []byte) (int, error) {
	d.c.SetReadDeadline(time.Now().Add(d.idle))
	return d.c.Read(p)
}
