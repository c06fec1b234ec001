// Package botstest is the engine's test kit: an in-memory Store with real
// transactions (all or nothing), recording channels, and a desk that wires
// them to a real engine and matcher, so tests of the engine and of
// adapters read like the handbook.
package botstest

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/deskbot/deskbot/bots"
)

// MemStore is a bots.Store in memory. Update works on a copy of the state
// and keeps it only if fn succeeds, so tests see the same all-or-nothing
// behaviour as a database.
type MemStore struct {
	mu sync.Mutex
	st memState
}

type outboxRow struct {
	bots.OutboxItem
	SentAt      *time.Time
	Failed      bool
	LockedBy    string
	LockedUntil time.Time
}

type message struct {
	ConversationID int64
	Line           bots.Line
	Channel        string
	ExternalID     string
}

type memState struct {
	NextConv, NextOutbox int64
	Convs                map[int64]bots.Conversation
	Tickets              map[string]bots.Ticket
	Messages             []message
	Inbound              map[string]bool
	Outbox               []outboxRow
	Audit                []bots.AuditEntry
	Ratings              map[string]int
}

var _ bots.Store = (*MemStore)(nil)

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{st: memState{Convs: map[int64]bots.Conversation{}, Tickets: map[string]bots.Ticket{}, Inbound: map[string]bool{}, Ratings: map[string]int{}}}
}

// clone deep-copies the state through JSON: slow, simple and certainly
// not sharing anything with the original.
func (s memState) clone() memState {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	var c memState
	if err := json.Unmarshal(b, &c); err != nil {
		panic(err)
	}
	return c
}

// Update implements bots.Store.
func (m *MemStore) Update(ctx context.Context, fn func(tx bots.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	work := m.st.clone()
	if err := fn(&memTx{st: &work}); err != nil {
		return err
	}
	m.st = work
	return nil
}

// ClaimOutbox implements bots.Store.
func (m *MemStore) ClaimOutbox(_ context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]bots.OutboxItem, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []bots.OutboxItem
	for i := range m.st.Outbox {
		r := &m.st.Outbox[i]
		if len(out) == limit {
			break
		}
		if r.SentAt != nil || r.Failed || r.NextAttemptAt.After(now) || (r.LockedBy != "" && r.LockedUntil.After(now)) {
			continue
		}
		r.LockedBy, r.LockedUntil = worker, now.Add(lease)
		out = append(out, r.OutboxItem)
	}
	return out, nil
}

func (m *MemStore) row(id int64, worker string) *outboxRow {
	for i := range m.st.Outbox {
		if r := &m.st.Outbox[i]; r.ID == id && r.LockedBy == worker {
			return r
		}
	}
	return nil
}

// MarkSent implements bots.Store.
func (m *MemStore) MarkSent(_ context.Context, id int64, worker string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.row(id, worker); r != nil {
		r.SentAt, r.LockedBy = &at, ""
	}
	return nil
}

// MarkRetry implements bots.Store.
func (m *MemStore) MarkRetry(_ context.Context, id int64, worker string, next time.Time, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.row(id, worker); r != nil {
		r.Attempts++
		r.NextAttemptAt, r.LastError, r.LockedBy = next, reason, ""
	}
	return nil
}

// MarkFailed implements bots.MarkFailer.
func (m *MemStore) MarkFailed(_ context.Context, id int64, worker string, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.row(id, worker); r != nil {
		r.Failed, r.LastError, r.LockedBy = true, reason, ""
	}
	return nil
}

// OutboxStats implements bots.Store.
func (m *MemStore) OutboxStats(_ context.Context, now time.Time) (int, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, oldest := 0, time.Duration(0)
	for _, r := range m.st.Outbox {
		if r.SentAt == nil && !r.Failed {
			n++
			if age := now.Sub(r.CreatedAt); age > oldest {
				oldest = age
			}
		}
	}
	return n, oldest, nil
}

// Purge implements bots.Store.
func (m *MemStore) Purge(_ context.Context, before time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	msgs := m.st.Messages[:0]
	for _, msg := range m.st.Messages {
		if msg.Line.At.Before(before) {
			n++
			continue
		}
		msgs = append(msgs, msg)
	}
	m.st.Messages = msgs
	for id, c := range m.st.Convs {
		if c.LastAt.Before(before) {
			delete(m.st.Convs, id)
			n++
		}
	}
	for id, t := range m.st.Tickets {
		if t.State.Closed() && t.CreatedAt.Before(before) {
			delete(m.st.Tickets, id)
			n++
		}
	}
	return n, nil
}

// Ping implements bots.Store.
func (m *MemStore) Ping(context.Context) error { return nil }

// Close implements bots.Store.
func (m *MemStore) Close() error { return nil }

// Audit returns the audit log.
func (m *MemStore) AuditLog() []bots.AuditEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]bots.AuditEntry{}, m.st.Audit...)
}

// Rating returns the stored rating of a ticket, 0 if none.
func (m *MemStore) Rating(ticketID string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st.Ratings[ticketID]
}

// Tickets returns every ticket.
func (m *MemStore) Tickets() []bots.Ticket {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []bots.Ticket
	for _, t := range m.st.Tickets {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out
}

// InboundCount returns how many inbound messages are stored.
func (m *MemStore) InboundCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, msg := range m.st.Messages {
		if msg.Line.From == "citizen" {
			n++
		}
	}
	return n
}

type memTx struct{ st *memState }

var _ bots.Tx = (*memTx)(nil)

func (t *memTx) RecordInbound(in bots.Inbound, conv int64) (bool, error) {
	key := in.Citizen.Channel + "\x00" + in.ExternalID
	if in.ExternalID != "" && t.st.Inbound[key] {
		return true, nil
	}
	if in.ExternalID != "" {
		t.st.Inbound[key] = true
	}
	t.st.Messages = append(t.st.Messages, message{ConversationID: conv, Channel: in.Citizen.Channel, ExternalID: in.ExternalID, Line: bots.Line{At: in.At, From: "citizen", Text: in.Text, Location: in.Location}})
	return false, nil
}

func (t *memTx) RecordOutbound(conv int64, out bots.Outbound, at time.Time) error {
	from := "bot"
	if out.FromAgent != "" {
		from = "agent:" + out.FromAgent
	}
	t.st.Messages = append(t.st.Messages, message{ConversationID: conv, Line: bots.Line{At: at, From: from, Text: out.Text, Choices: out.Choices, AskLocation: out.AskLocation}})
	return nil
}

func (t *memTx) Transcript(conv int64) ([]bots.Line, error) {
	var out []bots.Line
	for _, m := range t.st.Messages {
		if m.ConversationID == conv {
			out = append(out, m.Line)
		}
	}
	return out, nil
}

func (t *memTx) CurrentConversation(c bots.CitizenID) (*bots.Conversation, error) {
	var best *bots.Conversation
	for _, conv := range t.st.Convs {
		if conv.Citizen == c && (best == nil || conv.ID > best.ID) {
			cc := conv
			best = &cc
		}
	}
	return best, nil
}

func (t *memTx) Conversation(id int64) (*bots.Conversation, error) {
	c, ok := t.st.Convs[id]
	if !ok {
		return nil, bots.Errorf(bots.ENOTFOUND, "conversation %d not found", id)
	}
	return &c, nil
}

func (t *memTx) SaveConversation(c *bots.Conversation) error {
	if c.ID == 0 {
		t.st.NextConv++
		c.ID = t.st.NextConv
	}
	t.st.Convs[c.ID] = *c
	return nil
}

func (t *memTx) ConversationsStartedBetween(from, to time.Time) ([]*bots.Conversation, error) {
	var out []*bots.Conversation
	for _, c := range t.st.Convs {
		if !c.StartedAt.Before(from) && c.StartedAt.Before(to) && !c.Settled && !c.OfferedHuman && c.State != bots.ConvClosed {
			cc := c
			out = append(out, &cc)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (t *memTx) CreateTicket(tk *bots.Ticket) error {
	if _, ok := t.st.Tickets[tk.ID]; ok {
		return bots.Errorf(bots.ECONFLICT, "ticket id %s taken", tk.ID)
	}
	t.st.Tickets[tk.ID] = *tk
	return nil
}

func (t *memTx) Ticket(id string) (*bots.Ticket, error) {
	tk, ok := t.st.Tickets[strings.ToUpper(id)]
	if !ok {
		return nil, bots.Errorf(bots.ENOTFOUND, "ticket %s not found", id)
	}
	return &tk, nil
}

func (t *memTx) SaveTicket(tk *bots.Ticket) error {
	if _, ok := t.st.Tickets[tk.ID]; !ok {
		return bots.Errorf(bots.ENOTFOUND, "ticket %s not found", tk.ID)
	}
	t.st.Tickets[tk.ID] = *tk
	return nil
}

func (t *memTx) TicketsOf(c bots.CitizenID, limit int) ([]*bots.Ticket, error) {
	var out []*bots.Ticket
	for _, tk := range t.st.Tickets {
		if tk.Citizen == c {
			tt := tk
			out = append(out, &tt)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (t *memTx) OpenTickets(limit int) ([]*bots.Ticket, error) {
	var out []*bots.Ticket
	for _, tk := range t.st.Tickets {
		if !tk.State.Closed() {
			tt := tk
			out = append(out, &tt)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if a, b := out[i].Action.Rank(), out[j].Action.Rank(); a != b {
			return a > b
		}
		return out[i].CreatedAt.Before(out[j].CreatedAt)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (t *memTx) UnclaimedBefore(at time.Time) ([]*bots.Ticket, error) {
	var out []*bots.Ticket
	for _, tk := range t.st.Tickets {
		if tk.State == bots.TicketOpen && tk.Dispatched() && !tk.UnclaimedSent && tk.CreatedAt.Before(at) {
			tt := tk
			out = append(out, &tt)
		}
	}
	return out, nil
}

func (t *memTx) SaveRating(id string, rating int, at time.Time) error {
	tk, ok := t.st.Tickets[id]
	if !ok {
		return bots.Errorf(bots.ENOTFOUND, "ticket %s not found", id)
	}
	tk.Rating = rating
	t.st.Tickets[id] = tk
	t.st.Ratings[id] = rating
	return nil
}

func (t *memTx) Enqueue(it bots.OutboxItem) error {
	t.st.NextOutbox++
	it.ID = t.st.NextOutbox
	t.st.Outbox = append(t.st.Outbox, outboxRow{OutboxItem: it})
	return nil
}

func (t *memTx) Audit(e bots.AuditEntry) error {
	t.st.Audit = append(t.st.Audit, e)
	return nil
}
