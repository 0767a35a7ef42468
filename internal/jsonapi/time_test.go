package jsonapi

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "1795316481", want: time.Unix(1795316481, 0).UTC()},
		{in: "1795316481.25", want: time.UnixMilli(1795316481250).UTC()},
		{in: "2026-11-22T03:00:00Z", want: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)},
		{in: "2026-11-22T05:00:00.5+02:00", want: time.Date(2026, 11, 22, 3, 0, 0, 5e8, time.UTC)},
		{in: "NaN", bad: true},
		{in: "+Inf", bad: true},
		{in: "-5", bad: true},
		{in: "1e30", bad: true},
		{in: "yesterday", bad: true},
		{in: "1969-12-31T00:00:00Z", bad: true},
	}
	def := time.Unix(42, 0)
	if got, err := ParseTime("", def); err != nil || !got.Equal(def) {
		t.Errorf(`ParseTime("") = %v, %v; want the default`, got, err)
	}
	for _, tc := range tests {
		got, err := ParseTime(tc.in, time.Time{})
		if tc.bad {
			if err == nil {
				t.Errorf("ParseTime(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
