package bots

import (
	"context"
	"time"
)

// TicketView is a ticket with its conversation's transcript, for agents.
type TicketView struct {
	Ticket     Ticket `json:"ticket"`
	Transcript []Line `json:"transcript"`
}

// OpenTickets returns the tickets not closed, most serious first, then
// oldest first, each with its transcript: an agent inbox's list.
func (e *Engine) OpenTickets(ctx context.Context, limit int) ([]TicketView, error) {
	var out []TicketView
	err := e.Store.Update(ctx, func(tx Tx) error {
		list, err := tx.OpenTickets(limit)
		if err != nil {
			return err
		}
		for _, tk := range list {
			lines, err := tx.Transcript(tk.ConversationID)
			if err != nil {
				return err
			}
			out = append(out, TicketView{Ticket: *tk, Transcript: lines})
		}
		return nil
	})
	return out, err
}

// TicketByID returns one ticket with its transcript.
func (e *Engine) TicketByID(ctx context.Context, id string) (TicketView, error) {
	var v TicketView
	err := e.Store.Update(ctx, func(tx Tx) error {
		tk, err := tx.Ticket(id)
		if err != nil {
			return err
		}
		lines, err := tx.Transcript(tk.ConversationID)
		if err != nil {
			return err
		}
		v = TicketView{Ticket: *tk, Transcript: lines}
		return nil
	})
	return v, err
}

// History returns the citizen's current conversation, oldest first, so a
// chat page can show it again after a reload. Empty when there is none.
func (e *Engine) History(ctx context.Context, c CitizenID) ([]Line, error) {
	var out []Line
	err := e.Store.Update(ctx, func(tx Tx) error {
		conv, err := tx.CurrentConversation(c)
		if err != nil || conv == nil {
			return err
		}
		out, err = tx.Transcript(conv.ID)
		return err
	})
	return out, err
}

// Metrics receives what the desk counts. Every method must be cheap and
// safe for concurrent use; a nil Metrics counts nothing.
type Metrics interface {
	MessageIn(channel string)
	Matched(intent string, action Action)
	TicketOpened(action Action)
	TicketClosed(action Action, state TicketState)
	TicketClaimed(action Action, waited time.Duration)
	Handled(channel string, took time.Duration)
}

type noMetrics struct{}

func (noMetrics) MessageIn(string)                    {}
func (noMetrics) Matched(string, Action)              {}
func (noMetrics) TicketOpened(Action)                 {}
func (noMetrics) TicketClosed(Action, TicketState)    {}
func (noMetrics) TicketClaimed(Action, time.Duration) {}
func (noMetrics) Handled(string, time.Duration)       {}

func (e *Engine) metrics() Metrics {
	if e.Metrics != nil {
		return e.Metrics
	}
	return noMetrics{}
}
