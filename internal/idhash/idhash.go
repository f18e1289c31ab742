package idhash

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"

	"go.opentelemetry.io/collector/config/configopaque"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// MinKeyBytes is the shortest id_hash_key: an HMAC-SHA256 key shorter
// than the hash's output weakens it.
const MinKeyBytes = sha256.Size

// Hasher replaces system, instance and organization ids with
// base64url(HMAC-SHA256(key, id)) before a report leaves the exporter or a call enters a pipeline through the zitadeltelemetry receiver. The
// same id gives the same value in every report, so an installation can be
// followed over time; without the key the value cannot be mapped back, nor
// tested against a guessed id. The 43 characters are letters, digits, '-'
// and '_', within every id limit: the result still has ZITADEL's id shape.
//
// It is nil without a key, and then changes nothing.
type Hasher struct {
	key []byte
}

// New returns the hashing of key, or nil without one.
func New(key configopaque.String) *Hasher {
	if key == "" {
		return nil
	}
	return &Hasher{key: []byte(key)}
}

// ValidateKey says what is wrong with an id_hash_key.
func ValidateKey(key configopaque.String) []error {
	if key != "" && len(key) < MinKeyBytes {
		// The length only: the key is a secret.
		return []error{fmt.Errorf("id_hash_key: %d bytes is too short; use at least %d random bytes, such as the output of `openssl rand -base64 32`",
			len(key), MinKeyBytes)}
	}
	return nil
}

// Base replaces the system and instance ids of a base information.
func (p *Pseudonyms) Base(req *analytics.ReportBaseInformationRequest) {
	req.SystemId = p.Of(req.SystemId)
	for _, in := range req.Instances {
		in.Id = p.Of(in.Id)
	}
}

// Rows replaces each row's instance and parent id. An instance's id and the
// parent id of its instance-level rows hash alike.
func (p *Pseudonyms) Rows(rows []*analytics.ResourceCount) {
	for _, rc := range rows {
		rc.InstanceId = p.Of(rc.InstanceId)
		rc.ParentId = p.Of(rc.ParentId)
	}
}

// Pseudonyms returns the hashing of one report or call: each distinct id
// is hashed once.
func (h *Hasher) Pseudonyms() *Pseudonyms {
	return &Pseudonyms{mac: hmac.New(sha256.New, h.key), done: make(map[string]string)}
}

// Pseudonyms hashes the ids of one report.
type Pseudonyms struct {
	mac  hash.Hash
	done map[string]string
	sum  [sha256.Size]byte
}

// Of is the pseudonym of one id.
func (p *Pseudonyms) Of(id string) string {
	if v, ok := p.done[id]; ok {
		return v
	}
	p.mac.Reset()
	p.mac.Write([]byte(id))
	v := base64.RawURLEncoding.EncodeToString(p.mac.Sum(p.sum[:0]))
	p.done[id] = v
	return v
}
