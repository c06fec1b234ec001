package store_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/deskbot/deskbot/adapters/store"
	"github.com/deskbot/deskbot/bots"
	"github.com/deskbot/deskbot/knowledge"
)

// newTicket returns an open ticket of citizen.
func newTicket(id string, citizen bots.CitizenID, action knowledge.Action, created time.Time) *bots.Ticket {
	return &bots.Ticket{
		ID: id, Citizen: citizen, Intent: "report.crime", Title: "举报违法犯罪", Action: action,
		Summary: "有人在偷电动车", State: bots.TicketOpen, CreatedAt: created,
	}
}

func createTickets(t *testing.T, s *store.Store, tickets ...*bots.Ticket) {
	t.Helper()
	update(t, s, func(tx bots.Tx) error {
		for _, tk := range tickets {
			if err := tx.CreateTicket(tk); err != nil {
				return err
			}
		}
		return nil
	})
}

func TestTicketRoundTrip(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		claimed, closed := t0.Add(2*time.Minute), t0.Add(time.Hour)
		tk := &bots.Ticket{
			ID:             "K7Q2PX",
			Citizen:        alice,
			ConversationID: 12,
			Intent:         "help.gas_poisoning",
			Title:          "煤气中毒",
			Action:         knowledge.Urgent,
			Rule:           "life_at_risk",
			Signals:        []bots.Signal{{Signal: "danger", Text: "头晕"}},
			Notify:         []string{"duty_leader"},
			Summary:        "家里煤气味很重，有人头晕",
			Location:       bots.Location{Text: "人民路12号", Lat: 31.2304, Lon: 121.4737, HasCoords: true},
			Nuisance:       true,
			State:          bots.TicketResolved,
			CreatedAt:      t0,
			ClaimedAt:      &claimed,
			ClaimedBy:      "wang",
			ClosedAt:       &closed,
			ClosedBy:       "wang",
			UnclaimedSent:  true,
			Rating:         5,
		}
		allSet(t, tk)
		createTickets(t, s, tk)
		update(t, s, func(tx bots.Tx) error {
			got, err := tx.Ticket(tk.ID)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, tk) {
				t.Errorf("Ticket(%s) =\n%+v\nwant\n%+v", tk.ID, got, tk)
			}
			return nil
		})
	})
}

func TestTicketLifecycle(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		tk := newTicket("K7Q2PX", alice, knowledge.Dispatch, t0)
		createTickets(t, s, tk)
		update(t, s, func(tx bots.Tx) error {
			wantCode(t, tx.CreateTicket(newTicket("K7Q2PX", alice, knowledge.Handoff, t0)), bots.ECONFLICT)
			_, err := tx.Ticket("NOSUCH")
			wantCode(t, err, bots.ENOTFOUND)
			wantCode(t, tx.SaveTicket(newTicket("NOSUCH", alice, knowledge.Handoff, t0)), bots.ENOTFOUND)
			wantCode(t, tx.CreateTicket(newTicket("", alice, knowledge.Handoff, t0)), bots.EINVALID)
			return nil
		})

		claimed := t0.Add(3 * time.Minute)
		tk.State, tk.ClaimedAt, tk.ClaimedBy = bots.TicketClaimed, &claimed, "li"
		tk.Location = bots.Location{Unknown: true}
		update(t, s, func(tx bots.Tx) error { return tx.SaveTicket(tk) })
		update(t, s, func(tx bots.Tx) error {
			got, err := tx.Ticket(tk.ID)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, tk) {
				t.Errorf("after SaveTicket, Ticket =\n%+v\nwant\n%+v", got, tk)
			}
			if got.Action != knowledge.Dispatch {
				t.Errorf("the clashing CreateTicket changed the action to %s", got.Action)
			}
			return nil
		})
	})
}

func TestTicketsOf(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		bob := bots.CitizenID{Channel: "webchat", ExternalID: "1001"} // alice's id on another channel
		createTickets(t, s,
			newTicket("OLDEST", alice, knowledge.Handoff, t0),
			newTicket("NEWEST", alice, knowledge.Dispatch, t0.Add(2*time.Hour)),
			newTicket("MIDDLE", alice, knowledge.Handoff, t0.Add(time.Hour)),
			newTicket("BOBS01", bob, knowledge.Handoff, t0.Add(3*time.Hour)),
		)
		update(t, s, func(tx bots.Tx) error {
			all, err := tx.TicketsOf(alice, 0)
			if err != nil {
				return err
			}
			if want := []string{"NEWEST", "MIDDLE", "OLDEST"}; !reflect.DeepEqual(ticketIDs(all), want) {
				t.Errorf("TicketsOf(alice, 0) = %v, want %v", ticketIDs(all), want)
			}
			two, err := tx.TicketsOf(alice, 2)
			if err != nil {
				return err
			}
			if want := []string{"NEWEST", "MIDDLE"}; !reflect.DeepEqual(ticketIDs(two), want) {
				t.Errorf("TicketsOf(alice, 2) = %v, want %v", ticketIDs(two), want)
			}
			return nil
		})
	})
}

func TestOpenTicketsMostSeriousFirst(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		at := func(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }
		claimed := newTicket("HCLAIM", alice, knowledge.Handoff, at(0))
		claimed.State = bots.TicketClaimed
		resolved := newTicket("URESOL", alice, knowledge.Urgent, at(0))
		resolved.State = bots.TicketResolved
		withdrawn := newTicket("DWITHD", alice, knowledge.Dispatch, at(0))
		withdrawn.State = bots.TicketWithdrawn
		createTickets(t, s,
			newTicket("HANDF1", alice, knowledge.Handoff, at(1)),
			newTicket("DISPA2", alice, knowledge.Dispatch, at(5)),
			newTicket("URGEN1", alice, knowledge.Urgent, at(7)),
			newTicket("DISPA1", alice, knowledge.Dispatch, at(2)),
			newTicket("URGEN2", alice, knowledge.Urgent, at(9)),
			claimed, resolved, withdrawn,
		)
		update(t, s, func(tx bots.Tx) error {
			got, err := tx.OpenTickets(0)
			if err != nil {
				return err
			}
			want := []string{"URGEN1", "URGEN2", "DISPA1", "DISPA2", "HCLAIM", "HANDF1"}
			if !reflect.DeepEqual(ticketIDs(got), want) {
				t.Errorf("OpenTickets(0) = %v, want %v", ticketIDs(got), want)
			}
			top, err := tx.OpenTickets(3)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(ticketIDs(top), want[:3]) {
				t.Errorf("OpenTickets(3) = %v, want %v", ticketIDs(top), want[:3])
			}
			return nil
		})
	})
}

func TestUnclaimedBefore(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		cutoff := t0.Add(5 * time.Minute)
		claimed := newTicket("CLAIMD", alice, knowledge.Dispatch, t0)
		claimed.State = bots.TicketClaimed
		told := newTicket("TOLDAL", alice, knowledge.Urgent, t0)
		told.UnclaimedSent = true
		createTickets(t, s,
			newTicket("DISPAT", alice, knowledge.Dispatch, t0.Add(time.Minute)),
			newTicket("URGENT", alice, knowledge.Urgent, t0),
			newTicket("HANDOF", alice, knowledge.Handoff, t0),
			newTicket("RECENT", alice, knowledge.Urgent, cutoff),
			claimed, told,
		)
		update(t, s, func(tx bots.Tx) error {
			got, err := tx.UnclaimedBefore(cutoff)
			if err != nil {
				return err
			}
			if want := []string{"URGENT", "DISPAT"}; !reflect.DeepEqual(ticketIDs(got), want) {
				t.Errorf("UnclaimedBefore = %v, want %v", ticketIDs(got), want)
			}
			return nil
		})
	})
}

func ticketIDs(ts []*bots.Ticket) []string {
	ids := []string{}
	for _, tk := range ts {
		ids = append(ids, tk.ID)
	}
	return ids
}

func TestSaveRating(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		tk := newTicket("K7Q2PX", alice, knowledge.Handoff, t0)
		tk.State = bots.TicketResolved
		createTickets(t, s, tk)
		update(t, s, func(tx bots.Tx) error {
			wantCode(t, tx.SaveRating(tk.ID, 6, t0), bots.EINVALID)
			wantCode(t, tx.SaveRating(tk.ID, 0, t0), bots.EINVALID)
			wantCode(t, tx.SaveRating("NOSUCH", 4, t0), bots.ENOTFOUND)
			return tx.SaveRating(tk.ID, 4, t0.Add(time.Hour))
		})
		update(t, s, func(tx bots.Tx) error {
			got, err := tx.Ticket(tk.ID)
			if err == nil && got.Rating != 4 {
				t.Errorf("ticket rating = %d, want 4", got.Rating)
			}
			return err
		})
		if n := s.Count(t, "ratings"); n != 1 {
			t.Errorf("%d ratings stored, want 1", n)
		}
	})
}

func TestAuditTrail(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		entries := []bots.AuditEntry{
			{At: t0, TicketID: "K7Q2PX", Actor: "bot", Event: "created", Detail: "urgent by life_at_risk"},
			{At: t0.Add(time.Minute), TicketID: "K7Q2PX", Actor: "agent:wang", Event: "claimed"},
			{At: t0.Add(time.Minute), TicketID: "OTHER1", Actor: "bot", Event: "created"},
			{At: t0.Add(2 * time.Minute), TicketID: "K7Q2PX", Actor: "agent:wang", Event: "resolved"},
		}
		update(t, s, func(tx bots.Tx) error {
			for _, e := range entries {
				if err := tx.Audit(e); err != nil {
					return err
				}
			}
			return nil
		})
		got, err := s.AuditTrail(t.Context(), "K7Q2PX")
		if err != nil {
			t.Fatal(err)
		}
		if want := []bots.AuditEntry{entries[0], entries[1], entries[3]}; !reflect.DeepEqual(got, want) {
			t.Errorf("AuditTrail =\n%+v\nwant\n%+v", got, want)
		}
	})
}
