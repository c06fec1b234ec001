package store

import (
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/deskbot/deskbot/bots"
	"github.com/deskbot/deskbot/knowledge"
)

// ticketRow is a bots.Ticket, a column per field so agents' and
// reporting queries can read it; the lists and the location are JSON.
// ActionRank copies Action.Rank() so the most serious sort first.
type ticketRow struct {
	ID                string    `gorm:"primaryKey;size:16"`
	CitizenChannel    string    `gorm:"not null;index:idx_tickets_citizen,priority:1"`
	CitizenExternalID string    `gorm:"not null;index:idx_tickets_citizen,priority:2"`
	ConversationID    int64     `gorm:"not null;index"`
	Intent            string    `gorm:"not null"`
	Title             string    `gorm:"not null"`
	Action            string    `gorm:"not null"`
	ActionRank        int       `gorm:"not null"`
	Rule              string    `gorm:"not null"`
	Signals           string    `gorm:"not null"`
	Notify            string    `gorm:"not null"`
	Summary           string    `gorm:"not null"`
	Location          string    `gorm:"not null"`
	Nuisance          bool      `gorm:"not null"`
	State             string    `gorm:"not null;index"`
	CreatedAt         time.Time `gorm:"not null;index;autoCreateTime:false"`
	ClaimedAt         *time.Time
	ClaimedBy         string `gorm:"not null"`
	ClosedAt          *time.Time
	ClosedBy          string `gorm:"not null"`
	UnclaimedSent     bool   `gorm:"not null"`
	Rating            int    `gorm:"not null"`
}

func (ticketRow) TableName() string { return "tickets" }

// closedStates are the states in which a ticket needs nobody (see
// bots.TicketState.Closed).
var closedStates = []string{string(bots.TicketResolved), string(bots.TicketWithdrawn)}

func newTicketRow(t *bots.Ticket) (ticketRow, error) {
	signals, err := json.Marshal(t.Signals)
	if err != nil {
		return ticketRow{}, err
	}
	notify, err := json.Marshal(t.Notify)
	if err != nil {
		return ticketRow{}, err
	}
	location, err := json.Marshal(t.Location)
	if err != nil {
		return ticketRow{}, err
	}
	return ticketRow{
		ID:                t.ID,
		CitizenChannel:    t.Citizen.Channel,
		CitizenExternalID: t.Citizen.ExternalID,
		ConversationID:    t.ConversationID,
		Intent:            t.Intent,
		Title:             t.Title,
		Action:            string(t.Action),
		ActionRank:        t.Action.Rank(),
		Rule:              t.Rule,
		Signals:           string(signals),
		Notify:            string(notify),
		Summary:           t.Summary,
		Location:          string(location),
		Nuisance:          t.Nuisance,
		State:             string(t.State),
		CreatedAt:         dbTime(t.CreatedAt),
		ClaimedAt:         dbTimePtr(t.ClaimedAt),
		ClaimedBy:         t.ClaimedBy,
		ClosedAt:          dbTimePtr(t.ClosedAt),
		ClosedBy:          t.ClosedBy,
		UnclaimedSent:     t.UnclaimedSent,
		Rating:            t.Rating,
	}, nil
}

func (r ticketRow) ticket() (*bots.Ticket, error) {
	t := &bots.Ticket{
		ID:             r.ID,
		Citizen:        bots.CitizenID{Channel: r.CitizenChannel, ExternalID: r.CitizenExternalID},
		ConversationID: r.ConversationID,
		Intent:         r.Intent,
		Title:          r.Title,
		Action:         bots.Action(r.Action),
		Rule:           r.Rule,
		Summary:        r.Summary,
		Nuisance:       r.Nuisance,
		State:          bots.TicketState(r.State),
		CreatedAt:      r.CreatedAt.UTC(),
		ClaimedAt:      utcPtr(r.ClaimedAt),
		ClaimedBy:      r.ClaimedBy,
		ClosedAt:       utcPtr(r.ClosedAt),
		ClosedBy:       r.ClosedBy,
		UnclaimedSent:  r.UnclaimedSent,
		Rating:         r.Rating,
	}
	if err := json.Unmarshal([]byte(r.Signals), &t.Signals); err != nil {
		return nil, fmt.Errorf("decode signals of ticket %s: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.Notify), &t.Notify); err != nil {
		return nil, fmt.Errorf("decode notify of ticket %s: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.Location), &t.Location); err != nil {
		return nil, fmt.Errorf("decode location of ticket %s: %w", r.ID, err)
	}
	return t, nil
}

func tickets(rows []ticketRow) ([]*bots.Ticket, error) {
	ts := make([]*bots.Ticket, 0, len(rows))
	for _, r := range rows {
		t, err := r.ticket()
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// CreateTicket inserts a ticket; an id already taken is ECONFLICT. ON
// CONFLICT DO NOTHING keeps a PostgreSQL transaction usable after the
// clash, so the engine can draw another id and try again.
func (t *tx) CreateTicket(tk *bots.Ticket) error {
	if tk.ID == "" {
		return bots.Errorf(bots.EINVALID, "ticket without an id")
	}
	row, err := newTicketRow(tk)
	if err != nil {
		return fmt.Errorf("create ticket %s: %w", tk.ID, err)
	}
	res := t.db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil {
		return fmt.Errorf("create ticket %s: %w", tk.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return bots.Errorf(bots.ECONFLICT, "ticket %s already exists", tk.ID)
	}
	return nil
}

// Ticket returns a ticket by id, or ENOTFOUND.
func (t *tx) Ticket(id string) (*bots.Ticket, error) {
	var rows []ticketRow
	if err := t.db.Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("ticket %s: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, bots.Errorf(bots.ENOTFOUND, "ticket %s not found", id)
	}
	return rows[0].ticket()
}

// SaveTicket updates every field of a ticket, or returns ENOTFOUND.
func (t *tx) SaveTicket(tk *bots.Ticket) error {
	row, err := newTicketRow(tk)
	if err != nil {
		return fmt.Errorf("save ticket %s: %w", tk.ID, err)
	}
	res := t.db.Model(&row).Select("*").Omit("id").Updates(&row)
	if res.Error != nil {
		return fmt.Errorf("save ticket %s: %w", tk.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return bots.Errorf(bots.ENOTFOUND, "ticket %s not found", tk.ID)
	}
	return nil
}

// TicketsOf returns a citizen's tickets, newest first; limit 0 means all.
func (t *tx) TicketsOf(c bots.CitizenID, limit int) ([]*bots.Ticket, error) {
	var rows []ticketRow
	err := t.db.Where("citizen_channel = ? AND citizen_external_id = ?", c.Channel, c.ExternalID).
		Order("created_at DESC, id DESC").Limit(limitOrAll(limit)).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("tickets of %s: %w", c, err)
	}
	return tickets(rows)
}

// OpenTickets returns tickets not closed, most serious action first
// (urgent, dispatch, handoff), then oldest first; limit 0 means all.
func (t *tx) OpenTickets(limit int) ([]*bots.Ticket, error) {
	var rows []ticketRow
	err := t.db.Where("state NOT IN ?", closedStates).
		Order("action_rank DESC, created_at, id").Limit(limitOrAll(limit)).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("open tickets: %w", err)
	}
	return tickets(rows)
}

// UnclaimedBefore returns dispatch and urgent tickets still open
// (unclaimed), created before at, whose citizen was not yet told; oldest
// first.
func (t *tx) UnclaimedBefore(at time.Time) ([]*bots.Ticket, error) {
	var rows []ticketRow
	err := t.db.Where("state = ? AND action_rank >= ? AND created_at < ? AND unclaimed_sent = ?",
		string(bots.TicketOpen), knowledge.Dispatch.Rank(), dbTime(at), false).
		Order("created_at, id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("tickets unclaimed before %s: %w", at.Format(time.RFC3339), err)
	}
	return tickets(rows)
}
