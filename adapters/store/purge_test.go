package store_test

import (
	"testing"
	"time"

	"github.com/deskbot/deskbot/adapters/store"
	"github.com/deskbot/deskbot/bots"
	"github.com/deskbot/deskbot/knowledge"
)

func TestPurge(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		cutoff := t0.Add(30 * 24 * time.Hour)
		recent := cutoff.Add(time.Hour)
		bob := bots.CitizenID{Channel: "webchat", ExternalID: "bob"}
		carol := bots.CitizenID{Channel: "webchat", ExternalID: "carol"}

		// Old and done: all of it goes but the audit log.
		done := conversationWithMessages(t, s, alice, t0)
		doneTicket := newTicket("DONE01", alice, knowledge.Dispatch, t0)
		doneTicket.State, doneTicket.ClosedAt, doneTicket.ConversationID = bots.TicketResolved, ptr(t0.Add(time.Hour)), done.ID
		// Old but its ticket is still with an agent: all of it stays.
		open := conversationWithMessages(t, s, bob, t0)
		openTicket := newTicket("OPEN01", bob, knowledge.Handoff, t0)
		openTicket.State, openTicket.ConversationID = bots.TicketClaimed, open.ID
		// Recent: stays.
		fresh := conversationWithMessages(t, s, carol, recent)
		freshTicket := newTicket("FRESH1", carol, knowledge.Handoff, recent)
		freshTicket.State, freshTicket.ClosedAt, freshTicket.ConversationID = bots.TicketResolved, ptr(recent), fresh.ID
		// Opened long ago, closed after the cutoff: stays.
		lateTicket := newTicket("LATE01", carol, knowledge.Handoff, t0)
		lateTicket.State, lateTicket.ClosedAt = bots.TicketWithdrawn, ptr(recent)

		createTickets(t, s, doneTicket, openTicket, freshTicket, lateTicket)
		update(t, s, func(tx bots.Tx) error {
			if err := tx.SaveRating("DONE01", 5, t0.Add(2*time.Hour)); err != nil {
				return err
			}
			if err := tx.SaveRating("FRESH1", 4, recent); err != nil {
				return err
			}
			return tx.Audit(bots.AuditEntry{At: t0, TicketID: "DONE01", Actor: "bot", Event: "created"})
		})
		// Old outbox rows: one sent, one given up, one still to send.
		enqueue(t, s, 3, t0)
		items := claim(t, s, "w1", t0, 3)
		if err := s.MarkSent(t.Context(), items[0].ID, "w1", t0); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkFailed(t.Context(), items[1].ID, "w1", "blocked"); err != nil {
			t.Fatal(err)
		}

		n, err := s.Purge(t.Context(), cutoff)
		if err != nil {
			t.Fatal(err)
		}
		// 2 messages + 1 conversation + 1 rating + 1 ticket + 2 outbox rows
		if n != 7 {
			t.Errorf("Purge deleted %d rows, want 7", n)
		}

		update(t, s, func(tx bots.Tx) error {
			_, err := tx.Ticket("DONE01")
			wantCode(t, err, bots.ENOTFOUND)
			_, err = tx.Conversation(done.ID)
			wantCode(t, err, bots.ENOTFOUND)
			if lines, err := tx.Transcript(done.ID); err != nil || len(lines) != 0 {
				t.Errorf("purged conversation's transcript = %v, %v; want none", lines, err)
			}

			for _, id := range []string{"OPEN01", "FRESH1", "LATE01"} {
				if _, err := tx.Ticket(id); err != nil {
					t.Errorf("ticket %s was purged: %v", id, err)
				}
			}
			for _, c := range []*bots.Conversation{open, fresh} {
				if _, err := tx.Conversation(c.ID); err != nil {
					t.Errorf("conversation of %s was purged: %v", c.Citizen, err)
				}
				if lines, err := tx.Transcript(c.ID); err != nil || len(lines) != 2 {
					t.Errorf("transcript of %s = %d lines, %v; want 2", c.Citizen, len(lines), err)
				}
			}
			return nil
		})
		if trail, err := s.AuditTrail(t.Context(), "DONE01"); err != nil || len(trail) != 1 {
			t.Errorf("audit trail of the purged ticket = %v, %v; want it kept", trail, err)
		}
		if got := s.Count(t, "ratings"); got != 1 {
			t.Errorf("%d ratings left, want the recent one", got)
		}
		if pending, _, err := s.OutboxStats(t.Context(), recent); err != nil || pending != 1 {
			t.Errorf("%d outbox rows pending after purge, %v; want the unsent one", pending, err)
		}

		if again, err := s.Purge(t.Context(), cutoff); err != nil || again != 0 {
			t.Errorf("a second purge deleted %d rows, %v; want 0", again, err)
		}
	})
}

// conversationWithMessages stores a conversation of citizen at at, with
// one message each way.
func conversationWithMessages(t *testing.T, s *store.Store, citizen bots.CitizenID, at time.Time) *bots.Conversation {
	t.Helper()
	c := newConversation(t, s, citizen, at)
	update(t, s, func(tx bots.Tx) error {
		if _, err := tx.RecordInbound(bots.Inbound{Citizen: citizen, ExternalID: citizen.ExternalID + "-1", Text: "你好", At: at}, c.ID); err != nil {
			return err
		}
		return tx.RecordOutbound(c.ID, bots.Outbound{Citizen: citizen, Text: "您好，请讲"}, at)
	})
	return c
}

func ptr[T any](v T) *T { return &v }
