package procstat

import (
	"os"
	"runtime"
	"testing"
)

func TestParseStatCPU(t *testing.T) {
	fields := "S 1 2 3 4 5 6 7 8 9 10 1234 567 0 0 20 0 9 0 100"
	for _, tc := range []struct {
		name, stat string
		want       int64
		err        bool
	}{
		{"plain", "4242 (prometheus) " + fields, 1801, false},
		{"spaces and parens in the name", "4242 (a (b) c) " + fields, 1801, false},
		{"a real line, odd name", "1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 125 0 0 20 0 8 0 100 1000 200 18446744073709551615\n", 375, false},
		{"no name", "4242 prometheus " + fields, 0, true},
		{"too short", "4242 (x) S 1 2 3", 0, true},
		{"very short", "1234 (x) S 1 2", 0, true},
		{"not a number", "4242 (x) S 1 2 3 4 5 6 7 8 9 10 abc 5", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatCPU(tc.stat)
			if tc.err {
				if err == nil {
					t.Fatalf("parseStatCPU = %d, nil; want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseStatCPU = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func TestParseStatusMemory(t *testing.T) {
	for _, tc := range []struct {
		name, status string
		rss, hwm     int64
		err          bool
	}{
		{"both", "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nThreads: 3\n", 1024 << 10, 2048 << 10, false},
		{"RSS first", "Name:\tx\nVmRSS:\t   10240 kB\nVmHWM:\t   20480 kB\n", 10240 << 10, 20480 << 10, false},
		{"missing HWM", "VmRSS:\t  1024 kB\n", 0, 0, true},
		{"no Vm lines (kernel thread)", "Name:\tkthreadd\n", 0, 0, true},
		{"other unit", "VmHWM:\t  2 MB\nVmRSS:\t  1024 kB\n", 0, 0, true},
		{"not a number", "VmHWM:\t  x kB\nVmRSS:\t  1024 kB\n", 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rss, hwm, err := parseStatusMemory(tc.status)
			if tc.err {
				if err == nil {
					t.Fatalf("parseStatusMemory = %d, %d, nil; want an error", rss, hwm)
				}
				return
			}
			if err != nil || rss != tc.rss || hwm != tc.hwm {
				t.Fatalf("parseStatusMemory = %d, %d, %v; want %d, %d", rss, hwm, err, tc.rss, tc.hwm)
			}
		})
	}
}

// TestRead reads this test process itself.
func TestRead(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	s, err := Read(os.Getpid(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if s.CPUSeconds < 0 || s.RSSBytes <= 0 || s.HWMBytes < s.RSSBytes {
		t.Fatalf("implausible sample %+v", s)
	}
	if _, err := Read(-1, 100); err == nil {
		t.Fatal("pid -1: want an error")
	}
}
