package store_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/deskbot/deskbot/adapters/store"
	"github.com/deskbot/deskbot/bots"
	"github.com/deskbot/deskbot/knowledge"
)

func TestConversationRoundTrip(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		throttled := t0.Add(time.Hour)
		c := &bots.Conversation{
			Citizen:    alice,
			State:      bots.ConvAwaitingWhere,
			StartedAt:  t0,
			LastAt:     t0.Add(2 * time.Minute),
			LastIntent: "noise.neighbor",
			Pending: &bots.Pending{
				Intent:  "help.gas_poisoning",
				Action:  knowledge.Urgent,
				Rule:    "life_at_risk",
				Signals: []bots.Signal{{Signal: "danger", Text: "煤气味很重"}},
				Notify:  []string{"duty_leader"},
				Summary: "家里煤气味很重，有人头晕",
				Asked:   1,
			},
			TicketID:       "K7Q2PX",
			Misunderstood:  2,
			OfferedHuman:   true,
			Settled:        true,
			NuisanceCount:  1,
			ThrottledUntil: &throttled,
			NeedsLocation:  true,
		}
		update(t, s, func(tx bots.Tx) error { return tx.SaveConversation(c) })
		if c.ID == 0 {
			t.Fatal("SaveConversation did not set the new conversation's ID")
		}
		allSet(t, c)

		update(t, s, func(tx bots.Tx) error {
			got, err := tx.Conversation(c.ID)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, c) {
				t.Errorf("Conversation(%d) =\n%+v\nwant\n%+v", c.ID, got, c)
			}
			if !reflect.DeepEqual(got.Pending, c.Pending) {
				t.Errorf("pending = %+v, want %+v", got.Pending, c.Pending)
			}
			return nil
		})

		// An update keeps the id and replaces what changed.
		c.State, c.Pending, c.LastAt = bots.ConvWithAgent, nil, t0.Add(5*time.Minute)
		update(t, s, func(tx bots.Tx) error { return tx.SaveConversation(c) })
		update(t, s, func(tx bots.Tx) error {
			got, err := tx.CurrentConversation(alice)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, c) {
				t.Errorf("after update, CurrentConversation =\n%+v\nwant\n%+v", got, c)
			}
			return nil
		})
	})
}

func TestCurrentConversationIsTheLatest(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		first := &bots.Conversation{Citizen: alice, State: bots.ConvClosed, StartedAt: t0, LastAt: t0}
		second := &bots.Conversation{Citizen: alice, State: bots.ConvActive, StartedAt: t0.Add(time.Hour), LastAt: t0.Add(time.Hour)}
		bob := &bots.Conversation{Citizen: bots.CitizenID{Channel: "webchat", ExternalID: "1001"}, State: bots.ConvActive, StartedAt: t0.Add(2 * time.Hour)}
		update(t, s, func(tx bots.Tx) error {
			for _, c := range []*bots.Conversation{first, second, bob} {
				if err := tx.SaveConversation(c); err != nil {
					return err
				}
			}
			return nil
		})
		update(t, s, func(tx bots.Tx) error {
			got, err := tx.CurrentConversation(alice)
			if err != nil {
				return err
			}
			if got == nil || got.ID != second.ID {
				t.Errorf("CurrentConversation(alice) = %+v, want conversation %d", got, second.ID)
			}
			none, err := tx.CurrentConversation(bots.CitizenID{Channel: "telegram", ExternalID: "nobody"})
			if none != nil || err != nil {
				t.Errorf("CurrentConversation of a stranger = %+v, %v; want nil, nil", none, err)
			}
			return nil
		})
	})
}

func TestConversationNotFound(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		update(t, s, func(tx bots.Tx) error {
			_, err := tx.Conversation(404)
			wantCode(t, err, bots.ENOTFOUND)
			err = tx.SaveConversation(&bots.Conversation{ID: 404, Citizen: alice, StartedAt: t0, LastAt: t0})
			wantCode(t, err, bots.ENOTFOUND)
			return nil
		})
	})
}

func TestConversationsStartedBetween(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		cutoff := t0.Add(10 * time.Minute)
		conv := func(ext string, started time.Time, change func(*bots.Conversation)) *bots.Conversation {
			c := &bots.Conversation{
				Citizen: bots.CitizenID{Channel: "webchat", ExternalID: ext}, State: bots.ConvActive,
				StartedAt: started, LastAt: started,
			}
			if change != nil {
				change(c)
			}
			return c
		}
		waiting := conv("waiting", t0, nil)
		waitingLonger := conv("waiting-longer", t0.Add(-time.Minute), nil)
		all := []*bots.Conversation{
			waiting,
			waitingLonger,
			conv("new", cutoff, nil),
			conv("settled", t0, func(c *bots.Conversation) { c.Settled = true }),
			conv("offered", t0, func(c *bots.Conversation) { c.OfferedHuman = true }),
			conv("closed", t0, func(c *bots.Conversation) { c.State = bots.ConvClosed }),
			conv("abandoned long ago", t0.Add(-3*time.Hour), nil),
		}
		update(t, s, func(tx bots.Tx) error {
			for _, c := range all {
				if err := tx.SaveConversation(c); err != nil {
					return err
				}
			}
			return nil
		})
		update(t, s, func(tx bots.Tx) error {
			got, err := tx.ConversationsStartedBetween(t0.Add(-2*time.Hour), cutoff)
			if err != nil {
				return err
			}
			if want := []int64{waitingLonger.ID, waiting.ID}; !reflect.DeepEqual(convIDs(got), want) {
				t.Errorf("ConversationsStartedBetween = %v, want %v (oldest first)", convIDs(got), want)
			}
			return nil
		})
	})
}

func convIDs(cs []*bots.Conversation) []int64 {
	ids := []int64{}
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}
