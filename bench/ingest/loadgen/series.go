package main

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"

	"github.com/prometheus/prometheus/prompb"
)

// seriesPerHost is the number of series one simulated node_exporter exposes
// (see hostModel).
const seriesPerHost = 100

// scrapeInterval is the step between two rounds of samples, in milliseconds.
const scrapeInterval = int64(15_000)

// kind is how a series' value evolves from one round to the next.
type kind int

const (
	// constant never changes (sizes, totals, boot time).
	constant kind = iota
	// counter grows by about rate*15s per round, never decreasing.
	counter
	// walk is a gauge that moves by about step per round inside [lo, hi].
	walk
	// smallInt is a gauge drawn uniformly from the integers in [lo, hi].
	smallInt
)

// model describes one series of a host: its labels and how its value moves.
// Values are rounded to quantum, as the real exporter's are (clock ticks,
// pages, bytes), because that is what the TSDBs' compression sees.
type model struct {
	name    string
	labels  [][2]string // besides __name__, instance and job
	kind    kind
	initial float64 // start value (before per-host scaling)
	rate    float64 // counter: mean increase per second
	step    float64 // walk: standard deviation of one move
	lo, hi  float64 // walk and smallInt bounds
	quantum float64 // values are multiples of this (0: no rounding)
}

// hostModel returns the 100 series of one node_exporter-like host, in a
// fixed order.
func hostModel() []model {
	const gib = 1 << 30
	var ms []model
	// node_cpu_seconds_total: 4 CPUs x 8 modes = 32 counters, in USER_HZ
	// ticks of 10 ms.
	modes := []struct {
		mode string
		rate float64
	}{
		{"idle", 0.82}, {"iowait", 0.01}, {"irq", 0.0}, {"nice", 0.0},
		{"softirq", 0.005}, {"steal", 0.002}, {"system", 0.05}, {"user", 0.11},
	}
	for cpu := range 4 {
		for _, m := range modes {
			ms = append(ms, model{
				name: "node_cpu_seconds_total", labels: [][2]string{{"cpu", strconv.Itoa(cpu)}, {"mode", m.mode}},
				kind: counter, initial: 3e6 * (m.rate + 0.001), rate: m.rate, quantum: 0.01,
			})
		}
	}
	// Load averages: 3 gauges with two decimals.
	for _, n := range []string{"node_load1", "node_load5", "node_load15"} {
		ms = append(ms, model{name: n, kind: walk, initial: 0.8, step: 0.08, lo: 0, hi: 8, quantum: 0.01})
	}
	// Memory: 10 gauges in pages of 4 KiB.
	mem := []model{
		{name: "node_memory_MemTotal_bytes", kind: constant, initial: 16 * gib},
		{name: "node_memory_MemFree_bytes", kind: walk, initial: 2 * gib, step: 8 << 20, lo: 256 << 20, hi: 8 * gib, quantum: 4096},
		{name: "node_memory_MemAvailable_bytes", kind: walk, initial: 9 * gib, step: 8 << 20, lo: 1 * gib, hi: 15 * gib, quantum: 4096},
		{name: "node_memory_Buffers_bytes", kind: walk, initial: 300 << 20, step: 256 << 10, lo: 64 << 20, hi: 1 * gib, quantum: 4096},
		{name: "node_memory_Cached_bytes", kind: walk, initial: 6 * gib, step: 4 << 20, lo: 1 * gib, hi: 12 * gib, quantum: 4096},
		{name: "node_memory_SwapTotal_bytes", kind: constant, initial: 2 * gib},
		{name: "node_memory_SwapFree_bytes", kind: walk, initial: 1.9 * gib, step: 4096, lo: 1 * gib, hi: 2 * gib, quantum: 4096},
		{name: "node_memory_Active_bytes", kind: walk, initial: 5 * gib, step: 4 << 20, lo: 1 * gib, hi: 12 * gib, quantum: 4096},
		{name: "node_memory_Inactive_bytes", kind: walk, initial: 4 * gib, step: 2 << 20, lo: 1 * gib, hi: 10 * gib, quantum: 4096},
		{name: "node_memory_Dirty_bytes", kind: walk, initial: 2 << 20, step: 256 << 10, lo: 0, hi: 64 << 20, quantum: 4096},
	}
	ms = append(ms, mem...)
	// Network: 8 counters x 3 devices = 24.
	netDevs := []struct {
		dev   string
		bytes float64 // mean bytes per second received
	}{{"eth0", 2e6}, {"eth1", 2e5}, {"lo", 5e4}}
	for _, d := range netDevs {
		l := [][2]string{{"device", d.dev}}
		ms = append(ms,
			model{name: "node_network_receive_bytes_total", labels: l, kind: counter, initial: d.bytes * 1e5, rate: d.bytes, quantum: 1},
			model{name: "node_network_transmit_bytes_total", labels: l, kind: counter, initial: d.bytes * 6e4, rate: d.bytes * 0.6, quantum: 1},
			model{name: "node_network_receive_packets_total", labels: l, kind: counter, initial: d.bytes * 1e5 / 900, rate: d.bytes / 900, quantum: 1},
			model{name: "node_network_transmit_packets_total", labels: l, kind: counter, initial: d.bytes * 6e4 / 700, rate: d.bytes * 0.6 / 700, quantum: 1},
			model{name: "node_network_receive_errs_total", labels: l, kind: constant, initial: 0},
			model{name: "node_network_transmit_errs_total", labels: l, kind: constant, initial: 0},
			model{name: "node_network_receive_drop_total", labels: l, kind: counter, initial: 12, rate: 0.002, quantum: 1},
			model{name: "node_network_transmit_drop_total", labels: l, kind: constant, initial: 0},
		)
	}
	// Filesystems: 5 metrics x 3 mount points = 15.
	fss := []struct {
		dev, mount string
		size       float64
	}{{"/dev/vda1", "/", 40 * gib}, {"/dev/vdb1", "/var", 200 * gib}, {"/dev/vdc1", "/home", 100 * gib}}
	for _, f := range fss {
		l := [][2]string{{"device", f.dev}, {"fstype", "ext4"}, {"mountpoint", f.mount}}
		ms = append(ms,
			model{name: "node_filesystem_size_bytes", labels: l, kind: constant, initial: f.size},
			model{name: "node_filesystem_avail_bytes", labels: l, kind: walk, initial: f.size * 0.45, step: 2 << 20, lo: 0, hi: f.size * 0.95, quantum: 4096},
			model{name: "node_filesystem_free_bytes", labels: l, kind: walk, initial: f.size * 0.5, step: 2 << 20, lo: 0, hi: f.size, quantum: 4096},
			model{name: "node_filesystem_files", labels: l, kind: constant, initial: math.Round(f.size / 16384)},
			model{name: "node_filesystem_files_free", labels: l, kind: walk, initial: math.Round(f.size / 16384 * 0.9), step: 20, lo: 0, hi: f.size / 16384, quantum: 1},
		)
	}
	// Block devices: 5 counters x 2 disks = 10.
	for _, dev := range []string{"vda", "vdb"} {
		l := [][2]string{{"device", dev}}
		ms = append(ms,
			model{name: "node_disk_read_bytes_total", labels: l, kind: counter, initial: 4e10, rate: 3e5, quantum: 512},
			model{name: "node_disk_written_bytes_total", labels: l, kind: counter, initial: 9e10, rate: 8e5, quantum: 512},
			model{name: "node_disk_reads_completed_total", labels: l, kind: counter, initial: 2e6, rate: 20, quantum: 1},
			model{name: "node_disk_writes_completed_total", labels: l, kind: counter, initial: 6e6, rate: 60, quantum: 1},
			model{name: "node_disk_io_time_seconds_total", labels: l, kind: counter, initial: 5e4, rate: 0.03, quantum: 0.001},
		)
	}
	// Kernel counters and gauges: 6.
	ms = append(ms,
		model{name: "node_context_switches_total", kind: counter, initial: 9e9, rate: 4000, quantum: 1},
		model{name: "node_intr_total", kind: counter, initial: 5e9, rate: 2500, quantum: 1},
		model{name: "node_forks_total", kind: counter, initial: 3e7, rate: 8, quantum: 1},
		model{name: "node_boot_time_seconds", kind: constant, initial: 1.7e9},
		model{name: "node_procs_running", kind: smallInt, lo: 1, hi: 6},
		model{name: "node_procs_blocked", kind: smallInt, lo: 0, hi: 1},
	)
	return ms
}

// series is one generated time series: its remote-write labels, the
// sender shard it always goes to, and its current value.
type series struct {
	labels []prompb.Label
	shard  int
	model  *model
	value  float64
}

// instanceName is the instance label of host h (1-based).
func instanceName(h int) string { return "host-" + strconv.Itoa(h) }

// fleet is the whole generated population: hosts x seriesPerHost series,
// host-major, plus one random source per host so that values do not depend
// on how many senders there are.
type fleet struct {
	hosts  int
	series []series
	rngs   []*rand.Rand
	models []model
}

// newFleet builds the series of hosts hosts, each assigned to one of
// shards senders by a hash of its labels.
func newFleet(hosts, shards int, seed uint64) *fleet {
	f := &fleet{hosts: hosts, models: hostModel(), series: make([]series, 0, hosts*seriesPerHost)}
	if len(f.models) != seriesPerHost {
		panic(fmt.Sprintf("host model has %d series, want %d", len(f.models), seriesPerHost))
	}
	for h := 1; h <= hosts; h++ {
		rng := rand.New(rand.NewPCG(seed, uint64(h)))
		f.rngs = append(f.rngs, rng)
		// Hosts differ in size and activity by up to +-50 %.
		scale := 0.5 + rng.Float64()
		for i := range f.models {
			m := &f.models[i]
			ls := []prompb.Label{{Name: "__name__", Value: m.name}, {Name: "instance", Value: instanceName(h)}, {Name: "job", Value: "node"}}
			for _, kv := range m.labels {
				ls = append(ls, prompb.Label{Name: kv[0], Value: kv[1]})
			}
			sort.Slice(ls, func(a, b int) bool { return ls[a].Name < ls[b].Name })
			v := m.initial
			if m.kind == counter || m.kind == walk {
				v = quantize(v*scale, m.quantum)
			}
			f.series = append(f.series, series{labels: ls, shard: shardOf(ls, shards), model: m, value: v})
		}
	}
	return f
}

// shardOf picks a sender for a series by a hash of its labels, so that each
// series' samples always travel, in order, through the same sender.
func shardOf(ls []prompb.Label, shards int) int {
	h := fnv.New64a()
	for _, l := range ls {
		h.Write([]byte(l.Name))
		h.Write([]byte{0xff})
		h.Write([]byte(l.Value))
		h.Write([]byte{0xff})
	}
	return int(h.Sum64() % uint64(shards))
}

// quantize rounds v to a multiple of q (q <= 0: unchanged).
func quantize(v, q float64) float64 {
	if q <= 0 {
		return v
	}
	r := math.Round(v/q) * q
	if q < 1 {
		// Remove the binary noise that the multiplication leaves, as a
		// text exposition parsed by a scraper would.
		digits := math.Ceil(-math.Log10(q))
		p := math.Pow(10, digits)
		r = math.Round(r*p) / p
	}
	return r
}

// next advances series s of host rng by one scrape interval and returns
// the new value.
func (s *series) next(rng *rand.Rand) float64 {
	m := s.model
	switch m.kind {
	case counter:
		// Busy and quiet periods: the increase varies by +-100 % around
		// its mean and is never negative.
		inc := m.rate * float64(scrapeInterval) / 1000 * (rng.Float64() * 2)
		s.value = quantize(s.value+inc, m.quantum)
	case walk:
		v := s.value + rng.NormFloat64()*m.step
		s.value = quantize(math.Min(math.Max(v, m.lo), m.hi), m.quantum)
	case smallInt:
		s.value = float64(int(m.lo) + rng.IntN(int(m.hi-m.lo)+1))
	}
	return s.value
}

// timestamp is the scrape time of host h (1-based) in round r: rounds are
// scrapeInterval apart from start, and hosts are spread over the interval
// as a real scraper spreads its targets. Prometheus aligns each target's
// scrape times to exact multiples of the interval (within its 2 ms
// timestamp tolerance), so by default there is no jitter; jitterMs > 0 adds
// up to that many milliseconds, as an unaligned scraper or agent would.
func timestamp(start int64, r, h, hosts int, jitterMs int64, rng *rand.Rand) int64 {
	offset := int64(h-1) * (scrapeInterval - 1000) / int64(hosts)
	t := start + int64(r)*scrapeInterval + offset
	if jitterMs > 0 {
		t += rng.Int64N(jitterMs + 1)
	}
	return t
}
