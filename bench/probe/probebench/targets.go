package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/saypro/monitor/bench/subcmd"
)

// Target kinds: how the target server answers.
const (
	kindFast = "fast" // 200 at once
	kindSlow = "slow" // 200 after --slow-delay (above the 3 s latency threshold: degraded)
	kindHang = "hang" // never answers; the prober's timeout ends the run (down)
)

var targetKinds = []string{kindFast, kindSlow, kindHang}

func cmdTargets(ctx context.Context, args []string, _ io.Writer, logger *slog.Logger) error {
	fs := subcmd.NewFlagSet(toolName, "targets", "Serves the benchmark's targets on --listeners listeners on 127.0.0.1 (free ports) and\n"+
		"writes their host:port, one a line, to --addrs-file once all listen. Paths: /fast/...\n"+
		"answers 200 with a short body at once, /slow/... after --slow-delay, /hang/... never\n"+
		"(until the client gives up). Connections are closed after each answer, so that every\n"+
		"run connects anew and the target side holds the TIME_WAIT.")
	listeners := fs.Int("listeners", 16, "listeners (ports), to spread connections over 4-tuples")
	addrsFile := fs.String("addrs-file", "", "where to write the listeners' host:port (required)")
	slowDelay := fs.Duration("slow-delay", 3500*time.Millisecond, "delay of the slow targets")
	if err := subcmd.Parse(fs, args); err != nil {
		return err
	}
	if *addrsFile == "" || *listeners < 1 {
		return subcmd.Usagef("--addrs-file and a positive --listeners are required")
	}
	var counts [3]atomic.Int64
	var open atomic.Int64
	body := []byte("ok\n")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		switch kind {
		case kindFast:
			counts[0].Add(1)
		case kindSlow:
			counts[1].Add(1)
			t := time.NewTimer(*slowDelay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.Context().Done():
				return
			}
		case kindHang:
			counts[2].Add(1)
			open.Add(1)
			defer open.Add(-1)
			<-r.Context().Done()
			return
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", "3")
		_, _ = w.Write(body)
	})
	var servers []*http.Server
	var addrs []string
	errc := make(chan error, *listeners)
	for range *listeners {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: nil}
		srv.SetKeepAlivesEnabled(false)
		servers = append(servers, srv)
		addrs = append(addrs, ln.Addr().String())
		go func() { errc <- srv.Serve(ln) }()
	}
	defer func() {
		for _, s := range servers {
			_ = s.Close()
		}
	}()
	if err := writeFileAtomic(*addrsFile, []byte(strings.Join(addrs, "\n")+"\n")); err != nil {
		return err
	}
	logger.Info("targets listening", "listeners", len(addrs), "first", addrs[0], "slow_delay", *slowDelay)
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			logger.Info("targets stopping", "fast", counts[0].Load(), "slow", counts[1].Load(), "hang", counts[2].Load())
			return nil
		case err := <-errc:
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return err
		case <-tick.C:
			logger.Info("requests so far", "fast", counts[0].Load(), "slow", counts[1].Load(), "hang", counts[2].Load(), "hanging_now", open.Load())
		}
	}
}

// writeFileAtomic writes data to path through a temporary file and a
// rename, so that a reader never sees a partial file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// readAddrs reads the host:port lines written by targets.
func readAddrs(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var addrs []string
	for _, l := range strings.Fields(string(b)) {
		if _, _, err := net.SplitHostPort(l); err != nil {
			return nil, fmt.Errorf("%s: %q is not host:port", path, l)
		}
		addrs = append(addrs, l)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%s lists no addresses", path)
	}
	return addrs, nil
}

// Target is one check's target.
type Target struct {
	Name string // check name: <kind>-<index>
	Kind string // fast, slow or hang
	URL  string
}

// checkFlags are the flags that define the set of checks, shared by the
// subcommands that need it.
type checkFlags struct {
	addrsFile string
	checks    int
	slowFrac  float64
	hangFrac  float64
	interval  time.Duration
	timeout   time.Duration
}

func (c *checkFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.addrsFile, "addrs-file", "", "the targets' host:port list written by the targets command (required)")
	fs.IntVar(&c.checks, "checks", 10000, "number of checks (targets)")
	fs.Float64Var(&c.slowFrac, "slow-frac", 0.05, "fraction of slow targets")
	fs.Float64Var(&c.hangFrac, "hang-frac", 0.02, "fraction of hanging targets")
	fs.DurationVar(&c.interval, "interval", 10*time.Second, "interval of every check")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Second, "timeout of every check")
}

func (c *checkFlags) targets() ([]Target, error) {
	if c.addrsFile == "" {
		return nil, subcmd.Usagef("--addrs-file is required")
	}
	if c.checks < 1 || c.slowFrac < 0 || c.hangFrac < 0 || c.slowFrac+c.hangFrac > 1 || c.interval < time.Second || c.timeout <= 0 {
		return nil, subcmd.Usagef("bad check set: --checks >= 1, fractions in [0,1] summing to at most 1, --interval >= 1s, --timeout > 0")
	}
	addrs, err := readAddrs(c.addrsFile)
	if err != nil {
		return nil, err
	}
	return targetList(addrs, c.checks, c.slowFrac, c.hangFrac), nil
}

// targetList assigns n checks to kinds and listeners. Kinds are spread
// evenly over the indexes (a fixed permutation of 10,000 slots), so that
// exactly the fractions asked for are slow and hanging when n is a
// multiple of 10,000, and listeners in turn.
func targetList(addrs []string, n int, slowFrac, hangFrac float64) []Target {
	const slots = 10000
	hang := int(hangFrac*slots + 0.5)
	slow := int((hangFrac+slowFrac)*slots + 0.5)
	out := make([]Target, n)
	for i := range n {
		b := (i * 7919) % slots // 7919 is prime: a permutation of the slots
		kind := kindFast
		switch {
		case b < hang:
			kind = kindHang
		case b < slow:
			kind = kindSlow
		}
		name := fmt.Sprintf("%s-%05d", kind, i)
		out[i] = Target{
			Name: name,
			Kind: kind,
			URL:  fmt.Sprintf("http://%s/%s/%d?check=%s", addrs[i%len(addrs)], kind, i, name),
		}
	}
	return out
}

// kindOfCheck is the target kind in a check name made by targetList.
func kindOfCheck(name string) string {
	k, _, _ := strings.Cut(name, "-")
	return k
}
