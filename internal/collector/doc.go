// Package collector gathers the metrics of the host the agent runs on, with
// node_exporter's metric names, types, units and label names, so that
// Grafana dashboards and alert rules written for node_exporter work
// unchanged.
//
// A Node is a prometheus.Collector made of one collector per subsystem, one
// file each: cpu, loadavg, meminfo, vmstat, pressure, diskstats,
// filesystem, netclass, netdev, tcpstat, sockstat, netstat, stat, filefd,
// entropy, time, timex, uname, os, uptime and agent (see Names). Each
// collector reports node_scrape_collector_success and
// node_scrape_collector_duration_seconds{collector} as node_exporter's do;
// one that cannot read or parse its source (a file missing in a container,
// an old kernel) reports success 0 and is logged once, until it recovers,
// while the others go on. Metrics that node_exporter does not have are
// named saypro_*.
//
// Collectors read procfs and sysfs under configurable roots (Options), so
// the agent can run in a container with the host's /proc, /sys and / mounted
// elsewhere, and tests can run on fixture trees. Parsing is separate from
// I/O: each file has a pure parse function, tested on strings and fuzzed.
//
// The files read on every collection are parsed here rather than with
// github.com/prometheus/procfs, whose parsers (fmt.Sscanf, bufio, maps) cost
// 2 to 10 times as much CPU and allocate on every call (BenchmarkParse
// compares them); these read into a reused buffer with raw system calls and
// allocate nothing; HostInfo, asked for on every heartbeat, uses them too.
// TCP sockets are counted over netlink sock_diag, as node_exporter does,
// when reading the live /proc (see tcpstatCollector).
//
// Cost matters: the agent runs on every server. Descriptors and label pairs
// are built once and reused, /proc/stat is read once per collection for both
// the cpu and stat collectors, collectors run one after the other, and only
// statfs calls run in goroutines, so that a hung network mount cannot hang a
// collection (see Options.StatfsTimeout).
package collector
