// Command probebench is the tool of the health-check benchmark in
// bench/probe (run by bench/probe/run.sh): a local target server with fast,
// slow and hanging HTTP targets, our probing engine in process, a load
// driver for blackbox_exporter, and the measuring and reporting of CPU,
// RSS, runs and schedule lateness of each prober.
//
// Subcommands:
//
//	targets    serve the targets on several loopback listeners
//	config     write a saypro-monitor server configuration with the checks
//	prober     run probe.Scheduler in process on the checks (the engine alone)
//	measure    measure one prober over a window (driving blackbox_exporter when asked)
//	report     combine the measurements into a markdown table and a JSON file
//	freeport   print a free TCP port on 127.0.0.1
package main

import "github.com/saypro/monitor/bench/subcmd"

const toolName = "probebench"

func main() {
	subcmd.Tool{Name: toolName, Commands: []subcmd.Command{
		{Name: "targets", Summary: "serve fast, slow and hanging HTTP targets on loopback listeners", Run: cmdTargets},
		{Name: "config", Summary: "write a saypro-monitor server configuration with the checks", Run: cmdConfig},
		{Name: "prober", Summary: "run probe.Scheduler in process on the checks, /metrics on --listen", Run: cmdProber},
		{Name: "measure", Summary: "measure one prober over a window; drive blackbox_exporter with --blackbox", Run: cmdMeasure},
		{Name: "report", Summary: "combine measurements into results .md and .json", Run: cmdReport},
		subcmd.FreePort(toolName),
	}}.Main()
}
