// Command saypro-agent is the SayPro host agent on its own: the same agent
// as `saypro-monitor agent`, in a binary that carries none of the server,
// so that it stays small in memory on the hosts it watches.
package main

import (
	"os"

	"github.com/saypro/monitor/internal/agentcmd"
)

func main() {
	os.Exit(agentcmd.Main("saypro-agent", os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}
