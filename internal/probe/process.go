package probe

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/prometheus/procfs"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// commLen is the longest name /proc/<pid>/comm holds (TASK_COMM_LEN - 1);
// the kernel cuts longer names there.
const commLen = 15

type processProber struct {
	name     string // Target; empty when matching by command line only
	re       *regexp.Regexp
	min, max int
	procPath string
	logger   *slog.Logger
}

func newProcess(c *checkconfig.Check, env Env) (Prober, error) {
	p := &processProber{
		name:     strings.TrimSpace(c.Target),
		min:      c.Process.MinCount,
		max:      c.Process.MaxCount,
		procPath: env.ProcPath,
		logger:   env.Logger,
	}
	if p.procPath == "" {
		p.procPath = procfs.DefaultMountPoint
	}
	if p.min < 1 {
		p.min = 1
	}
	if re := c.Process.CmdlineRegex; re != "" {
		var err error
		if p.re, err = regexp.Compile(re); err != nil {
			return nil, fmt.Errorf("cmdline_regex: %w", err)
		}
	}
	if p.name == "" && p.re == nil {
		return nil, errors.New("a process check needs a target (the process name) or process.cmdline_regex")
	}
	return p, nil
}

// processTotals is what the matching processes add up to.
type processTotals struct {
	count  int
	cpu    float64 // seconds
	rss    int     // bytes
	oldest procfs.ProcStat
}

// Probe scans the process table. Per process it reads comm when matching
// by name, cmdline only when a regex is set (and the name matched), and
// stat only for matches. Processes that exit during the scan are skipped.
func (p *processProber) Probe(ctx context.Context) Result {
	var r Result
	pfs, err := procfs.NewFS(p.procPath)
	if err != nil {
		return r.Failf("reading the process table: %v", err)
	}
	procs, err := pfs.AllProcs()
	if err != nil {
		return r.Failf("reading the process table: %v", err)
	}
	self := procSelfPID(p.procPath)
	var t processTotals
	for i, proc := range procs {
		if i%64 == 0 && ctx.Err() != nil {
			return r.Failf("scanning %d processes: %v", len(procs), context.Cause(ctx))
		}
		if p.re != nil && proc.PID == self {
			continue
		}
		ok, err := p.matches(proc)
		if err == nil && ok {
			err = t.add(proc)
		}
		if err != nil && !procVanished(err) {
			p.logger.Debug("process check skipped a process", "pid", proc.PID, "err", err)
		}
	}
	r.Add("saypro_process_count", float64(t.count))
	r.Add("saypro_process_cpu_seconds_total", t.cpu)
	r.Add("saypro_process_resident_memory_bytes", float64(t.rss))
	if t.count > 0 {
		if start, err := t.oldest.StartTime(); err == nil {
			r.Add("saypro_process_oldest_start_time_seconds", start)
		}
	}
	switch {
	case t.count == 0:
		return r.Failf("no process %s is running", p.describe())
	case t.count < p.min:
		return r.Failf("%s, at least %d expected", processMatchCount(t.count), p.min)
	case p.max > 0 && t.count > p.max:
		return r.Failf("%s, at most %d expected", processMatchCount(t.count), p.max)
	}
	r.Success = true
	return r
}

// matches reports whether proc is one of the check's processes.
func (p *processProber) matches(proc procfs.Proc) (bool, error) {
	var argv []string
	if p.name != "" {
		comm, err := proc.Comm()
		if err != nil {
			return false, err
		}
		switch {
		case comm == p.name:
		case len(p.name) > commLen && comm == p.name[:commLen]:
			// comm is cut at 15 bytes; argv[0] holds the whole name.
			if argv, err = proc.CmdLine(); err != nil {
				return false, err
			}
			if len(argv) == 0 || filepath.Base(argv[0]) != p.name {
				return false, nil
			}
		default:
			return false, nil
		}
	}
	if p.re == nil {
		return true, nil
	}
	if argv == nil {
		var err error
		if argv, err = proc.CmdLine(); err != nil {
			return false, err
		}
	}
	// Kernel threads and zombies have no command line.
	if len(argv) == 0 {
		return false, nil
	}
	return p.re.MatchString(strings.Join(argv, " ")), nil
}

// add counts a matching process unless it is a zombie.
func (t *processTotals) add(proc procfs.Proc) error {
	st, err := proc.Stat()
	if err != nil {
		return err
	}
	if st.State == "Z" || st.State == "X" {
		return nil
	}
	if t.count == 0 || st.Starttime < t.oldest.Starttime {
		t.oldest = st
	}
	t.count++
	t.cpu += st.CPUTime()
	t.rss += st.ResidentMemory()
	return nil
}

func (p *processProber) describe() string {
	switch {
	case p.re == nil:
		return "named " + p.name
	case p.name == "":
		return fmt.Sprintf("with a command line matching %q", p.re)
	}
	return fmt.Sprintf("named %s with a command line matching %q", p.name, p.re)
}

func processMatchCount(n int) string {
	if n == 1 {
		return "1 process matches"
	}
	return strconv.Itoa(n) + " processes match"
}

// procSelfPID is this process's pid as seen in the proc file system at path
// (it differs from os.Getpid under another pid namespace's /proc), or -1.
func procSelfPID(path string) int {
	link, err := os.Readlink(filepath.Join(path, "self"))
	if err != nil {
		return -1
	}
	pid, err := strconv.Atoi(link)
	if err != nil {
		return -1
	}
	return pid
}

// procVanished reports whether err comes from a process that exited while it
// was read.
func procVanished(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}
