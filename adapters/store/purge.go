package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Purge deletes, in one transaction, what is older than before: messages
// and conversations (last active before it), ratings, closed tickets
// (closed before it), and outbox rows sent or given up on. Conversations
// and messages of a ticket still open are kept, so its agent can read
// them; open tickets and unsent outbox rows are kept; the audit log is
// never purged. It returns the number of rows deleted.
func (s *Store) Purge(ctx context.Context, before time.Time) (int64, error) {
	before = dbTime(before)
	var total int64
	err := s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		openConversations := db.Model(&ticketRow{}).Select("conversation_id").Where("state NOT IN ?", closedStates)
		deletes := []struct {
			what string
			run  func() *gorm.DB
		}{
			{"messages", func() *gorm.DB {
				return db.Where("at < ? AND conversation_id NOT IN (?)", before, openConversations).Delete(&messageRow{})
			}},
			{"conversations", func() *gorm.DB {
				return db.Where("last_at < ? AND id NOT IN (?)", before, openConversations).Delete(&conversationRow{})
			}},
			{"ratings", func() *gorm.DB {
				return db.Where("at < ?", before).Delete(&ratingRow{})
			}},
			{"tickets", func() *gorm.DB {
				return db.Where("state IN ? AND COALESCE(closed_at, created_at) < ?", closedStates, before).Delete(&ticketRow{})
			}},
			{"outbox", func() *gorm.DB {
				return db.Where("(sent_at IS NOT NULL AND sent_at < ?) OR (failed = ? AND created_at < ?)", before, true, before).Delete(&outboxRow{})
			}},
		}
		for _, d := range deletes {
			res := d.run()
			if res.Error != nil {
				return fmt.Errorf("%s: %w", d.what, res.Error)
			}
			total += res.RowsAffected
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge before %s: %w", before.Format(time.RFC3339), err)
	}
	return total, nil
}
