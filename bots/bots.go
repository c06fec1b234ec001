// Package bots is the conversation engine of the service desk and the
// desk's domain types: conversations, inbound and outbound messages,
// tickets, actions. It follows the handbook's procedure (greet, answer,
// ask where, hand over, answer status, close) independent of any channel,
// and says through small interfaces what it needs from outside: a Store, a
// channel to citizens, a channel to agents, a clock and a matcher.
// Adapters implement those interfaces; this package knows none of them.
package bots

import (
	"fmt"
	"time"

	"github.com/deskbot/deskbot/knowledge"
)

// Action is what the desk does about a message: self_help < handoff <
// dispatch < urgent.
type Action = knowledge.Action

// CitizenID is a citizen's identity on one channel: (channel, external id),
// e.g. ("telegram", "123456789") or ("webchat", a browser's session id).
type CitizenID struct {
	Channel    string `json:"channel"`
	ExternalID string `json:"external_id"`
}

func (c CitizenID) String() string { return c.Channel + ":" + c.ExternalID }

// Location is where something happens: an address as the citizen gave it,
// a shared position, or Unknown when the citizen did not say after being
// asked twice.
type Location struct {
	Text      string  `json:"text,omitempty"`
	Lat       float64 `json:"lat,omitempty"`
	Lon       float64 `json:"lon,omitempty"`
	HasCoords bool    `json:"has_coords,omitempty"`
	Unknown   bool    `json:"unknown,omitempty"`
}

// Known reports whether the location says where.
func (l Location) Known() bool { return !l.Unknown && (l.Text != "" || l.HasCoords) }

func (l Location) String() string {
	switch {
	case l.Text != "" && l.HasCoords:
		return fmt.Sprintf("%s (%.5f, %.5f)", l.Text, l.Lat, l.Lon)
	case l.HasCoords:
		return fmt.Sprintf("(%.5f, %.5f)", l.Lat, l.Lon)
	case l.Text != "":
		return l.Text
	default:
		return "地点不明"
	}
}

// Attachment is a file or picture a citizen sent, by reference.
type Attachment struct {
	Kind string `json:"kind"` // photo, file, voice...
	URL  string `json:"url"`
	Name string `json:"name,omitempty"`
}

// Choice is a button offered to the citizen; pressing it sends Value.
type Choice struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Inbound is a message from a citizen, as a channel delivered it.
type Inbound struct {
	Citizen     CitizenID    `json:"citizen"`
	ExternalID  string       `json:"external_id"` // the channel's message id: a redelivery has the same one
	Text        string       `json:"text"`
	Location    *Location    `json:"location,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	At          time.Time    `json:"at"`
}

// Outbound is a message to a citizen.
type Outbound struct {
	Citizen     CitizenID `json:"citizen"`
	Text        string    `json:"text"`
	Choices     []Choice  `json:"choices,omitempty"`
	AskLocation bool      `json:"ask_location,omitempty"` // the channel may offer to share a position
	TicketID    string    `json:"ticket_id,omitempty"`
	FromAgent   string    `json:"from_agent,omitempty"` // set when an agent wrote it
}

// TicketState is where a ticket is in its life: open → claimed →
// resolved, or withdrawn by the citizen.
type TicketState string

// Ticket states.
const (
	TicketOpen      TicketState = "open"
	TicketClaimed   TicketState = "claimed"
	TicketResolved  TicketState = "resolved"
	TicketWithdrawn TicketState = "withdrawn"
)

// Closed reports whether the ticket needs nobody any more.
func (s TicketState) Closed() bool { return s == TicketResolved || s == TicketWithdrawn }

// Signal is an escalation signal found in the citizen's words.
type Signal struct {
	Signal string `json:"signal"`
	Text   string `json:"text"`
}

// Ticket is a case handed to a person.
type Ticket struct {
	ID             string      `json:"id"`
	Citizen        CitizenID   `json:"citizen"`
	ConversationID int64       `json:"conversation_id"`
	Intent         string      `json:"intent"`
	Title          string      `json:"title"` // the scenario's title, for agents
	Action         Action      `json:"action"`
	Rule           string      `json:"rule"` // the rule that set the action
	Signals        []Signal    `json:"signals,omitempty"`
	Notify         []string    `json:"notify,omitempty"` // duty_leader...
	Summary        string      `json:"summary"`          // the citizen's words that opened it
	Location       Location    `json:"location"`
	Nuisance       bool        `json:"nuisance,omitempty"` // flagged for agents: repeated abuse of the desk
	State          TicketState `json:"state"`
	CreatedAt      time.Time   `json:"created_at"`
	ClaimedAt      *time.Time  `json:"claimed_at,omitempty"`
	ClaimedBy      string      `json:"claimed_by,omitempty"`
	ClosedAt       *time.Time  `json:"closed_at,omitempty"`
	ClosedBy       string      `json:"closed_by,omitempty"`
	UnclaimedSent  bool        `json:"unclaimed_sent,omitempty"` // the citizen was told nobody has claimed it yet
	Rating         int         `json:"rating,omitempty"`         // 1–5, the citizen's 回访 answer
}

// Dispatched reports whether officers are sent (dispatch or urgent).
func (t *Ticket) Dispatched() bool { return t.Action.Rank() >= knowledge.Dispatch.Rank() }

// ConversationState is where a conversation stands.
type ConversationState string

// Conversation states.
const (
	ConvActive        ConversationState = "active"         // the bot answers
	ConvAwaitingWhere ConversationState = "awaiting_where" // a dispatch waits for the location
	ConvWithAgent     ConversationState = "with_agent"     // a ticket is with a person: the bot relays
	ConvAwaitingRate  ConversationState = "awaiting_rating"
	ConvClosed        ConversationState = "closed"
)

// Pending is a dispatch held until the citizen says where.
type Pending struct {
	Intent  string   `json:"intent"`
	Action  Action   `json:"action"`
	Rule    string   `json:"rule"`
	Signals []Signal `json:"signals,omitempty"`
	Notify  []string `json:"notify,omitempty"`
	Summary string   `json:"summary"`
	Asked   int      `json:"asked"` // how many times the location was asked
}

// Conversation is one citizen's exchange with the desk, from first
// message to closing.
type Conversation struct {
	ID             int64             `json:"id"`
	Citizen        CitizenID         `json:"citizen"`
	State          ConversationState `json:"state"`
	StartedAt      time.Time         `json:"started_at"`
	LastAt         time.Time         `json:"last_at"`
	LastIntent     string            `json:"last_intent,omitempty"` // for "why?" questions
	Pending        *Pending          `json:"pending,omitempty"`
	TicketID       string            `json:"ticket_id,omitempty"` // the ticket with an agent, or awaiting its rating
	Misunderstood  int               `json:"misunderstood"`       // messages in a row not understood
	OfferedHuman   bool              `json:"offered_human"`       // the 10-minute offer was made
	Settled        bool              `json:"settled"`             // a ticket was made or the citizen said goodbye
	NuisanceCount  int               `json:"nuisance_count"`
	ThrottledUntil *time.Time        `json:"throttled_until,omitempty"`
	NeedsLocation  bool              `json:"needs_location,omitempty"` // an urgent ticket went out without one
}
