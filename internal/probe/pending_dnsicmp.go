package probe

import "github.com/saypro/monitor/internal/config/checkconfig"

// Placeholders until the kinds below land; each returns an error at build time.
func newNginx(*checkconfig.Check, Env) (Prober, error)  { return nil, ErrNotSupported }
func newApache(*checkconfig.Check, Env) (Prober, error) { return nil, ErrNotSupported }
