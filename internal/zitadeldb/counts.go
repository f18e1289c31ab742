package zitadeldb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// maxPageBuffer bounds what a page buffer reserves up front; a larger
// page_size grows it as rows arrive.
const maxPageBuffer = 16384

// Columns of the counts query, in order.
const (
	colID = iota
	colInstanceID
	colTableName
	colParentType
	colParentID
	colResourceName
	colUpdatedAt
	colAmount
	countColumns
)

// readCounts streams projections.resource_counts into rec page by page, every
// row as it is (zero amounts and old table versions included), like ZITADEL's
// service ping. It returns the number of rows recorded, also on error.
//
// While rec takes one page, the next one is already being read: the
// database's time and the recorder's overlap instead of adding up. Only
// this goroutine calls rec.
func (s *source) readCounts(ctx context.Context, rec model.Recorder) (int, error) {
	n := 0
	err := s.readOnly(ctx, func(tx pgx.Tx) error {
		fctx, cancel := context.WithCancel(ctx)
		defer cancel()
		pages := make(chan []model.Count, 1)
		spare := make(chan []model.Count, 2)
		done := make(chan error, 1)
		go func() {
			defer close(pages)
			done <- s.fetchCountPages(fctx, tx, pages, spare)
		}()
		for page := range pages {
			for _, c := range page {
				rec.RecordCount(c)
			}
			n += len(page)
			select {
			case spare <- page[:0]:
			default: // the reader has finished or has buffers enough
			}
		}
		return <-done
	})
	if err != nil {
		return n, explain(err, "reading resource counts", []string{relResourceCounts}, s.user)
	}
	return n, nil
}

// fetchCountPages reads every page in tx and hands each one over on pages,
// taking buffers back from spare. A page that ends in an error is handed
// over with the rows read before it.
func (s *source) fetchCountPages(ctx context.Context, tx pgx.Tx, pages chan<- []model.Count, spare <-chan []model.Count) error {
	d := newCountDecoder(s.cfg.UpdatedAtAttribute)
	args := append([]any{int64(0), s.cfg.PageSize}, s.q.countArgs...)
	for {
		var buf []model.Count
		select {
		case buf = <-spare:
		default:
			buf = make([]model.Count, 0, min(s.cfg.PageSize, maxPageBuffer))
		}
		page, lastID, err := s.readCountPage(ctx, tx, args, d, buf)
		if len(page) > 0 {
			select {
			case pages <- page:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err != nil || len(page) < s.cfg.PageSize {
			return err
		}
		args[0] = lastID
	}
}

// readCountPage appends one page to buf and returns it with the page's last id.
func (s *source) readCountPage(ctx context.Context, tx pgx.Tx, args []any, d *countDecoder, buf []model.Count) ([]model.Count, int64, error) {
	qctx, cancel := s.queryContext(ctx)
	defer cancel()
	rows, err := tx.Query(qctx, s.q.counts, args...)
	if err != nil {
		return buf, 0, err
	}
	defer rows.Close()
	lastID := int64(0)
	for rows.Next() {
		c, id, err := d.decode(rows)
		if err != nil {
			return buf, lastID, err
		}
		buf = append(buf, c)
		lastID = id
	}
	return buf, lastID, rows.Err()
}

// countDecoder turns raw rows into counts without allocating per row: the
// text columns repeat (a handful of instances, tables and resource names, a
// parent id per few rows), so each distinct value is allocated once per scrape.
type countDecoder struct {
	strings   map[string]string
	last      [countColumns]string // per column: neighbouring rows often repeat it
	updatedAt bool
}

func newCountDecoder(updatedAt bool) *countDecoder {
	return &countDecoder{strings: make(map[string]string), updatedAt: updatedAt}
}

func (d *countDecoder) decode(rows pgx.Rows) (model.Count, int64, error) {
	raw := rows.RawValues()
	fds := rows.FieldDescriptions()
	if len(raw) != countColumns || len(fds) != countColumns {
		return model.Count{}, 0, fmt.Errorf("resource_counts query returned %d columns, want %d", len(raw), countColumns)
	}
	for i, v := range raw {
		if v == nil && (i != colUpdatedAt || d.updatedAt) {
			return model.Count{}, 0, fmt.Errorf("resource_counts.%s is NULL", fds[i].Name)
		}
	}
	id, err := decodeInt("resource_counts", fds[colID], raw[colID])
	if err != nil {
		return model.Count{}, 0, err
	}
	amount, err := decodeInt("resource_counts", fds[colAmount], raw[colAmount])
	if err != nil {
		return model.Count{}, 0, err
	}
	c := model.Count{
		InstanceID: d.intern(colInstanceID, raw),
		Table:      d.intern(colTableName, raw),
		ParentType: d.intern(colParentType, raw),
		ParentID:   d.intern(colParentID, raw),
		Resource:   d.intern(colResourceName, raw),
		Amount:     amount,
	}
	if d.updatedAt {
		fd := fds[colUpdatedAt]
		var t time.Time
		if err := rows.Conn().TypeMap().Scan(fd.DataTypeOID, fd.Format, raw[colUpdatedAt], &t); err != nil {
			return model.Count{}, 0, fmt.Errorf("resource_counts.updated_at: %w", err)
		}
		c.UpdatedAt = t
	}
	return c, id, nil
}

// intern returns column col of raw as a string, allocating only the first
// time a value is seen. Text columns arrive as UTF-8 in either wire format.
func (d *countDecoder) intern(col int, raw [][]byte) string {
	b := raw[col]
	if string(b) == d.last[col] {
		return d.last[col]
	}
	s, ok := d.strings[string(b)]
	if !ok {
		s = string(b)
		d.strings[s] = s
	}
	d.last[col] = s
	return s
}

// decodeInt reads an integer column of relation in either wire format.
func decodeInt(relation string, fd pgconn.FieldDescription, b []byte) (int64, error) {
	if fd.Format == pgx.BinaryFormatCode {
		switch len(b) {
		case 2:
			return int64(int16(binary.BigEndian.Uint16(b))), nil
		case 4:
			return int64(int32(binary.BigEndian.Uint32(b))), nil
		case 8:
			return int64(binary.BigEndian.Uint64(b)), nil
		}
		return 0, fmt.Errorf("%s.%s: %d bytes is not an integer", relation, fd.Name, len(b))
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s.%s: %w", relation, fd.Name, errors.Unwrap(err))
	}
	return v, nil
}
