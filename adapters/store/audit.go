package store

import (
	"context"
	"fmt"
	"time"

	"github.com/deskbot/deskbot/bots"
)

// auditRow records who did what to a ticket. Purge never deletes these:
// the audit log outlives the tickets it speaks of.
type auditRow struct {
	ID       int64     `gorm:"primaryKey"`
	At       time.Time `gorm:"not null;index"`
	TicketID string    `gorm:"not null;size:16;index"`
	Actor    string    `gorm:"not null"`
	Event    string    `gorm:"not null"`
	Detail   string    `gorm:"not null"`
}

func (auditRow) TableName() string { return "audit_log" }

// Audit records an action on a ticket.
func (t *tx) Audit(e bots.AuditEntry) error {
	row := auditRow{At: dbTime(e.At), TicketID: e.TicketID, Actor: e.Actor, Event: e.Event, Detail: e.Detail}
	if err := t.db.Create(&row).Error; err != nil {
		return fmt.Errorf("audit %s of ticket %s: %w", e.Event, e.TicketID, err)
	}
	return nil
}

// AuditTrail returns what was done to a ticket, oldest first, even after
// the ticket itself was purged.
func (s *Store) AuditTrail(ctx context.Context, ticketID string) ([]bots.AuditEntry, error) {
	var rows []auditRow
	err := s.db.WithContext(ctx).Where("ticket_id = ?", ticketID).Order("at, id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("audit trail of ticket %s: %w", ticketID, err)
	}
	entries := make([]bots.AuditEntry, len(rows))
	for i, r := range rows {
		entries[i] = bots.AuditEntry{At: r.At.UTC(), TicketID: r.TicketID, Actor: r.Actor, Event: r.Event, Detail: r.Detail}
	}
	return entries, nil
}
