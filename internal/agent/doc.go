// Package agent is the host agent's runtime: every interval it gathers the
// host collectors, labels the samples job="node" and instance=<host name>
// plus the user's labels, and hands them to a Sink; alongside it sends a
// heartbeat that feeds the server's host inventory.
//
// Two sinks exist. RemoteSink is what `saypro-monitor agent` uses: samples
// go to the durable remote-write queue of package remotewrite and
// heartbeats go over HTTP, both with the agent's bearer token. The server's
// in-process agent uses a sink that appends to the embedded store directly.
//
// With a server, the standalone agent also ships the host's logs: package
// tail follows the files and the journal and hands batches to a
// LogShipper, which queues them on disk and posts them to the server.
//
// The agent also serves /metrics (the same samples, pulled) and /-/healthy
// on its listen address, :9901 by default, so it can be scraped exactly
// like node_exporter.
package agent
