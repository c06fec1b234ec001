package store

import (
	"fmt"
	"time"

	"github.com/deskbot/deskbot/bots"
)

// ratingRow is one 回访 answer. The ticket keeps the latest rating too;
// this table keeps each one with its time.
type ratingRow struct {
	ID       int64     `gorm:"primaryKey"`
	TicketID string    `gorm:"not null;size:16;index"`
	Rating   int       `gorm:"not null"`
	At       time.Time `gorm:"not null;index"`
}

func (ratingRow) TableName() string { return "ratings" }

// SaveRating stores the citizen's 1–5 rating of a ticket and sets it on
// the ticket: EINVALID outside 1–5, ENOTFOUND for an unknown ticket.
func (t *tx) SaveRating(ticketID string, rating int, at time.Time) error {
	if rating < 1 || rating > 5 {
		return bots.Errorf(bots.EINVALID, "rating %d is not between 1 and 5", rating)
	}
	res := t.db.Model(&ticketRow{}).Where("id = ?", ticketID).Update("rating", rating)
	if res.Error != nil {
		return fmt.Errorf("rate ticket %s: %w", ticketID, res.Error)
	}
	if res.RowsAffected == 0 {
		return bots.Errorf(bots.ENOTFOUND, "ticket %s not found", ticketID)
	}
	row := ratingRow{TicketID: ticketID, Rating: rating, At: dbTime(at)}
	if err := t.db.Create(&row).Error; err != nil {
		return fmt.Errorf("rate ticket %s: %w", ticketID, err)
	}
	return nil
}
