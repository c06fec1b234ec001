package store_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/deskbot/deskbot/adapters/store"
	"github.com/deskbot/deskbot/bots"
	"github.com/deskbot/deskbot/knowledge"
)

// newConversation stores a conversation of citizen started at and returns it.
func newConversation(t *testing.T, s *store.Store, citizen bots.CitizenID, at time.Time) *bots.Conversation {
	t.Helper()
	c := &bots.Conversation{Citizen: citizen, State: bots.ConvActive, StartedAt: at, LastAt: at}
	update(t, s, func(tx bots.Tx) error { return tx.SaveConversation(c) })
	return c
}

func TestRecordInboundOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		c := newConversation(t, s, alice, t0)
		in := bots.Inbound{Citizen: alice, ExternalID: "m-17", Text: "楼上装修太吵了", At: t0}
		for i, wantDup := range []bool{false, true} {
			update(t, s, func(tx bots.Tx) error {
				dup, err := tx.RecordInbound(in, c.ID)
				if dup != wantDup {
					t.Errorf("delivery %d: dup = %v, want %v", i+1, dup, wantDup)
				}
				return err
			})
		}
		if n := s.Count(t, "messages"); n != 1 {
			t.Errorf("a message delivered twice is stored %d times, want once", n)
		}

		// The same message id on another channel is another message.
		other := in
		other.Citizen = bots.CitizenID{Channel: "webchat", ExternalID: "s-1"}
		update(t, s, func(tx bots.Tx) error {
			dup, err := tx.RecordInbound(other, c.ID)
			if dup {
				t.Error("the same external id on another channel was taken for a redelivery")
			}
			return err
		})
	})
}

// A channel that gives no message id cannot be deduplicated: every
// message is kept.
func TestRecordInboundWithoutExternalID(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		c := newConversation(t, s, alice, t0)
		update(t, s, func(tx bots.Tx) error {
			for i := range 2 {
				dup, err := tx.RecordInbound(bots.Inbound{Citizen: alice, Text: "喂", At: t0.Add(time.Duration(i) * time.Second)}, c.ID)
				if err != nil || dup {
					t.Errorf("message %d without an external id: dup = %v, %v", i+1, dup, err)
				}
			}
			return nil
		})
		if n := s.Count(t, "messages"); n != 2 {
			t.Errorf("stored %d messages, want 2", n)
		}
	})
}

// On PostgreSQL a failed statement aborts its transaction; a redelivery
// must not, so the rest of the event's work still commits.
func TestDuplicateKeepsTransactionUsable(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		c := newConversation(t, s, alice, t0)
		in := bots.Inbound{Citizen: alice, ExternalID: "m-1", Text: "有人落水了", At: t0}
		update(t, s, func(tx bots.Tx) error { _, err := tx.RecordInbound(in, c.ID); return err })

		update(t, s, func(tx bots.Tx) error {
			dup, err := tx.RecordInbound(in, c.ID)
			if err != nil || !dup {
				t.Errorf("redelivery: dup = %v, %v; want true", dup, err)
			}
			err = tx.CreateTicket(newTicket("AAAAAA", alice, knowledge.Urgent, t0))
			if err != nil {
				return err
			}
			// A clash on the ticket id must leave the transaction usable too.
			wantCode(t, tx.CreateTicket(newTicket("AAAAAA", alice, knowledge.Urgent, t0)), bots.ECONFLICT)
			if err := tx.CreateTicket(newTicket("BBBBBB", alice, knowledge.Urgent, t0)); err != nil {
				return err
			}
			c.State = bots.ConvWithAgent
			return tx.SaveConversation(c)
		})
		update(t, s, func(tx bots.Tx) error {
			for _, id := range []string{"AAAAAA", "BBBBBB"} {
				if _, err := tx.Ticket(id); err != nil {
					t.Errorf("ticket %s was not kept: %v", id, err)
				}
			}
			got, err := tx.Conversation(c.ID)
			if err == nil && got.State != bots.ConvWithAgent {
				t.Errorf("conversation state = %s, want %s", got.State, bots.ConvWithAgent)
			}
			return err
		})
	})
}

func TestTranscript(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		c := newConversation(t, s, alice, t0)
		other := newConversation(t, s, bots.CitizenID{Channel: "webchat", ExternalID: "x"}, t0)
		update(t, s, func(tx bots.Tx) error {
			return errors.Join(
				tx.RecordOutbound(c.ID, bots.Outbound{Citizen: alice, Text: "请问发生在什么地方？", AskLocation: true, Choices: []bots.Choice{{Label: "转人工", Value: "转人工"}}}, t0.Add(time.Second)),
				tx.RecordOutbound(c.ID, bots.Outbound{Citizen: alice, Text: "民警已在路上", FromAgent: "wang", TicketID: "K7Q2PX"}, t0.Add(3*time.Second)),
				ignoreDup(tx.RecordInbound(bots.Inbound{Citizen: alice, ExternalID: "1", Text: "有人打架", At: t0}, c.ID)),
				ignoreDup(tx.RecordInbound(bots.Inbound{Citizen: alice, ExternalID: "2", Text: "人民路12号", At: t0.Add(2 * time.Second), Location: &bots.Location{Lat: 30.1, Lon: 120.2, HasCoords: true}}, c.ID)),
				ignoreDup(tx.RecordInbound(bots.Inbound{Citizen: alice, ExternalID: "3", Text: "别的对话", At: t0}, other.ID)),
			)
		})
		update(t, s, func(tx bots.Tx) error {
			got, err := tx.Transcript(c.ID)
			if err != nil {
				return err
			}
			want := []bots.Line{
				{At: t0, From: "citizen", Text: "有人打架"},
				{At: t0.Add(time.Second), From: "bot", Text: "请问发生在什么地方？", AskLocation: true, Choices: []bots.Choice{{Label: "转人工", Value: "转人工"}}},
				{At: t0.Add(2 * time.Second), From: "citizen", Text: "人民路12号", Location: &bots.Location{Lat: 30.1, Lon: 120.2, HasCoords: true}},
				{At: t0.Add(3 * time.Second), From: "agent:wang", Text: "民警已在路上"},
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Transcript =\n%+v\nwant\n%+v", got, want)
			}
			return nil
		})
	})
}

func ignoreDup(_ bool, err error) error { return err }

// Update keeps all of an event's work or none of it.
func TestFailedUpdateKeepsNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		errBoom := errors.New("boom")
		c := &bots.Conversation{Citizen: alice, State: bots.ConvWithAgent, StartedAt: t0, LastAt: t0}
		err := s.Update(t.Context(), func(tx bots.Tx) error {
			if err := tx.SaveConversation(c); err != nil {
				return err
			}
			if _, err := tx.RecordInbound(bots.Inbound{Citizen: alice, ExternalID: "m-1", Text: "救命", At: t0}, c.ID); err != nil {
				return err
			}
			if err := tx.CreateTicket(newTicket("K7Q2PX", alice, knowledge.Urgent, t0)); err != nil {
				return err
			}
			if err := tx.SaveRating("K7Q2PX", 5, t0); err != nil {
				return err
			}
			if err := tx.Audit(bots.AuditEntry{At: t0, TicketID: "K7Q2PX", Actor: "bot", Event: "created"}); err != nil {
				return err
			}
			if err := tx.Enqueue(bots.OutboxItem{Kind: bots.ToAgents, Channel: "agents", Payload: []byte(`{}`), CreatedAt: t0}); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Update returned %v, want fn's error", err)
		}
		for _, table := range []string{"conversations", "messages", "tickets", "ratings", "audit_log", "outbox"} {
			if n := s.Count(t, table); n != 0 {
				t.Errorf("after a failed update, %s has %d rows, want 0", table, n)
			}
		}

		// The redelivery of the message that failed is not a duplicate.
		update(t, s, func(tx bots.Tx) error {
			dup, err := tx.RecordInbound(bots.Inbound{Citizen: alice, ExternalID: "m-1", Text: "救命", At: t0}, 1)
			if dup {
				t.Error("the message of a rolled back update counts as already delivered")
			}
			return err
		})
	})
}

// fn's error comes back with its code, for the adapters to show.
func TestUpdateKeepsErrorCode(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		err := s.Update(t.Context(), func(tx bots.Tx) error {
			_, err := tx.Ticket("NOSUCH")
			return err
		})
		wantCode(t, err, bots.ENOTFOUND)
	})
}
