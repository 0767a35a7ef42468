package checks

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestComputeUptime(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	at := func(h float64) time.Time { return t0.Add(time.Duration(h * float64(time.Hour))) }
	ch := func(h float64, state string) Change { return Change{Time: at(h), State: state} }
	pct := func(p float64) *float64 { return &p }
	for _, tc := range []struct {
		name     string
		before   *Change
		changes  []Change
		from, to float64
		now      float64
		want     *float64
		downs    int
		unknown  float64
	}{
		{"no history", nil, nil, 0, 24, 48, nil, 0, 24 * 3600},
		{"up all along", &Change{Time: at(-5), State: "up"}, nil, 0, 24, 48, pct(100), 0, 0},
		{"one hour down in a day", &Change{Time: at(-5), State: "up"}, []Change{ch(10, "down"), ch(11, "up")}, 0, 24, 48, pct(95.8333), 1, 0},
		{"degraded counts as available", &Change{Time: at(-5), State: "up"}, []Change{ch(10, "degraded"), ch(20, "up")}, 0, 24, 48, pct(100), 0, 0},
		{"unknown time is left out", &Change{Time: at(-5), State: "up"}, []Change{ch(6, "unknown"), ch(18, "down"), ch(21, "up")}, 0, 24, 48, pct(75), 1, 12 * 3600},
		{"history starts inside the window", nil, []Change{ch(12, "up")}, 0, 24, 48, pct(100), 0, 12 * 3600},
		{"window capped at now", &Change{Time: at(-5), State: "down"}, []Change{ch(6, "up")}, 0, 24, 12, pct(50), 0, 0},
		{"down twice", &Change{Time: at(-5), State: "up"}, []Change{ch(1, "down"), ch(2, "up"), ch(3, "down"), ch(4, "degraded"), ch(5, "down"), ch(6, "up")}, 0, 24, 48, pct(87.5), 3, 0},
		{"window in the future", nil, nil, 30, 40, 24, nil, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := computeUptime(tc.before, tc.changes, at(tc.from), at(tc.to), at(tc.now))
			if tc.want == nil {
				require.Nil(t, u.Percent)
			} else {
				require.NotNil(t, u.Percent)
				require.InDelta(t, *tc.want, *u.Percent, 0.001)
			}
			require.Equal(t, tc.downs, u.Downs)
			require.InDelta(t, tc.unknown, u.UnknownSeconds, 0.001)
		})
	}
}

func TestMonthWindow(t *testing.T) {
	w := monthWindow(2026, time.December, time.UTC)
	require.Equal(t, "2026-12", w.Name)
	require.Equal(t, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), w.To)
	require.Equal(t, 31*24*time.Hour, w.To.Sub(w.From))
}
