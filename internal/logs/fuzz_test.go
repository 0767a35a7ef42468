package logs_test

import (
	"net/http/httptest"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/saypro/monitor/internal/logs"
)

// FuzzParseFilter checks that any query string is either refused or gives
// a filter with a range and a valid regex, which FilterQuery writes back
// to the same filter (times to the second).
func FuzzParseFilter(f *testing.F) {
	for _, q := range []string{
		"",
		"host=web1&host=web2,db1&severity=err&field=event:ssh_failed&q=%22password+for%22+root&regex=port+%5Cd%2B",
		"start=1700000000&end=2026-11-22T02:38:10Z",
		"start=1700000000.5&end=1700003600",
		"field=a:b:c&field=x:",
		"regex=(&start=NaN",
		"q=%22unclosed&source=,,auth,",
	} {
		f.Add(q)
	}
	now := time.Date(2026, 11, 22, 2, 38, 10, 0, time.UTC)
	f.Fuzz(func(t *testing.T, query string) {
		r := httptest.NewRequest("GET", "/api/v1/logs/query", nil)
		r.URL.RawQuery = query
		fl, err := logs.ParseFilter(r, now)
		if err != nil {
			return
		}
		if !fl.Start.Before(fl.End) {
			t.Fatalf("%q: start %s not before end %s", query, fl.Start, fl.End)
		}
		if _, err := regexp.Compile(fl.Regex); err != nil {
			t.Fatalf("%q: regex %q accepted: %v", query, fl.Regex, err)
		}
		for _, fm := range fl.Fields {
			if fm.Name == "" {
				t.Fatalf("%q: a field without a name", query)
			}
		}
		if fl.Start.Unix() == fl.End.Unix() {
			return // does not survive rounding to seconds
		}
		r2 := httptest.NewRequest("GET", "/api/v1/logs/query", nil)
		r2.URL.RawQuery = logs.FilterQuery(fl).Encode()
		again, err := logs.ParseFilter(r2, now)
		if err != nil {
			t.Fatalf("%q: FilterQuery gives %q, refused: %v", query, r2.URL.RawQuery, err)
		}
		if again.Start.Unix() != fl.Start.Unix() || again.End.Unix() != fl.End.Unix() {
			t.Fatalf("%q: range %s..%s came back as %s..%s", query, fl.Start, fl.End, again.Start, again.End)
		}
		fl.Start, fl.End, again.Start, again.End = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !reflect.DeepEqual(fl, again) {
			t.Fatalf("%q: %+v came back as %+v", query, fl, again)
		}
	})
}
