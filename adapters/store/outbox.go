package store

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/deskbot/deskbot/bots"
)

// outboxRow is a message waiting to be sent, written in the same
// transaction as the change that caused it. A worker leases due rows
// (LockedBy until LockedUntil); a lease that runs out lets another worker
// take the row. Failed rows are given up for good.
type outboxRow struct {
	ID            int64      `gorm:"primaryKey"`
	Kind          string     `gorm:"not null"`
	Channel       string     `gorm:"not null"`
	Payload       []byte     `gorm:"not null"`
	Attempts      int        `gorm:"not null"`
	NextAttemptAt time.Time  `gorm:"not null;index"`
	CreatedAt     time.Time  `gorm:"not null;autoCreateTime:false"`
	SentAt        *time.Time `gorm:"index"`
	LockedBy      string     `gorm:"not null"`
	LockedUntil   *time.Time
	LastError     string `gorm:"not null"`
	Failed        bool   `gorm:"not null"`
}

func (outboxRow) TableName() string { return "outbox" }

var _ bots.MarkFailer = (*Store)(nil)

func (r outboxRow) item() bots.OutboxItem {
	return bots.OutboxItem{
		ID:            r.ID,
		Kind:          bots.OutboxKind(r.Kind),
		Channel:       r.Channel,
		Payload:       r.Payload,
		Attempts:      r.Attempts,
		NextAttemptAt: r.NextAttemptAt.UTC(),
		CreatedAt:     r.CreatedAt.UTC(),
		LastError:     r.LastError,
	}
}

// maxErrorLen bounds the last_error kept for a row, in characters.
const maxErrorLen = 500

// Enqueue writes a message for the outbox worker to send. The item's
// CreatedAt is required (the store keeps no clock); a zero NextAttemptAt
// means at once.
func (t *tx) Enqueue(item bots.OutboxItem) error {
	if item.CreatedAt.IsZero() {
		return bots.Errorf(bots.EINVALID, "outbox item without created_at")
	}
	if item.NextAttemptAt.IsZero() {
		item.NextAttemptAt = item.CreatedAt
	}
	row := outboxRow{
		Kind:          string(item.Kind),
		Channel:       item.Channel,
		Payload:       item.Payload,
		Attempts:      item.Attempts,
		NextAttemptAt: dbTime(item.NextAttemptAt),
		CreatedAt:     dbTime(item.CreatedAt),
	}
	if err := t.db.Create(&row).Error; err != nil {
		return fmt.Errorf("enqueue %s message: %w", item.Kind, err)
	}
	return nil
}

// ClaimOutbox leases to worker until now+lease up to limit rows that are
// due, oldest first. On PostgreSQL the rows are read FOR UPDATE SKIP
// LOCKED, so a second worker skips what the first is claiming instead of
// waiting for it or taking it too. SQLite has one writer at a time and
// BEGIN IMMEDIATE, so the transaction alone keeps workers apart.
func (s *Store) ClaimOutbox(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]bots.OutboxItem, error) {
	if limit <= 0 {
		return nil, nil
	}
	now = dbTime(now)
	var rows []outboxRow
	err := s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		q := db.Where("sent_at IS NULL AND failed = ? AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until < ?)",
			false, now, now).Order("id").Limit(limit)
		if s.postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		if err := q.Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		ids := make([]int64, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		return db.Model(&outboxRow{}).Where("id IN ?", ids).
			Updates(map[string]any{"locked_by": worker, "locked_until": dbTime(now.Add(lease))}).Error
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbox for %s: %w", worker, err)
	}
	items := make([]bots.OutboxItem, len(rows))
	for i, r := range rows {
		items[i] = r.item()
	}
	return items, nil
}

// MarkSent records that worker delivered row id. When the row is no
// longer leased to worker (its lease ran out and another worker took it
// over, and will mark it) it changes nothing and is not an error: the
// worker has nothing to undo, and the engine's worker stops its batch on
// an error.
func (s *Store) MarkSent(ctx context.Context, id int64, worker string, at time.Time) error {
	res := s.db.WithContext(ctx).Model(&outboxRow{}).
		Where("id = ? AND locked_by = ? AND sent_at IS NULL", id, worker).
		Update("sent_at", dbTime(at))
	return s.leased(res, "mark outbox %d sent", id, worker)
}

// MarkRetry records a failed attempt at row id, with reason, and when to
// try again; the lease ends. reason must not quote the message, which is
// citizen text; it is cut to 500 characters. Like MarkSent, it does
// nothing for a worker that lost its lease.
func (s *Store) MarkRetry(ctx context.Context, id int64, worker string, next time.Time, reason string) error {
	res := s.db.WithContext(ctx).Model(&outboxRow{}).
		Where("id = ? AND locked_by = ? AND sent_at IS NULL", id, worker).
		Updates(map[string]any{
			"attempts":        gorm.Expr("attempts + 1"),
			"next_attempt_at": dbTime(next),
			"last_error":      truncate(reason, maxErrorLen),
			"locked_by":       "",
			"locked_until":    nil,
		})
	return s.leased(res, "mark outbox %d for retry", id, worker)
}

// MarkFailed gives up on row id for good (bots.PermanentError: the
// citizen blocked the bot); the row is never claimed again. It is not in
// bots.Store: the engine finds it with a type assertion (bots.MarkFailer).
// Like MarkSent, it does nothing for a worker that lost its lease.
func (s *Store) MarkFailed(ctx context.Context, id int64, worker string, reason string) error {
	res := s.db.WithContext(ctx).Model(&outboxRow{}).
		Where("id = ? AND locked_by = ? AND sent_at IS NULL", id, worker).
		Updates(map[string]any{
			"attempts":     gorm.Expr("attempts + 1"),
			"failed":       true,
			"last_error":   truncate(reason, maxErrorLen),
			"locked_by":    "",
			"locked_until": nil,
		})
	return s.leased(res, "mark outbox %d failed", id, worker)
}

// leased checks the update of one leased outbox row: it wraps the
// database's error, and notes a row that worker no longer held.
func (s *Store) leased(res *gorm.DB, what string, id int64, worker string) error {
	if res.Error != nil {
		return fmt.Errorf(what+": %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		s.log.Warn("outbox row no longer leased to this worker; left as it is", "id", id, "worker", worker)
	}
	return nil
}

// OutboxStats reports the rows neither sent nor given up, and how long
// the oldest of them has waited at now.
func (s *Store) OutboxStats(ctx context.Context, now time.Time) (pending int, oldest time.Duration, err error) {
	db := s.db.WithContext(ctx)
	unsent := db.Model(&outboxRow{}).Where("sent_at IS NULL AND failed = ?", false)
	var n int64
	if err := unsent.Session(&gorm.Session{}).Count(&n).Error; err != nil {
		return 0, 0, fmt.Errorf("outbox stats: %w", err)
	}
	if n == 0 {
		return 0, 0, nil
	}
	var first []outboxRow
	if err := unsent.Session(&gorm.Session{}).Select("created_at").Order("created_at").Limit(1).Find(&first).Error; err != nil {
		return 0, 0, fmt.Errorf("outbox stats: %w", err)
	}
	if len(first) > 0 {
		oldest = now.Sub(first[0].CreatedAt)
	}
	return int(n), oldest, nil
}

// truncate cuts s to at most n characters, never inside one.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
