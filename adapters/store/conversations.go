package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/deskbot/deskbot/bots"
)

// conversationRow keeps a bots.Conversation whole as JSON in Data, so a
// field the engine adds is stored without a change here; the columns
// beside it copy the fields that queries select on.
type conversationRow struct {
	ID                int64     `gorm:"primaryKey"`
	CitizenChannel    string    `gorm:"not null;index:idx_conversations_citizen,priority:1"`
	CitizenExternalID string    `gorm:"not null;index:idx_conversations_citizen,priority:2"`
	State             string    `gorm:"not null"`
	StartedAt         time.Time `gorm:"not null;index"`
	LastAt            time.Time `gorm:"not null;index"`
	Settled           bool      `gorm:"not null"`
	OfferedHuman      bool      `gorm:"not null"`
	Data              string    `gorm:"not null"`
}

func (conversationRow) TableName() string { return "conversations" }

func newConversationRow(c *bots.Conversation) (conversationRow, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return conversationRow{}, err
	}
	return conversationRow{
		ID:                c.ID,
		CitizenChannel:    c.Citizen.Channel,
		CitizenExternalID: c.Citizen.ExternalID,
		State:             string(c.State),
		StartedAt:         dbTime(c.StartedAt),
		LastAt:            dbTime(c.LastAt),
		Settled:           c.Settled,
		OfferedHuman:      c.OfferedHuman,
		Data:              string(data),
	}, nil
}

func (r conversationRow) conversation() (*bots.Conversation, error) {
	var c bots.Conversation
	if err := json.Unmarshal([]byte(r.Data), &c); err != nil {
		return nil, fmt.Errorf("decode conversation %d: %w", r.ID, err)
	}
	// Data of a new row was written before the database chose its id.
	c.ID = r.ID
	return &c, nil
}

func conversations(rows []conversationRow) ([]*bots.Conversation, error) {
	cs := make([]*bots.Conversation, 0, len(rows))
	for _, r := range rows {
		c, err := r.conversation()
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// CurrentConversation returns the citizen's latest conversation, or nil.
func (t *tx) CurrentConversation(c bots.CitizenID) (*bots.Conversation, error) {
	var rows []conversationRow
	err := t.db.Where("citizen_channel = ? AND citizen_external_id = ?", c.Channel, c.ExternalID).
		Order("id DESC").Limit(1).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("current conversation of %s: %w", c, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return rows[0].conversation()
}

// Conversation returns a conversation by id, or ENOTFOUND.
func (t *tx) Conversation(id int64) (*bots.Conversation, error) {
	var rows []conversationRow
	if err := t.db.Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("conversation %d: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, bots.Errorf(bots.ENOTFOUND, "conversation %d not found", id)
	}
	return rows[0].conversation()
}

// SaveConversation inserts c when its ID is 0, setting the ID, and
// updates it otherwise (ENOTFOUND when there is no such row).
func (t *tx) SaveConversation(c *bots.Conversation) error {
	row, err := newConversationRow(c)
	if err != nil {
		return fmt.Errorf("save conversation %d: %w", c.ID, err)
	}
	if c.ID == 0 {
		if err := t.db.Create(&row).Error; err != nil {
			return fmt.Errorf("save new conversation of %s: %w", c.Citizen, err)
		}
		c.ID = row.ID
		return nil
	}
	res := t.db.Model(&row).Select("*").Omit("id").Updates(&row)
	if res.Error != nil {
		return fmt.Errorf("save conversation %d: %w", c.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return bots.Errorf(bots.ENOTFOUND, "conversation %d not found", c.ID)
	}
	return nil
}

// ConversationsStartedBetween returns conversations started in [from, to) that
// are neither settled, nor offered a person, nor closed: those the
// 10-minute rule still has to look at. Oldest first.
func (t *tx) ConversationsStartedBetween(from, to time.Time) ([]*bots.Conversation, error) {
	var rows []conversationRow
	err := t.db.Where("started_at >= ? AND started_at < ? AND settled = ? AND offered_human = ? AND state <> ?",
		dbTime(from), dbTime(to), false, false, string(bots.ConvClosed)).
		Order("started_at, id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("conversations started before %s: %w", to.Format(time.RFC3339), err)
	}
	return conversations(rows)
}
