package bots

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/deskbot/deskbot/intents"
	"github.com/deskbot/deskbot/knowledge"
)

// Matcher reads a citizen's message (implemented by *intents.Matcher and
// *intents.Live).
type Matcher interface {
	Match(text string) intents.Match
}

// Engine is the service desk's procedure. It is safe for concurrent use:
// all state lives in the Store, and each event is one transaction.
type Engine struct {
	Store    Store
	Matcher  Matcher
	Handbook *knowledge.Handbook
	Now      func() time.Time // nil: time.Now
	Logger   *slog.Logger     // nil: discard
	TZ       *time.Location   // times told to citizens; nil: Asia/Shanghai
	// OnEnqueue is called after a transaction that wrote outbox rows
	// commits, so the outbox worker can send at once instead of polling.
	OnEnqueue func()
	// Metrics counts messages, matches and tickets; nil counts nothing.
	Metrics Metrics

	// Limits of the procedure; zero values take the defaults below.
	SettleWithin   time.Duration // the 10-minute rule
	UnclaimedAfter time.Duration // tell the citizen nobody has claimed yet
	IdleRestart    time.Duration // after this long a citizen starts a new conversation
	NuisanceLimit  int           // warnings before repeated abuse is raised
	ThrottleFor    time.Duration // how long an abusive sender is ignored
	MaxTextRunes   int           // longer messages are cut before storing
}

// Defaults of the procedure.
const (
	DefaultSettleWithin   = 10 * time.Minute // seed part two, 第十三条
	DefaultUnclaimedAfter = 3 * time.Minute
	DefaultIdleRestart    = 2 * time.Hour
	DefaultNuisanceLimit  = 3
	DefaultThrottleFor    = 30 * time.Minute
	DefaultMaxTextRunes   = 4000
	maxAsks               = 2 // the location is asked at most twice
	// raiseConfidence is how sure the matcher must be of a more serious
	// scenario, without signals, to raise a ticket an agent holds.
	raiseConfidence = 0.35
)

func (e *Engine) now() time.Time    { return clockOr(e.Now) }
func (e *Engine) log() *slog.Logger { return loggerOr(e.Logger) }

// clockOr reads now, or the system clock when now is nil.
func clockOr(now func() time.Time) time.Time {
	if now != nil {
		return now()
	}
	return time.Now()
}

// loggerOr returns l, or a logger that discards when l is nil.
func loggerOr(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

func (e *Engine) tz() *time.Location {
	if e.TZ != nil {
		return e.TZ
	}
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}

func durOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

var errDuplicate = errors.New("duplicate inbound message")

// Handle takes one message from a citizen. When it returns nil the
// message and everything it caused are stored and the replies are in the
// outbox: the channel may acknowledge it. A redelivered message (same
// channel and external id) is recognised and changes nothing.
func (e *Engine) Handle(ctx context.Context, in Inbound) error {
	if in.Citizen.Channel == "" || in.Citizen.ExternalID == "" {
		return Errorf(EINVALID, "inbound message without a citizen identity")
	}
	if in.At.IsZero() {
		in.At = e.now()
	}
	in.Text = cleanText(in.Text, e.MaxTextRunes)
	started := time.Now()
	enqueued := false
	var opened []Action
	var closed []*Ticket
	var matched *reading
	err := e.Store.Update(ctx, func(tx Tx) error {
		conv, err := e.conversationFor(tx, in.Citizen, in.At)
		if err != nil {
			return err
		}
		dup, err := tx.RecordInbound(in, conv.ID)
		if err != nil {
			return fmt.Errorf("record inbound: %w", err)
		}
		if dup {
			return errDuplicate
		}
		t := &turn{e: e, tx: tx, conv: conv, now: in.At}
		if err := t.citizenSaid(in); err != nil {
			return err
		}
		conv.LastAt = in.At
		if err := tx.SaveConversation(conv); err != nil {
			return fmt.Errorf("save conversation: %w", err)
		}
		enqueued, opened, closed, matched = t.enqueued, t.opened, t.closed, t.read
		return nil
	})
	if errors.Is(err, errDuplicate) {
		e.log().Info("redelivered message ignored", "channel", in.Citizen.Channel)
		return nil
	}
	if err != nil {
		return fmt.Errorf("handle message: %w", err)
	}
	m := e.metrics()
	m.MessageIn(in.Citizen.Channel)
	if matched != nil {
		m.Matched(matched.m.Intent, matched.m.Action)
	}
	for _, a := range opened {
		m.TicketOpened(a)
	}
	for _, tk := range closed {
		m.TicketClosed(tk.Action, tk.State)
	}
	m.Handled(in.Citizen.Channel, time.Since(started))
	if enqueued && e.OnEnqueue != nil {
		e.OnEnqueue()
	}
	return nil
}

// cleanText makes text safe to store: valid UTF-8, trimmed, capped.
func cleanText(s string, max int) string {
	if max <= 0 {
		max = DefaultMaxTextRunes
	}
	s = strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD"))
	s = strings.ReplaceAll(s, "\x00", "")
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
	}
	return s
}

// conversationFor returns the citizen's conversation, starting a new one
// after a closing or a long silence. A new one is saved so it has an id.
func (e *Engine) conversationFor(tx Tx, c CitizenID, now time.Time) (*Conversation, error) {
	conv, err := tx.CurrentConversation(c)
	if err != nil {
		return nil, fmt.Errorf("load conversation: %w", err)
	}
	idle := durOr(e.IdleRestart, DefaultIdleRestart)
	if conv != nil {
		keep := conv.State == ConvWithAgent || conv.State == ConvAwaitingRate ||
			(conv.State != ConvClosed && now.Sub(conv.LastAt) < idle)
		if keep {
			return conv, nil
		}
	}
	next := &Conversation{Citizen: c, State: ConvActive, StartedAt: now, LastAt: now}
	if conv != nil && conv.ThrottledUntil != nil && now.Before(*conv.ThrottledUntil) {
		next.ThrottledUntil = conv.ThrottledUntil // a new conversation does not lift a throttle
		next.NuisanceCount = conv.NuisanceCount
	}
	if err := tx.SaveConversation(next); err != nil {
		return nil, fmt.Errorf("start conversation: %w", err)
	}
	return next, nil
}
