package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/saypro/monitor/internal/config"
)

// tokenFile is where the generated ingest token is kept, in the data dir.
const tokenFile = "ingest-token"

// ingestTokens returns the bearer tokens accepted by the remote-write
// receiver: those configured, or else one generated on first start and
// kept in the data directory (readable by the server's user only).
func ingestTokens(cfg *config.Config, dataDir string, logger *slog.Logger) ([]string, error) {
	if len(cfg.Ingest.Tokens) > 0 {
		tokens := make([]string, len(cfg.Ingest.Tokens))
		for i, t := range cfg.Ingest.Tokens {
			tokens[i] = string(t)
		}
		return tokens, nil
	}
	path := filepath.Join(dataDir, tokenFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return nil, fmt.Errorf("ingest token file %s is empty: delete it to have a new token generated, or set ingest.tokens", path)
		}
		logger.Debug("remote-write ingest token read from file", "file", path)
		return []string{tok}, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("reading ingest token: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("generating ingest token: %w", err)
	}
	tok := hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("writing ingest token: %w", err)
	}
	logger.Warn("no ingest.tokens configured: generated a remote-write bearer token; give it to your agents and Prometheus remote_write", "file", path)
	return []string{tok}, nil
}
