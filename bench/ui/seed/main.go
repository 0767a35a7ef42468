// Command seed fills a server's host inventory for the UI benchmark
// (bench/ui/run.sh): it posts an agent heartbeat for each of --hosts hosts,
// host-1 … host-N (the instance names of bench/ingest/loadgen, which sends
// their node_* samples), with the ingest token, as saypro-agent does; with
// --every it repeats until stopped, so the hosts stay up.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/saypro/monitor/internal/agentapi"
)

func main() {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	base := fs.String("url", "", "server base URL, e.g. http://127.0.0.1:9900")
	token := fs.String("token", "", "the server's ingest token")
	hosts := fs.Int("hosts", 500, "hosts: host-1 … host-N")
	every := fs.Duration("every", 0, "send the heartbeats again at this interval until SIGTERM (0: once)")
	workers := fs.Int("workers", 16, "concurrent requests")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if *base == "" || *token == "" || *hosts < 1 {
		fmt.Fprintln(os.Stderr, "seed: --url, --token and --hosts >= 1 are required")
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	s := &seeder{url: strings.TrimRight(*base, "/") + agentapi.HeartbeatPath, token: *token, hosts: *hosts,
		workers: *workers, interval: *every, start: time.Now(), client: &http.Client{Timeout: 30 * time.Second}}
	for {
		t0 := time.Now()
		if err := s.round(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			logger.Error("heartbeats failed", "err", err)
			os.Exit(1)
		}
		logger.Info("heartbeats sent", "hosts", *hosts, "took", time.Since(t0).Round(time.Millisecond))
		if *every <= 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(*every - time.Since(t0)):
		}
	}
}

type seeder struct {
	url, token     string
	hosts, workers int
	interval       time.Duration
	start          time.Time
	client         *http.Client
}

// heartbeat is host h's report: a few kinds of machine, booted days ago.
func (s *seeder) heartbeat(h int) agentapi.Heartbeat {
	name := "host-" + strconv.Itoa(h)
	cpus := []int{2, 4, 8, 16}[h%4]
	roles := []string{"web", "database", "cache", "worker", "batch"}
	envs := []string{"prod", "prod", "staging"}
	interval := s.interval
	if interval <= 0 {
		interval = 15 * time.Second
	}
	return agentapi.Heartbeat{
		Instance: name, Hostname: name,
		OS: "Debian GNU/Linux 12 (bookworm)", OSID: "debian", OSVersion: "12",
		Kernel: "6.1.0-28-amd64", Arch: "x86_64",
		CPUs: cpus, MemoryBytes: uint64(cpus) * 4 << 30,
		AgentVersion:   "bench",
		AgentStartTime: s.start.Add(-time.Duration(h) * time.Minute).UTC().Truncate(time.Second),
		BootTime:       s.start.Add(-time.Duration(24+h%200) * time.Hour).UTC().Truncate(time.Second),
		Labels:         map[string]string{"env": envs[h%len(envs)], "role": roles[h%len(roles)]},
		Interval:       agentapi.Seconds(interval),
		Time:           time.Now().UTC(),
	}
}

// round sends every host's heartbeat once.
func (s *seeder) round(ctx context.Context) error {
	next := atomic.Int64{}
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range s.workers {
		wg.Go(func() {
			for {
				h := int(next.Add(1))
				if h > s.hosts || ctx.Err() != nil {
					return
				}
				if err := s.post(ctx, s.heartbeat(h)); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

func (s *seeder) post(ctx context.Context, hb agentapi.Heartbeat) error {
	body, err := json.Marshal(hb)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("heartbeat of %s: %s: %s", hb.Instance, resp.Status, bytes.TrimSpace(b))
	}
	return nil
}
