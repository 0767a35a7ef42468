package jsonapi

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// ParseTime reads a time parameter as the Prometheus API does: RFC 3339
// or Unix seconds (with a fraction), in UTC; "" is def. Times before 1970
// or after the year 5000 (and NaN or infinite numbers) are errors that
// name the value.
func ParseTime(s string, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || f < 0 || f > 1e11 {
			return time.Time{}, fmt.Errorf("%q is not a time between 1970 and the year 5000", s)
		}
		return time.UnixMilli(int64(f * 1000)).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 1970 || t.Year() > 5000 {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2026-11-20T12:00:00Z) nor Unix seconds", s)
	}
	return t.UTC(), nil
}
