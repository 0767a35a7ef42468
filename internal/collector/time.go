package collector

import (
	"bytes"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// timeCollector exports node_time_seconds, node_time_zone_offset_seconds
// and the clock sources of /sys/devices/system/clocksource.
type timeCollector struct {
	e                  *env
	now, zoneOffset    family
	available, current family
	zones              map[string][]*dto.LabelPair
	clockDirs          []string // clocksource0, …: found once
	clockLabels        map[[2]string][]*dto.LabelPair
}

func newTimeCollector(e *env) (collector, error) {
	return &timeCollector{
		e:           e,
		now:         newFamily("node_time_seconds", "System time in seconds since epoch (1970).", prometheus.GaugeValue),
		zoneOffset:  newFamily("node_time_zone_offset_seconds", "System time zone offset in seconds.", prometheus.GaugeValue, "time_zone"),
		available:   newFamily("node_time_clocksource_available_info", "Available clocksources read from '/sys/devices/system/clocksource'.", prometheus.GaugeValue, "device", "clocksource"),
		current:     newFamily("node_time_clocksource_current_info", "Current clocksource read from '/sys/devices/system/clocksource'.", prometheus.GaugeValue, "device", "clocksource"),
		zones:       map[string][]*dto.LabelPair{},
		clockLabels: map[[2]string][]*dto.LabelPair{},
	}, nil
}

func (c *timeCollector) update(ch chan<- prometheus.Metric) error {
	now := c.e.now()
	c.now.send(ch, float64(now.UnixNano())/1e9, nil)
	zone, offset := now.Zone()
	lp, ok := c.zones[zone]
	if !ok {
		if len(c.zones) > 16 {
			clear(c.zones)
		}
		lp = labelPairs("time_zone", zone)
		c.zones[zone] = lp
	}
	c.zoneOffset.send(ch, float64(offset), lp)
	return c.clocksources(ch)
}

// clocksources sends the available and current clock sources of every
// clocksource device. Their absence (some containers) is not an error.
func (c *timeCollector) clocksources(ch chan<- prometheus.Metric) error {
	if c.clockDirs == nil {
		dirs, err := filepath.Glob(c.e.sysPath("devices", "system", "clocksource", "clocksource[0-9]*"))
		if err != nil || len(dirs) == 0 {
			return nil
		}
		c.clockDirs = dirs
	}
	for _, dir := range c.clockDirs {
		device := filepath.Base(dir)[len("clocksource"):]
		available, err := c.e.buf.read(filepath.Join(dir, "available_clocksource"))
		if err != nil {
			c.clockDirs = nil // look again next time
			return nil
		}
		for _, name := range bytes.Fields(available) {
			c.available.send(ch, 1, c.clockLabel(device, name))
		}
		current, err := c.e.buf.read(filepath.Join(dir, "current_clocksource"))
		if err != nil {
			c.clockDirs = nil
			return nil
		}
		if name := bytes.TrimSpace(current); len(name) > 0 {
			c.current.send(ch, 1, c.clockLabel(device, name))
		}
	}
	return nil
}

// clockLabel returns the label pairs of a clock source of a device.
func (c *timeCollector) clockLabel(device string, name []byte) []*dto.LabelPair {
	lp, ok := c.clockLabels[[2]string{device, string(name)}]
	if !ok {
		if len(c.clockLabels) > 64 {
			clear(c.clockLabels)
		}
		lp = labelPairs("device", device, "clocksource", string(name))
		c.clockLabels[[2]string{device, string(name)}] = lp
	}
	return lp
}

// clockState is the kernel clock's state as adjtimex(2) reports it, in the
// kernel's units.
type clockState struct {
	synced bool // the call did not return TIME_ERROR
	nano   bool // STA_NANO: offset and jitter are in ns, not µs

	offset, freq, maxError, estError, status, constant, tick int64
	ppsFreq, jitter, shift, stability                        int64
	jitterCnt, calibCnt, errorCnt, stbCnt, tai               int64
}

// timexCollector exports node_timex_* from adjtimex(2).
type timexCollector struct {
	e                                                            *env
	offset, freq, maxError, estError, status, constant, tick     family
	ppsFreq, ppsJitter, ppsShift, ppsStability                   family
	ppsJitterCnt, ppsCalibCnt, ppsErrorCnt, ppsStbCnt, tai, sync family
}

func newTimexCollector(e *env) (collector, error) {
	g := func(name, help string) family { return newFamily("node_timex_"+name, help, prometheus.GaugeValue) }
	ctr := func(name, help string) family { return newFamily("node_timex_"+name, help, prometheus.CounterValue) }
	return &timexCollector{
		e:            e,
		offset:       g("offset_seconds", "Time offset in between local system and reference clock."),
		freq:         g("frequency_adjustment_ratio", "Local clock frequency adjustment."),
		maxError:     g("maxerror_seconds", "Maximum error in seconds."),
		estError:     g("estimated_error_seconds", "Estimated error in seconds."),
		status:       g("status", "Value of the status array bits."),
		constant:     g("loop_time_constant", "Phase-locked loop time constant."),
		tick:         g("tick_seconds", "Seconds between clock ticks."),
		ppsFreq:      g("pps_frequency_hertz", "Pulse per second frequency."),
		ppsJitter:    g("pps_jitter_seconds", "Pulse per second jitter."),
		ppsShift:     g("pps_shift_seconds", "Pulse per second interval duration."),
		ppsStability: g("pps_stability_hertz", "Pulse per second stability, average of recent frequency changes."),
		ppsJitterCnt: ctr("pps_jitter_total", "Pulse per second count of jitter limit exceeded events."),
		ppsCalibCnt:  ctr("pps_calibration_total", "Pulse per second count of calibration intervals."),
		ppsErrorCnt:  ctr("pps_error_total", "Pulse per second count of calibration errors."),
		ppsStbCnt:    ctr("pps_stability_exceeded_total", "Pulse per second count of stability limit exceeded events."),
		tai:          g("tai_offset_seconds", "International Atomic Time (TAI) offset."),
		sync:         g("sync_status", "Is clock synchronized to a reliable server (1 = yes, 0 = no)."),
	}, nil
}

func (c *timexCollector) update(ch chan<- prometheus.Metric) error {
	s, err := c.e.clock()
	if err != nil {
		return err
	}
	c.sendState(ch, s)
	return nil
}

// sendState converts the kernel's units: offsets in µs (ns with STA_NANO),
// errors and tick in µs, frequencies in ppm scaled by 2^16.
func (c *timexCollector) sendState(ch chan<- prometheus.Metric, s clockState) {
	divisor := 1e6
	if s.nano {
		divisor = 1e9
	}
	const ppm16 = 65536 * 1e6
	synced := 0.0
	if s.synced {
		synced = 1
	}
	c.sync.send(ch, synced, nil)
	c.offset.send(ch, float64(s.offset)/divisor, nil)
	c.freq.send(ch, 1+float64(s.freq)/ppm16, nil)
	c.maxError.send(ch, float64(s.maxError)/1e6, nil)
	c.estError.send(ch, float64(s.estError)/1e6, nil)
	c.status.send(ch, float64(s.status), nil)
	c.constant.send(ch, float64(s.constant), nil)
	c.tick.send(ch, float64(s.tick)/1e6, nil)
	c.ppsFreq.send(ch, float64(s.ppsFreq)/ppm16, nil)
	c.ppsJitter.send(ch, float64(s.jitter)/divisor, nil)
	c.ppsShift.send(ch, float64(s.shift), nil)
	c.ppsStability.send(ch, float64(s.stability)/ppm16, nil)
	c.ppsJitterCnt.send(ch, float64(s.jitterCnt), nil)
	c.ppsCalibCnt.send(ch, float64(s.calibCnt), nil)
	c.ppsErrorCnt.send(ch, float64(s.errorCnt), nil)
	c.ppsStbCnt.send(ch, float64(s.stbCnt), nil)
	c.tai.send(ch, float64(s.tai), nil)
}
