// Package config defines saypro-monitor.yml: its schema, the default of
// every field, strict decoding (an unknown key is an error that names its
// line) and validation.
//
// The keys global, scrape_configs and scrape_config_files mean exactly what
// they mean in prometheus.yml and are loaded by Prometheus's own config
// package, so an existing scrape configuration can be pasted in unchanged.
//
// Config is data plus validation only: it imports no other package of this
// module and performs no I/O beyond reading the file it is given (and the
// scrape_config_files it names).
package config
