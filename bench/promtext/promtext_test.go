package promtext

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestScan(t *testing.T) {
	text := "# HELP http_requests_total Requests.\n" +
		"# TYPE http_requests_total counter\n" +
		"http_requests_total{code=\"200\",path=\"/a b\"} 1027 1395066363000\n" +
		"http_requests_total{code=\"400\",path=\"/{x}\"} 3\n" +
		"\n" +
		"http_requests_total_created 1.7e+09\n" +
		"# TYPE up gauge\n" +
		"up 1\n" +
		"rpc_duration_seconds_bucket{le=\"+Inf\"} 17\n"
	for _, tc := range []struct {
		name  string
		text  string
		names []string
		want  []string // name|labels|value per call
		err   string   // a part of the error, "" for none
	}{
		{"labels with spaces and braces, timestamp", text, []string{"http_requests_total"},
			[]string{`http_requests_total|code="200",path="/a b"|1027`, `http_requests_total|code="400",path="/{x}"|3`}, ""},
		{"no labels, not a longer name", text, []string{"up"}, []string{"up||1"}, ""},
		{"several names, in order of the lines", text, []string{"rpc_duration_seconds_bucket", "http_requests_total_created"},
			[]string{"http_requests_total_created||1.7e+09", `rpc_duration_seconds_bucket|le="+Inf"|17`}, ""},
		{"absent name", text, []string{"absent"}, nil, ""},
		{"no names", text, nil, nil, ""},
		{"unclosed label set", "x{a=\"1\" 3\n", []string{"x"}, nil, `malformed metric line "x{a=\"1\" 3"`},
		{"no value", "x{a=\"1\"}\n", []string{"x"}, nil, "malformed metric line"},
		{"bad value", "x abc\n", []string{"x"}, nil, `metric line "x abc": strconv.ParseFloat`},
		{"malformed line of another metric is skipped", "y{\nx 1\n", []string{"x"}, []string{"x||1"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			err := Scan(strings.NewReader(tc.text), tc.names, func(name, labels string, value float64) error {
				got = append(got, fmt.Sprintf("%s|%s|%g", name, labels, value))
				return nil
			})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v; want one with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestScanFuncError(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	err := Scan(strings.NewReader("x 1\nx 2\n"), []string{"x"}, func(string, string, float64) error {
		calls++
		return boom
	})
	if !errors.Is(err, boom) || err.Error() != `metric line "x 1": boom` || calls != 1 {
		t.Fatalf("err %v after %d calls; want boom, quoting the first line, after one", err, calls)
	}
}
