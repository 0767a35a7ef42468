// Package inventory is the server's host inventory, filled from agent
// heartbeats (agentapi.Heartbeat, about every 15 s per agent) and kept in
// the state store.
//
// For each host, named by its instance label, it keeps the latest
// heartbeat's facts (host name, OS, kernel, architecture, CPUs, memory,
// agent version, labels, boot time, agent start time), when it was first
// and last seen, and whether it is up or down. It records events:
//
//   - registered: the first heartbeat of an instance, at the time it arrived.
//   - reboot: the boot time moved by more than BootTimeTolerance (the
//     kernel's btime jitters by a second as the clock is adjusted), at the
//     new boot time.
//   - agent_restart: the agent's start time changed, at the new start time.
//   - down: no heartbeat for DownAfter (default 2 minutes, or two
//     heartbeat intervals if the agent reports that it sends less often), at
//     the time the sweeper noticed, with the last heartbeat's time.
//   - up: a heartbeat from a host marked down, at its arrival.
//
// A reboot restarts the agent as well; such a heartbeat gets the reboot
// event only, whose details carry the new agent start time, so that one
// cause gives one event. Conversely a boot time that moves while the agent
// keeps running is not a reboot but a step of the host's clock (btime is
// derived from the wall clock): it is logged, not recorded.
//
// The sweeper (Run) marks silent hosts down every few seconds. After a
// server start every host gets DownAfter from the start before it can be
// marked down, so that restarting the server does not mark every host down.
//
// Metrics: saypro_host_up{instance} (1 up, 0 down, one series per known
// host, the input of the HostDown alert rule), saypro_inventory_hosts{status}
// and saypro_inventory_heartbeats_total{result}; the first two are read from
// the store at each scrape.
//
// HTTP: HeartbeatHandler receives heartbeats (authentication is the
// caller's); APIHandler serves GET /api/v1/hosts and
// GET /api/v1/hosts/{instance} in the JSON envelope of the Prometheus API.
package inventory
