package probe

import "github.com/saypro/monitor/internal/config/checkconfig"

// Placeholders until the kinds below land; each returns an error at build time.
func newProcess(*checkconfig.Check, Env) (Prober, error) { return nil, ErrNotSupported }
func newPort(*checkconfig.Check, Env) (Prober, error)    { return nil, ErrNotSupported }
func newSystemd(*checkconfig.Check, Env) (Prober, error) { return nil, ErrNotSupported }
func newFileAge(*checkconfig.Check, Env) (Prober, error) { return nil, ErrNotSupported }
