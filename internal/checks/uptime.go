package checks

import (
	"math"
	"time"
)

// StateUnknown is recorded when nothing is known of a check at a
// location: the server stopped, the agent went silent, or the check was
// removed. Unknown time does not count for or against uptime.
const StateUnknown = "unknown"

// Change is a row of a check's history: from Time on, the check was in
// State for Reason, until the next change.
type Change struct {
	Check    string    `json:"check"`
	Location string    `json:"location"`
	Time     time.Time `json:"time"`
	State    string    `json:"state"`
	Reason   string    `json:"reason,omitempty"`
}

// Uptime is how a check did over a window.
type Uptime struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Percent is the share of the known time that the check was up or
	// degraded (slow is available); nil when nothing is known.
	Percent         *float64 `json:"percent"`
	UpSeconds       float64  `json:"up_seconds"`
	DegradedSeconds float64  `json:"degraded_seconds"`
	DownSeconds     float64  `json:"down_seconds"`
	UnknownSeconds  float64  `json:"unknown_seconds"`
	// Downs counts the times the check went down within the window.
	Downs int `json:"downs"`
}

// computeUptime sums the time spent in each state between from and to
// (capped at now). before is the last change before from (nil when the
// check has no earlier history); changes are those in [from, to), oldest
// first.
func computeUptime(before *Change, changes []Change, from, to, now time.Time) Uptime {
	if to.After(now) {
		to = now
	}
	u := Uptime{From: from, To: to}
	if !to.After(from) {
		return u
	}
	state, at := StateUnknown, from
	if before != nil {
		state = before.State
	}
	add := func(until time.Time) {
		d := until.Sub(at).Seconds()
		if d <= 0 {
			return
		}
		switch state {
		case "up":
			u.UpSeconds += d
		case "degraded":
			u.DegradedSeconds += d
		case "down":
			u.DownSeconds += d
		default:
			u.UnknownSeconds += d
		}
	}
	for _, c := range changes {
		if c.Time.Before(from) || !c.Time.Before(to) {
			continue
		}
		add(c.Time)
		if c.State == "down" && state != "down" {
			u.Downs++
		}
		state, at = c.State, c.Time
	}
	add(to)
	known := u.UpSeconds + u.DegradedSeconds + u.DownSeconds
	if known > 0 {
		p := 100 * (u.UpSeconds + u.DegradedSeconds) / known
		p = math.Round(p*1e4) / 1e4
		u.Percent = &p
	}
	return u
}

// Window is a named period ending now, or a calendar month.
type Window struct {
	Name     string
	From, To time.Time
}

// standardWindows are the windows of every check in the list: the last
// 24 hours, 7 days and 30 days.
func standardWindows(now time.Time) []Window {
	return []Window{
		{"24h", now.Add(-24 * time.Hour), now},
		{"7d", now.Add(-7 * 24 * time.Hour), now},
		{"30d", now.Add(-30 * 24 * time.Hour), now},
	}
}

// monthWindow is the calendar month holding t, in loc.
func monthWindow(year int, month time.Month, loc *time.Location) Window {
	from := time.Date(year, month, 1, 0, 0, 0, 0, loc)
	return Window{Name: from.Format("2006-01"), From: from, To: from.AddDate(0, 1, 0)}
}
