package collector

import "golang.org/x/sys/unix"

// readClock reads the kernel clock's state with adjtimex(2) in read-only
// mode (modes 0).
func readClock() (clockState, error) {
	var t unix.Timex
	state, err := unix.Adjtimex(&t)
	if err != nil {
		return clockState{}, err
	}
	return clockState{
		synced:    state != unix.TIME_ERROR,
		nano:      t.Status&unix.STA_NANO != 0,
		offset:    int64(t.Offset),
		freq:      int64(t.Freq),
		maxError:  int64(t.Maxerror),
		estError:  int64(t.Esterror),
		status:    int64(t.Status),
		constant:  int64(t.Constant),
		tick:      int64(t.Tick),
		ppsFreq:   int64(t.Ppsfreq),
		jitter:    int64(t.Jitter),
		shift:     int64(t.Shift),
		stability: int64(t.Stabil),
		jitterCnt: int64(t.Jitcnt),
		calibCnt:  int64(t.Calcnt),
		errorCnt:  int64(t.Errcnt),
		stbCnt:    int64(t.Stbcnt),
		tai:       int64(t.Tai),
	}, nil
}
