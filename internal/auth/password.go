package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password length limits, in characters.
const (
	MinPasswordLength = 12
	maxPasswordLength = 1024
)

// argon2id parameters: OWASP's recommended minimum of 19 MiB and two
// passes would do; 46 MiB with one pass is the other recommended point
// and costs about the same time.
type argonParams struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
}

var defaultArgon = argonParams{memory: 46 * 1024, time: 1, threads: 1}

// hasher hashes and checks passwords with argon2id, at most a few at a time
// so that a burst of logins cannot take the server's memory.
type hasher struct {
	params argonParams
	sem    chan struct{}
}

func newHasher(p argonParams, concurrent int) *hasher {
	return &hasher{params: p, sem: make(chan struct{}, concurrent)}
}

// checkPasswordPolicy says what is wrong with a new password.
func checkPasswordPolicy(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLength:
		return fmt.Errorf("the password is too short: use at least %d characters (a few unrelated words make a good one)", MinPasswordLength)
	case n > maxPasswordLength:
		return fmt.Errorf("the password is too long: at most %d characters", maxPasswordLength)
	case strings.TrimSpace(pw) == "":
		return errors.New("the password is only spaces")
	}
	return nil
}

func (h *hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (h *hasher) release() { <-h.sem }

// hash returns pw's argon2id hash in the PHC string format.
func (h *hasher) hash(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	p := h.params
	key := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// verify reports whether pw matches encoded, a hash made by hash (with
// whatever parameters were current then).
func (h *hasher) verify(ctx context.Context, encoded, pw string) (bool, error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

func decodeHash(encoded string) (argonParams, []byte, []byte, error) {
	var p argonParams
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("stored password hash is not argon2id")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, fmt.Errorf("stored password hash has argon2 version %q", parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return p, nil, nil, fmt.Errorf("stored password hash parameters %q: %w", parts[3], err)
	}
	if p.memory == 0 || p.memory > 1<<21 || p.time == 0 || p.time > 64 || p.threads == 0 {
		return p, nil, nil, fmt.Errorf("stored password hash parameters %q are out of range", parts[3])
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, fmt.Errorf("stored password hash salt: %w", err)
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 {
		return p, nil, nil, errors.New("stored password hash key is malformed")
	}
	return p, salt, key, nil
}
