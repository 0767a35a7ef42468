package config

// Service discovery mechanisms accepted in scrape_configs besides
// static_configs: file_sd_configs, dns_sd_configs and http_sd_configs.
// Each registers its YAML key with Prometheus's discovery package, so they
// are part of this package's schema. The cloud and Kubernetes mechanisms
// are left out to keep the binary small.
import (
	_ "github.com/prometheus/prometheus/discovery/dns"  // dns_sd_configs
	_ "github.com/prometheus/prometheus/discovery/file" // file_sd_configs
	_ "github.com/prometheus/prometheus/discovery/http" // http_sd_configs
)
