package zitadeltelemetryreceiver

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Report ids verify themselves, so that replicas behind any load balancer
// accept each other's pages without shared state: an id carries its expiry
// and a nonce, and an HMAC over those and the system id it was issued to.
//
//	zr1.<expiry, unix seconds, base 36>.<nonce, 12 bytes>.<HMAC-SHA256, 32 bytes>
//
// (bytes in unpadded base64url). That is 76 bytes for the next century,
// well within the 128 the exporter accepts from an endpoint.
const (
	reportIDVersion    = "zr1"
	reportIDNonceBytes = 12
)

var reportIDEncoding = base64.RawURLEncoding

type reportIDs struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// newReportIDs signs with key, or with a random key of this process when key
// is empty: then only this process accepts the ids it issued.
func newReportIDs(key string, ttl time.Duration, now func() time.Time) (*reportIDs, error) {
	k := []byte(key)
	if len(k) == 0 {
		k = make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, fmt.Errorf("drawing a report id key: %w", err)
		}
	}
	return &reportIDs{key: k, ttl: ttl, now: now}, nil
}

// issue returns a new report id for systemID.
func (r *reportIDs) issue(systemID string) string {
	nonce := make([]byte, reportIDNonceBytes)
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails on the supported platforms
	expiry := strconv.FormatInt(r.now().Add(r.ttl).Unix(), 36)
	n := reportIDEncoding.EncodeToString(nonce)
	return reportIDVersion + "." + expiry + "." + n + "." + reportIDEncoding.EncodeToString(r.mac(systemID, expiry, n))
}

func (r *reportIDs) mac(systemID, expiry, nonce string) []byte {
	h := hmac.New(sha256.New, r.key)
	// Lengths first, so that no two inputs share a message.
	h.Write([]byte(reportIDVersion))
	for _, s := range []string{systemID, expiry, nonce} {
		h.Write(strconv.AppendInt([]byte{0}, int64(len(s)), 10))
		h.Write([]byte{0})
		h.Write([]byte(s))
	}
	return h.Sum(nil)
}

// verify says why id cannot continue a report of systemID, or "" when it can.
// An id of another system, of another key or made up fails the same check:
// the signature.
func (r *reportIDs) verify(id, systemID string) string {
	parts := strings.Split(id, ".")
	if len(parts) != 4 || parts[0] != reportIDVersion {
		return "was not issued by this receiver"
	}
	sig, err := reportIDEncoding.DecodeString(parts[3])
	if err != nil || !hmac.Equal(sig, r.mac(systemID, parts[1], parts[2])) {
		return "was not issued to this system by this receiver or a replica sharing its report_ids::key"
	}
	expiry, err := strconv.ParseInt(parts[1], 36, 64)
	if err != nil {
		return "was not issued by this receiver"
	}
	if at := time.Unix(expiry, 0); !r.now().Before(at) {
		return "expired at " + at.UTC().Format(time.RFC3339) + "; send the base information again for a new one"
	}
	return ""
}
