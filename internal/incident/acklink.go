package incident

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// token signs an incident's id for its ack link: the hex HMAC-SHA256 of
// the decimal id under the store's secret.
func (m *Manager) token(id int64) string {
	mac := hmac.New(sha256.New, m.secret)
	mac.Write([]byte(strconv.FormatInt(id, 10)))
	return hex.EncodeToString(mac.Sum(nil))
}

// validToken reports whether token is the ack link token of id.
func (m *Manager) validToken(id int64, token string) bool {
	got, err := hex.DecodeString(token)
	if err != nil {
		return false
	}
	want, _ := hex.DecodeString(m.token(id))
	return hmac.Equal(got, want)
}
