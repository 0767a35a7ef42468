package probe

import "github.com/saypro/monitor/internal/config/checkconfig"

// Placeholders until the kinds below land; each returns an error at build time.
func newMongoDB(*checkconfig.Check, Env) (Prober, error) { return nil, ErrNotSupported }
