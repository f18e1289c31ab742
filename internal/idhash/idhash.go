package zitadeltelemetry

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"

	"go.opentelemetry.io/collector/config/configopaque"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// minIDHashKeyBytes is the shortest id_hash_key: an HMAC-SHA256 key shorter
// than the hash's output weakens it.
const minIDHashKeyBytes = sha256.Size

// idHasher replaces system, instance and organization ids with
// base64url(HMAC-SHA256(key, id)) before a report leaves the exporter. The
// same id gives the same value in every report, so an installation can be
// followed over time; without the key the value cannot be mapped back, nor
// tested against a guessed id. The 43 characters are letters, digits, '-'
// and '_', within every id limit: the result still has ZITADEL's id shape.
//
// It is nil without a key, and then changes nothing.
type idHasher struct {
	key []byte
}

func newIDHasher(key configopaque.String) *idHasher {
	if key == "" {
		return nil
	}
	return &idHasher{key: []byte(key)}
}

func validateIDHashKey(key configopaque.String) []error {
	if key != "" && len(key) < minIDHashKeyBytes {
		// The length only: the key is a secret.
		return []error{fmt.Errorf("id_hash_key: %d bytes is too short; use at least %d random bytes, such as the output of `openssl rand -base64 32`",
			len(key), minIDHashKeyBytes)}
	}
	return nil
}

// apply replaces the ids of one system's report in place. Rows repeat their
// instance and parent ids, so each distinct id is hashed once. The system id
// kept in sr.systemID stays the original: it names the system in this
// collector's own log, which is the operator's.
func (h *idHasher) apply(sr *systemReport) {
	if h == nil {
		return
	}
	p := h.pseudonyms()
	p.base(sr.base)
	p.rows(sr.rows)
}

// base replaces the system and instance ids of a base information.
func (p *pseudonyms) base(req *analytics.ReportBaseInformationRequest) {
	req.SystemId = p.of(req.SystemId)
	for _, in := range req.Instances {
		in.Id = p.of(in.Id)
	}
}

// rows replaces each row's instance and parent id. An instance's id and the
// parent id of its instance-level rows hash alike.
func (p *pseudonyms) rows(rows []*analytics.ResourceCount) {
	for _, rc := range rows {
		rc.InstanceId = p.of(rc.InstanceId)
		rc.ParentId = p.of(rc.ParentId)
	}
}

// pseudonyms returns the hashing of one report or call: each distinct id
// is hashed once.
func (h *idHasher) pseudonyms() *pseudonyms {
	return &pseudonyms{mac: hmac.New(sha256.New, h.key), done: make(map[string]string)}
}

// pseudonyms hashes the ids of one report.
type pseudonyms struct {
	mac  hash.Hash
	done map[string]string
	sum  [sha256.Size]byte
}

func (p *pseudonyms) of(id string) string {
	if v, ok := p.done[id]; ok {
		return v
	}
	p.mac.Reset()
	p.mac.Write([]byte(id))
	v := base64.RawURLEncoding.EncodeToString(p.mac.Sum(p.sum[:0]))
	p.done[id] = v
	return v
}
