package store

import (
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/deskbot/deskbot/bots"
)

// Message directions.
const (
	inbound  = "in"
	outbound = "out"
)

// messageRow is one message of a conversation, either way. An inbound
// message's (channel, external id) is unique, so a channel's redelivery is
// stored once; outbound messages have no external id (NULL, which a
// unique index lets repeat). Data keeps the whole bots.Inbound or
// bots.Outbound (a shared location, attachments, choices) as JSON.
type messageRow struct {
	ID             int64     `gorm:"primaryKey"`
	ConversationID int64     `gorm:"not null;index:idx_messages_conversation,priority:1"`
	Direction      string    `gorm:"not null;size:3"`
	Channel        string    `gorm:"not null;uniqueIndex:idx_messages_external,priority:1"`
	ExternalID     *string   `gorm:"uniqueIndex:idx_messages_external,priority:2"`
	Sender         string    `gorm:"not null"` // a Line's From
	Text           string    `gorm:"not null"`
	Data           string    `gorm:"not null"`
	At             time.Time `gorm:"not null;index;index:idx_messages_conversation,priority:2"`
}

func (messageRow) TableName() string { return "messages" }

// RecordInbound stores a citizen's message; dup is true, and nothing is
// stored, when the channel delivered it before. It inserts with ON
// CONFLICT DO NOTHING rather than catching a unique violation, which
// would abort the whole PostgreSQL transaction. A message without an
// external id cannot be recognised again, so it is always stored.
func (t *tx) RecordInbound(in bots.Inbound, conversationID int64) (dup bool, err error) {
	data, err := json.Marshal(in)
	if err != nil {
		return false, fmt.Errorf("record inbound in conversation %d: %w", conversationID, err)
	}
	row := messageRow{
		ConversationID: conversationID,
		Direction:      inbound,
		Channel:        in.Citizen.Channel,
		Sender:         "citizen",
		Text:           in.Text,
		Data:           string(data),
		At:             dbTime(in.At),
	}
	if in.ExternalID != "" {
		row.ExternalID = &in.ExternalID
	}
	res := t.db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil {
		return false, fmt.Errorf("record inbound %s/%s: %w", in.Citizen.Channel, in.ExternalID, res.Error)
	}
	return res.RowsAffected == 0, nil
}

// RecordOutbound stores a message the desk or an agent sent.
func (t *tx) RecordOutbound(conversationID int64, out bots.Outbound, at time.Time) error {
	data, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("record outbound in conversation %d: %w", conversationID, err)
	}
	sender := "bot"
	if out.FromAgent != "" {
		sender = "agent:" + out.FromAgent
	}
	row := messageRow{
		ConversationID: conversationID,
		Direction:      outbound,
		Channel:        out.Citizen.Channel,
		Sender:         sender,
		Text:           out.Text,
		Data:           string(data),
		At:             dbTime(at),
	}
	if err := t.db.Create(&row).Error; err != nil {
		return fmt.Errorf("record outbound in conversation %d: %w", conversationID, err)
	}
	return nil
}

// Transcript returns a conversation's messages, oldest first.
func (t *tx) Transcript(conversationID int64) ([]bots.Line, error) {
	var rows []messageRow
	err := t.db.Select("direction", "sender", "text", "data", "at").Where("conversation_id = ?", conversationID).
		Order("at, id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("transcript of conversation %d: %w", conversationID, err)
	}
	lines := make([]bots.Line, len(rows))
	for i, r := range rows {
		lines[i] = bots.Line{At: r.At.UTC(), From: r.Sender, Text: r.Text}
		// The buttons offered and a shared position live in the stored
		// message; a row that does not decode still gives its text.
		if r.Sender == "citizen" {
			var in bots.Inbound
			if json.Unmarshal([]byte(r.Data), &in) == nil {
				lines[i].Location = in.Location
			}
		} else {
			var out bots.Outbound
			if json.Unmarshal([]byte(r.Data), &out) == nil {
				lines[i].Choices, lines[i].AskLocation = out.Choices, out.AskLocation
			}
		}
	}
	return lines, nil
}
