package bots

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/deskbot/deskbot/knowledge"
)

// Agent actions come from an agent channel (Slack, the web inbox) and are
// recorded with the agent's display name in the audit log.

// Claim gives a ticket to an agent. A ticket claimed by someone else, or
// closed, is ECONFLICT: two agents never both think a case is theirs.
func (e *Engine) Claim(ctx context.Context, ticketID, agent string) (*Ticket, error) {
	if agent = strings.TrimSpace(agent); agent == "" {
		return nil, Errorf(EINVALID, "an agent must give a name")
	}
	return e.onTicket(ctx, ticketID, func(t *turn, tk *Ticket) error {
		switch {
		case tk.State.Closed():
			return Errorf(ECONFLICT, "ticket %s is already %s", tk.ID, tk.State)
		case tk.State == TicketClaimed && tk.ClaimedBy != agent:
			return Errorf(ECONFLICT, "ticket %s is already claimed by %s", tk.ID, tk.ClaimedBy)
		case tk.State == TicketClaimed:
			return nil
		}
		if err := t.claim(tk, agent, ""); err != nil {
			return err
		}
		return t.sayText(strings.NewReplacer("{agent}", agent, "{id}", tk.ID).Replace(t.text("agent_claimed")))
	})
}

// claim gives an open ticket to agent and records it.
func (t *turn) claim(tk *Ticket, agent, detail string) error {
	at := t.now
	tk.State, tk.ClaimedAt, tk.ClaimedBy = TicketClaimed, &at, agent
	if err := t.tx.SaveTicket(tk); err != nil {
		return err
	}
	t.claimed = true
	if err := t.audit(tk.ID, "agent:"+agent, "claimed", detail); err != nil {
		return err
	}
	return t.tellAgents(EventClaimed, tk, agent, false)
}

// Reply sends an agent's words to the citizen. Replying to an unclaimed
// ticket claims it.
func (e *Engine) Reply(ctx context.Context, ticketID, agent, text string) (*Ticket, error) {
	text = cleanText(text, e.MaxTextRunes)
	if strings.TrimSpace(agent) == "" || text == "" {
		return nil, Errorf(EINVALID, "a reply needs an agent and some text")
	}
	return e.onTicket(ctx, ticketID, func(t *turn, tk *Ticket) error {
		if tk.State.Closed() {
			return Errorf(ECONFLICT, "ticket %s is %s: the citizen is no longer waiting", tk.ID, tk.State)
		}
		if tk.State == TicketOpen {
			if err := t.claim(tk, agent, "by replying"); err != nil {
				return err
			}
		}
		if err := t.audit(tk.ID, "agent:"+agent, "replied", ""); err != nil {
			return err
		}
		if err := t.tellAgents(EventReplied, tk, text, false); err != nil {
			return err
		}
		return t.say(Outbound{Text: text, TicketID: tk.ID, FromAgent: agent})
	})
}

// Resolve closes a ticket; the citizen is told and asked for a 1–5 rating.
func (e *Engine) Resolve(ctx context.Context, ticketID, agent string) (*Ticket, error) {
	if strings.TrimSpace(agent) == "" {
		return nil, Errorf(EINVALID, "an agent must give a name")
	}
	return e.onTicket(ctx, ticketID, func(t *turn, tk *Ticket) error {
		if tk.State.Closed() {
			return Errorf(ECONFLICT, "ticket %s is already %s", tk.ID, tk.State)
		}
		at := t.now
		if tk.ClaimedAt == nil {
			tk.ClaimedAt, tk.ClaimedBy = &at, agent
		}
		tk.State, tk.ClosedAt, tk.ClosedBy = TicketResolved, &at, agent
		if err := t.tx.SaveTicket(tk); err != nil {
			return err
		}
		if err := t.audit(tk.ID, "agent:"+agent, "resolved", ""); err != nil {
			return err
		}
		t.closed = append(t.closed, tk)
		if err := t.tellAgents(EventResolved, tk, agent, false); err != nil {
			return err
		}
		if t.conv.TicketID != tk.ID {
			return nil // the citizen has moved on: no rating question out of the blue
		}
		t.conv.State, t.conv.NeedsLocation = ConvAwaitingRate, false
		choices := make([]Choice, 5)
		for i := range choices {
			choices[i] = Choice{Label: strconv.Itoa(i + 1), Value: strconv.Itoa(i + 1)}
		}
		return t.say(Outbound{Text: strings.ReplaceAll(t.text("resolved_rate"), "{id}", tk.ID), Choices: choices, TicketID: tk.ID})
	})
}

// onTicket runs fn on a ticket and its conversation in one transaction.
func (e *Engine) onTicket(ctx context.Context, ticketID string, fn func(t *turn, tk *Ticket) error) (*Ticket, error) {
	var out *Ticket
	enqueued, claimed := false, false
	var closed []*Ticket
	err := e.Store.Update(ctx, func(tx Tx) error {
		tk, err := tx.Ticket(strings.ToUpper(strings.TrimSpace(ticketID)))
		if err != nil {
			return err
		}
		conv, err := tx.Conversation(tk.ConversationID)
		if err != nil {
			return fmt.Errorf("conversation of ticket %s: %w", tk.ID, err)
		}
		t := &turn{e: e, tx: tx, conv: conv, now: e.now()}
		if err := fn(t, tk); err != nil {
			return err
		}
		if err := tx.SaveConversation(conv); err != nil {
			return err
		}
		out, enqueued, claimed, closed = tk, t.enqueued, t.claimed, t.closed
		return nil
	})
	if err != nil {
		return nil, err
	}
	if claimed && out.ClaimedAt != nil {
		e.metrics().TicketClaimed(out.Action, out.ClaimedAt.Sub(out.CreatedAt))
	}
	for _, tk := range closed {
		e.metrics().TicketClosed(tk.Action, tk.State)
	}
	if enqueued && e.OnEnqueue != nil {
		e.OnEnqueue()
	}
	return out, nil
}

// Tick runs the desk's timers: the 10-minute rule (a conversation not
// settled within ten minutes of its first message is offered a person)
// and the unclaimed notice (a dispatch or urgent ticket nobody claimed
// within a few minutes: the citizen is told honestly and given 110, and
// the agents are reminded). Call it every few seconds; it is idempotent.
func (e *Engine) Tick(ctx context.Context) error {
	now := e.now()
	enqueued := false
	err := e.Store.Update(ctx, func(tx Tx) error {
		due := now.Add(-durOr(e.SettleWithin, DefaultSettleWithin))
		convs, err := tx.ConversationsStartedBetween(due.Add(-durOr(e.IdleRestart, DefaultIdleRestart)), due)
		if err != nil {
			return fmt.Errorf("conversations due: %w", err)
		}
		for _, c := range convs {
			if c.Settled || c.OfferedHuman || c.State != ConvActive || c.LastIntent == "" && c.Misunderstood == 0 {
				continue
			}
			t := &turn{e: e, tx: tx, conv: c, now: now}
			c.OfferedHuman = true
			if err := t.say(Outbound{Text: t.text("ten_minutes"), Choices: humanChoice(e.Handbook)}); err != nil {
				return err
			}
			if err := tx.SaveConversation(c); err != nil {
				return err
			}
			enqueued = true
		}
		tickets, err := tx.UnclaimedBefore(now.Add(-durOr(e.UnclaimedAfter, DefaultUnclaimedAfter)))
		if err != nil {
			return fmt.Errorf("unclaimed tickets: %w", err)
		}
		for _, tk := range tickets {
			if tk.UnclaimedSent || tk.State != TicketOpen || tk.Action.Rank() < knowledge.Dispatch.Rank() {
				continue
			}
			conv, err := tx.Conversation(tk.ConversationID)
			if err != nil {
				return err
			}
			t := &turn{e: e, tx: tx, conv: conv, now: now}
			tk.UnclaimedSent = true
			if err := tx.SaveTicket(tk); err != nil {
				return err
			}
			if err := t.sayText(t.text("unclaimed")); err != nil {
				return err
			}
			if err := t.tellAgents(EventUnclaimed, tk, "", false); err != nil {
				return err
			}
			if err := t.audit(tk.ID, "bot", "unclaimed_notice", ""); err != nil {
				return err
			}
			enqueued = true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("tick: %w", err)
	}
	if enqueued && e.OnEnqueue != nil {
		e.OnEnqueue()
	}
	return nil
}
