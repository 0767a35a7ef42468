// Command alertbench is the tool of the alerting benchmark in bench/alerting
// (run by bench/alerting/run.sh). It writes a saypro-monitor configuration
// whose Alertmanager notifies webhooks served by alertbench itself, then,
// against the running server, measures:
//
//  1. alert latency: from the remote-written sample that crosses a rule's
//     threshold to the webhook's firing notification, over several trials
//     whose moment relative to the rule evaluation is spread over the
//     evaluation interval;
//  2. load isolation: the notification latency of a new alert group posted
//     to /api/v2/alerts, first with nothing else going on, then with 10,000
//     firing alerts in 500 groups re-posted every 30 s and notified to a
//     slow webhook; with the server's RSS.
//
// Subcommands:
//
//	config     write the server configuration and its rule file
//	run        run both measurements and write the results
//	freeport   print a free TCP port on 127.0.0.1
package main

import "github.com/saypro/monitor/bench/subcmd"

const toolName = "alertbench"

func main() {
	subcmd.Tool{Name: toolName, Commands: []subcmd.Command{
		{Name: "config", Summary: "write a saypro-monitor configuration and rule file for the benchmark", Run: cmdConfig},
		{Name: "run", Summary: "measure alert latency and load isolation against a running server", Run: cmdRun},
		subcmd.FreePort(toolName),
	}}.Main()
}
