package report

import (
	"hash/maphash"
	"sync"
	"time"

	"go.uber.org/zap"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// pieceWindow is how close two batches of one system must be to be taken for
// pieces of one scrape. A batch processor or queue hands on the pieces of a
// scrape within milliseconds; a receiver scrapes far less often.
const pieceWindow = 10 * time.Second

// PieceDetector notices, without a schedule, that one system's counts arrive
// in pieces, each sent as a partial report, and says so once. A retry or the
// next scrape starts and ends with the same rows as the batch before; a piece
// of the same scrape does not.
type PieceDetector struct {
	now    func() time.Time
	logger *zap.Logger
	seed   maphash.Seed

	mu     sync.Mutex
	last   map[string]batchMark
	warned bool
}

type batchMark struct {
	at          time.Time
	first, last uint64
}

func NewPieceDetector(now func() time.Time, logger *zap.Logger) *PieceDetector {
	return &PieceDetector{now: now, logger: logger, seed: maphash.MakeSeed(), last: make(map[string]batchMark)}
}

func (p *PieceDetector) Observe(systems []*System) {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, sr := range systems {
		if len(sr.rows) == 0 {
			continue
		}
		mark := batchMark{at: now, first: p.rowHash(sr.rows[0]), last: p.rowHash(sr.rows[len(sr.rows)-1])}
		prev, seen := p.last[sr.systemID]
		p.last[sr.systemID] = mark
		if !seen || p.warned || now.Sub(prev.at) > pieceWindow || (prev.first == mark.first && prev.last == mark.last) {
			continue
		}
		p.warned = true
		p.logger.Warn("The counts of one system arrive in several batches within a short time, and each batch "+
			"is sent as a report of its own, so no report is whole. Set the exporter's schedule to send one "+
			"whole report per system from a snapshot of the newest counts (docs/troubleshooting.md), "+
			"or remove what splits the batches (batch with send_batch_max_size, sending_queue::batch, several "+
			"receivers feeding this exporter).",
			zap.String("system_id", sr.systemID), zap.Duration("apart", now.Sub(prev.at)))
	}
}

func (p *PieceDetector) rowHash(rc *analytics.ResourceCount) uint64 {
	var h maphash.Hash
	h.SetSeed(p.seed)
	for _, s := range []string{rc.InstanceId, rc.ParentId, rc.ResourceName, rc.TableName} {
		h.WriteString(s)
		h.WriteByte(0)
	}
	h.WriteByte(byte(rc.ParentType))
	return h.Sum64()
}
