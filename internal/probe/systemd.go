package probe

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// D-Bus names of systemd's manager and units.
const (
	systemdBusName    = "org.freedesktop.systemd1"
	systemdPath       = dbus.ObjectPath("/org/freedesktop/systemd1")
	systemdManager    = "org.freedesktop.systemd1.Manager"
	systemdUnit       = "org.freedesktop.systemd1.Unit"
	systemdService    = "org.freedesktop.systemd1.Service"
	systemdNoSuchUnit = "org.freedesktop.systemd1.NoSuchUnit"
)

// systemdActiveStates are the values of a unit's ActiveState, each a
// saypro_systemd_unit_state series (as node_exporter's
// node_systemd_unit_state).
var systemdActiveStates = [...]string{"active", "reloading", "inactive", "failed", "activating", "deactivating", "maintenance", "refreshing"}

// systemdUnitTypes are the suffixes that make a target a unit name; any
// other name is a service.
var systemdUnitTypes = [...]string{"service", "socket", "device", "mount", "automount", "swap", "target", "path", "timer", "slice", "scope"}

type systemdProber struct {
	unit string
	// busAddress is the D-Bus address to ask; empty is the system bus.
	busAddress string
	// systemctl runs `systemctl show` for the unit, used when the bus
	// cannot be reached.
	systemctl func(ctx context.Context, unit string) ([]byte, error)
	logger    *slog.Logger
}

func newSystemd(c *checkconfig.Check, env Env) (Prober, error) {
	if runtime.GOOS != "linux" {
		return nil, fmt.Errorf("systemd checks: %w", ErrNotSupported)
	}
	unit := strings.TrimSpace(c.Target)
	if unit == "" {
		return nil, errors.New("a systemd check needs a unit name such as nginx.service")
	}
	return &systemdProber{unit: systemdUnitName(unit), systemctl: runSystemctlShow, logger: env.Logger}, nil
}

// systemdUnitName appends .service to a name without a unit type.
func systemdUnitName(name string) string {
	if ext := path.Ext(name); ext != "" && slices.Contains(systemdUnitTypes[:], ext[1:]) {
		return name
	}
	return name + ".service"
}

// unitStatus is what the check reads of a unit.
type unitStatus struct {
	ActiveState, SubState, LoadState string
	// Restarts is NRestarts, when the unit is a service and systemd has it
	// (235 and later).
	Restarts    uint32
	HasRestarts bool
	// Started is ExecMainStartTimestamp; zero when unknown.
	Started time.Time
}

// Probe asks systemd over D-Bus, or with systemctl when the bus cannot be
// reached, and reports the unit's state.
func (s *systemdProber) Probe(ctx context.Context) Result {
	var r Result
	st, err := s.viaDBus(ctx)
	if err != nil && systemdBusUnavailable(err) {
		s.logger.Debug("systemd check falls back to systemctl", "unit", s.unit, "err", err)
		out, cerr := s.systemctl(ctx, s.unit)
		if cerr == nil {
			st, cerr = parseSystemctlShow(out)
		}
		if cerr != nil {
			return r.Failf("cannot ask systemd about %s: D-Bus: %v; systemctl: %v", s.unit, err, cerr)
		}
		err = nil
	}
	if err != nil {
		return r.Failf("asking systemd about %s: %v", s.unit, err)
	}
	return s.evaluate(r, st)
}

func (s *systemdProber) evaluate(r Result, st unitStatus) Result {
	known := false
	for _, state := range systemdActiveStates {
		v := 0.0
		if state == st.ActiveState {
			v, known = 1, true
		}
		r.Add("saypro_systemd_unit_state", v, "state", state)
	}
	if !known && st.ActiveState != "" {
		r.Add("saypro_systemd_unit_state", 1, "state", st.ActiveState)
	}
	if st.HasRestarts {
		r.Add("saypro_systemd_unit_restarts_total", float64(st.Restarts))
	}
	if !st.Started.IsZero() {
		r.Add("saypro_systemd_unit_start_time_seconds", float64(st.Started.UnixMicro())/1e6)
	}
	switch {
	case st.ActiveState == "active":
	case st.LoadState != "loaded":
		return r.Failf("unit %s is not loaded (%s)", s.unit, st.LoadState)
	case st.ActiveState == "reloading" || st.ActiveState == "activating" || st.ActiveState == "refreshing":
		r.Warnf("unit %s is %s (sub-state %s)", s.unit, st.ActiveState, st.SubState)
	default:
		return r.Failf("unit %s is %s (sub-state %s)", s.unit, st.ActiveState, st.SubState)
	}
	r.Success = true
	return r
}

// viaDBus reads the unit's properties from systemd's objects on the bus.
func (s *systemdProber) viaDBus(ctx context.Context) (unitStatus, error) {
	var st unitStatus
	var conn *dbus.Conn
	var err error
	if s.busAddress == "" {
		conn, err = dbus.ConnectSystemBus(dbus.WithContext(ctx))
	} else {
		conn, err = dbus.Connect(s.busAddress, dbus.WithContext(ctx))
	}
	if err != nil {
		return st, &systemdBusError{err}
	}
	defer conn.Close()

	// No auto-start: the bus would try to activate systemd with
	// /bin/false when it is not running.
	const flags = dbus.FlagNoAutoStart
	manager := conn.Object(systemdBusName, systemdPath)
	var unitPath dbus.ObjectPath
	err = manager.CallWithContext(ctx, systemdManager+".GetUnit", flags, s.unit).Store(&unitPath)
	var derr dbus.Error
	if errors.As(err, &derr) && derr.Name == systemdNoSuchUnit {
		// Not loaded: LoadUnit says why (not-found, masked, bad-setting).
		err = manager.CallWithContext(ctx, systemdManager+".LoadUnit", flags, s.unit).Store(&unitPath)
	}
	if err != nil {
		return st, err
	}
	unit := conn.Object(systemdBusName, unitPath)
	get := func(iface, name string, dst any) error {
		var v dbus.Variant
		if err := unit.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", flags, iface, name).Store(&v); err != nil {
			return fmt.Errorf("property %s: %w", name, err)
		}
		if err := v.Store(dst); err != nil {
			return fmt.Errorf("property %s: %w", name, err)
		}
		return nil
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"LoadState", &st.LoadState}, {"ActiveState", &st.ActiveState}, {"SubState", &st.SubState}} {
		if err := get(systemdUnit, p.name, p.dst); err != nil {
			return st, err
		}
	}
	if strings.HasSuffix(s.unit, ".service") && st.LoadState == "loaded" {
		// Older systemd has no NRestarts: the metric is left out.
		if err := get(systemdService, "NRestarts", &st.Restarts); err == nil {
			st.HasRestarts = true
		} else {
			s.logger.Debug("systemd check: no restart count", "unit", s.unit, "err", err)
		}
		var usec uint64
		if err := get(systemdService, "ExecMainStartTimestamp", &usec); err == nil && usec > 0 && usec < 1<<62 {
			st.Started = time.UnixMicro(int64(usec))
		}
	}
	return st, nil
}

// systemdBusError is a failure to connect to the bus.
type systemdBusError struct{ err error }

func (e *systemdBusError) Error() string { return "connecting to the bus: " + e.err.Error() }
func (e *systemdBusError) Unwrap() error { return e.err }

// systemdBusUnavailable reports whether err means systemd cannot be asked
// over D-Bus (no bus, or no systemd on it), so that systemctl is worth a
// try.
func systemdBusUnavailable(err error) bool {
	var be *systemdBusError
	if errors.As(err, &be) {
		return true
	}
	var derr dbus.Error
	return errors.As(err, &derr) && (derr.Name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
		derr.Name == "org.freedesktop.DBus.Error.NameHasNoOwner" ||
		strings.HasPrefix(derr.Name, "org.freedesktop.DBus.Error.Spawn."))
}

func runSystemctlShow(ctx context.Context, unit string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "systemctl", "show", "--property=ActiveState,SubState,LoadState,NRestarts", "--", unit)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("%w: %s", err, systemdFirstLine(msg))
		}
		return nil, err
	}
	return out, nil
}

// parseSystemctlShow reads the KEY=value lines of `systemctl show`.
// LoadState and ActiveState are required; NRestarts is optional (older
// systemd, units that are not services).
func parseSystemctlShow(out []byte) (unitStatus, error) {
	var st unitStatus
	var haveLoad, haveActive bool
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch key {
		case "LoadState":
			st.LoadState, haveLoad = value, true
		case "ActiveState":
			st.ActiveState, haveActive = value, true
		case "SubState":
			st.SubState = value
		case "NRestarts":
			if n, err := strconv.ParseUint(value, 10, 32); err == nil {
				st.Restarts, st.HasRestarts = uint32(n), true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return st, fmt.Errorf("reading systemctl show: %w", err)
	}
	if !haveLoad || !haveActive || st.LoadState == "" || st.ActiveState == "" {
		return st, errors.New("systemctl show printed no LoadState or ActiveState")
	}
	return st, nil
}

func systemdFirstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
