package bots

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Store keeps everything the desk remembers. All that the engine changes
// for one event (a citizen's message, an agent's claim, a timer) happens
// inside one Update, so a crash or an error leaves all of it or none: an
// inbound message, the conversation it moves, the ticket it opens and the
// outbox rows that will tell the citizen and the agents.
type Store interface {
	// Update runs fn in one transaction. If fn returns an error nothing
	// it did is kept, and the error is returned.
	Update(ctx context.Context, fn func(tx Tx) error) error

	// ClaimOutbox takes up to limit rows that are due (not sent, next
	// attempt at or before now, not leased to a live worker) and leases
	// them to worker until now+lease. Two workers never get the same row
	// (PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED).
	ClaimOutbox(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]OutboxItem, error)
	// MarkSent records that worker delivered the row.
	MarkSent(ctx context.Context, id int64, worker string, at time.Time) error
	// MarkRetry records a failed attempt and when to try again.
	MarkRetry(ctx context.Context, id int64, worker string, next time.Time, reason string) error
	// OutboxStats reports the rows not yet sent and the age of the oldest.
	OutboxStats(ctx context.Context, now time.Time) (pending int, oldest time.Duration, err error)

	// Purge deletes conversations, messages, sent outbox rows and tickets
	// older than before; audit records are kept.
	Purge(ctx context.Context, before time.Time) (int64, error)
	// Ping checks the database is reachable.
	Ping(ctx context.Context) error
	Close() error
}

// Tx is what the engine can do inside one transaction.
type Tx interface {
	// RecordInbound stores a citizen's message. dup is true, and nothing
	// is stored, when the channel already delivered a message with the
	// same (channel, external id).
	RecordInbound(in Inbound, conversationID int64) (dup bool, err error)
	// RecordOutbound stores a message the desk (or an agent) sends.
	RecordOutbound(conversationID int64, out Outbound, at time.Time) error
	// Transcript returns a conversation's messages, oldest first.
	Transcript(conversationID int64) ([]Line, error)

	// CurrentConversation returns the citizen's latest conversation, or
	// nil when there is none.
	CurrentConversation(c CitizenID) (*Conversation, error)
	// Conversation returns a conversation by id.
	Conversation(id int64) (*Conversation, error)
	// SaveConversation inserts (ID 0, and sets ID) or updates.
	SaveConversation(c *Conversation) error
	// ConversationsStartedBetween returns conversations neither settled,
	// closed nor offered a person, started in [from, to) (for the 10-minute
	// rule; the lower bound keeps abandoned conversations from piling up).
	ConversationsStartedBetween(from, to time.Time) ([]*Conversation, error)

	// CreateTicket inserts a ticket; an id already taken is ECONFLICT.
	CreateTicket(t *Ticket) error
	// Ticket returns a ticket by id, or ENOTFOUND.
	Ticket(id string) (*Ticket, error)
	// SaveTicket updates a ticket.
	SaveTicket(t *Ticket) error
	// TicketsOf returns a citizen's tickets, newest first.
	TicketsOf(c CitizenID, limit int) ([]*Ticket, error)
	// OpenTickets returns tickets not closed, most serious first, then
	// oldest first.
	OpenTickets(limit int) ([]*Ticket, error)
	// UnclaimedBefore returns dispatch and urgent tickets still open
	// (unclaimed) created before t, whose citizen was not yet told.
	UnclaimedBefore(t time.Time) ([]*Ticket, error)
	// SaveRating stores the citizen's 1–5 rating of a resolved ticket.
	SaveRating(ticketID string, rating int, at time.Time) error

	// Enqueue writes a message for the outbox worker to send.
	Enqueue(item OutboxItem) error
	// Audit records who did what to a ticket.
	Audit(e AuditEntry) error
}

// Line is one message of a transcript.
type Line struct {
	At          time.Time `json:"at"`
	From        string    `json:"from"` // "citizen", "bot" or "agent:<name>"
	Text        string    `json:"text"`
	Choices     []Choice  `json:"choices,omitempty"`      // buttons the desk offered
	AskLocation bool      `json:"ask_location,omitempty"` // the desk asked where
	Location    *Location `json:"location,omitempty"`     // a position the citizen shared
}

// AuditEntry records an action on a ticket: kept when everything else
// is purged.
type AuditEntry struct {
	At       time.Time `json:"at"`
	TicketID string    `json:"ticket_id"`
	Actor    string    `json:"actor"` // "bot", "citizen" or "agent:<name>"
	Event    string    `json:"event"` // created, claimed, replied, resolved, withdrawn, rated, escalated...
	Detail   string    `json:"detail,omitempty"`
}

// OutboxKind says who an outbox row is for.
type OutboxKind string

// Outbox kinds.
const (
	ToCitizen OutboxKind = "citizen" // Payload is an Outbound
	ToAgents  OutboxKind = "agent"   // Payload is an AgentEvent
)

// OutboxItem is one message waiting to be sent, written in the same
// transaction as the change that caused it.
type OutboxItem struct {
	ID            int64      `json:"id"`
	Kind          OutboxKind `json:"kind"`
	Channel       string     `json:"channel"` // the citizen's channel; "agents" for ToAgents
	Payload       []byte     `json:"payload"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	CreatedAt     time.Time  `json:"created_at"`
	LastError     string     `json:"last_error,omitempty"`
}

// AgentEventKind names what happened that agents must see.
type AgentEventKind string

// Agent event kinds.
const (
	EventNewTicket   AgentEventKind = "new_ticket"
	EventCitizenSaid AgentEventKind = "citizen_message"
	EventLocation    AgentEventKind = "location"
	EventEscalated   AgentEventKind = "escalated"
	EventWithdrawn   AgentEventKind = "withdrawn"
	EventUnclaimed   AgentEventKind = "unclaimed_reminder"
	EventRated       AgentEventKind = "rated"
	// What agents did, so every agent channel (other processes' inboxes,
	// a Slack card) shows who holds a case: nobody is pinged twice.
	EventClaimed  AgentEventKind = "claimed"
	EventReplied  AgentEventKind = "agent_replied"
	EventResolved AgentEventKind = "resolved"
)

// AgentEvent is what the agent channel receives.
type AgentEvent struct {
	Kind       AgentEventKind `json:"kind"`
	Ticket     Ticket         `json:"ticket"`
	Text       string         `json:"text,omitempty"`
	Transcript []Line         `json:"transcript,omitempty"`
	At         time.Time      `json:"at"`
}

// Delivery identifies one attempt at sending an outbox row. OutboxID is
// stable across attempts, so a channel can tell a resend from a new
// message (see README: "Outbox").
type Delivery struct {
	OutboxID int64
	Attempt  int
}

// CitizenChannel sends messages to citizens on one channel (Telegram,
// the web chat, the console).
type CitizenChannel interface {
	SendToCitizen(ctx context.Context, d Delivery, m Outbound) error
}

// AgentChannel brings tickets to people (Slack, the web inbox, the
// console). Agents answer through the Engine's Claim, Reply and Resolve.
type AgentChannel interface {
	DeliverToAgents(ctx context.Context, d Delivery, e AgentEvent) error
}

// RetryAfterError is returned by a channel that asks to be called again
// no sooner than After (e.g. Telegram's 429 retry_after).
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("retry after %s: %v", e.After, e.Err)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// PermanentError is returned by a channel for a message that can never be
// delivered (the citizen blocked the bot): the outbox stops retrying it.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// DecodeOutbound reads a ToCitizen payload.
func DecodeOutbound(b []byte) (Outbound, error) {
	var m Outbound
	err := json.Unmarshal(b, &m)
	return m, err
}

// DecodeAgentEvent reads a ToAgents payload.
func DecodeAgentEvent(b []byte) (AgentEvent, error) {
	var e AgentEvent
	err := json.Unmarshal(b, &e)
	return e, err
}

// Error codes.
const (
	ENOTFOUND  = "not_found"
	ECONFLICT  = "conflict"
	EINVALID   = "invalid"
	EFORBIDDEN = "forbidden"
	EINTERNAL  = "internal"
)

// Error is the desk's error with a code; each adapter turns codes into
// what its user sees, in one place.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with a code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, EINTERNAL for other errors, or "".
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}
