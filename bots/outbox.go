package bots

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Outbox sends what the engine wrote to the outbox table: messages to
// citizens through their channel, events to the agent channel. A row is
// marked sent only after its channel accepted it, so a crash or a failing
// channel loses nothing; rows are leased, so several workers (processes)
// never send the same row at once. A resend can happen only when a worker
// dies between a successful send and marking the row sent; Delivery's
// OutboxID lets a channel recognise it (see README, "Outbox").
type Outbox struct {
	Store    Store
	Citizens map[string]CitizenChannel // by channel name
	Agents   AgentChannel
	Worker   string           // this worker's name, unique per process
	Now      func() time.Time // nil: time.Now
	Logger   *slog.Logger     // nil: discard

	Lease       time.Duration // how long a claimed row is ours; default 30s
	Batch       int           // rows per claim; default 32
	Poll        time.Duration // how often to look when not kicked; default 1s
	MinBackoff  time.Duration // first retry delay; default 1s
	MaxBackoff  time.Duration // longest retry delay; default 5m
	SendTimeout time.Duration // per send; default 15s
	once        sync.Once
	kick        chan struct{}
}

// MarkFailer is implemented by stores that can give up on a row a channel
// says can never be delivered.
type MarkFailer interface {
	MarkFailed(ctx context.Context, id int64, worker string, reason string) error
}

func (o *Outbox) now() time.Time    { return clockOr(o.Now) }
func (o *Outbox) log() *slog.Logger { return loggerOr(o.Logger) }

func (o *Outbox) init() { o.once.Do(func() { o.kick = make(chan struct{}, 1) }) }

// Kick wakes the worker: something new is in the outbox.
func (o *Outbox) Kick() {
	o.init()
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// Run sends until ctx ends.
func (o *Outbox) Run(ctx context.Context) error {
	o.init()
	poll := durOr(o.Poll, time.Second)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-o.kick:
		}
		n, err := o.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			o.log().Error("outbox", "err", err)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		if n > 0 {
			timer.Reset(0) // there may be more
		} else {
			timer.Reset(poll)
		}
	}
}

// RunOnce claims due rows and sends them; it returns how many were sent.
func (o *Outbox) RunOnce(ctx context.Context) (int, error) {
	batch := o.Batch
	if batch <= 0 {
		batch = 32
	}
	items, err := o.Store.ClaimOutbox(ctx, o.Worker, o.now(), durOr(o.Lease, 30*time.Second), batch)
	if err != nil {
		return 0, fmt.Errorf("claim outbox: %w", err)
	}
	sent := 0
	for _, it := range items {
		err := o.send(ctx, it)
		var perm *PermanentError
		var later *RetryAfterError
		switch {
		case err == nil:
			if err := o.Store.MarkSent(ctx, it.ID, o.Worker, o.now()); err != nil {
				return sent, fmt.Errorf("mark sent %d: %w", it.ID, err)
			}
			sent++
		case errors.As(err, &perm):
			o.log().Warn("outbox: giving up on a message", "id", it.ID, "kind", it.Kind, "err", err)
			if mf, ok := o.Store.(MarkFailer); ok {
				if err := mf.MarkFailed(ctx, it.ID, o.Worker, err.Error()); err != nil {
					return sent, err
				}
				continue
			}
			fallthrough
		default:
			delay := o.backoff(it.Attempts)
			if errors.As(err, &later) && later.After > delay {
				delay = later.After // the channel asked for this much
			}
			o.log().Warn("outbox: send failed, will retry", "id", it.ID, "kind", it.Kind, "attempt", it.Attempts+1, "retry_in", delay, "err", err)
			if err := o.Store.MarkRetry(ctx, it.ID, o.Worker, o.now().Add(delay), err.Error()); err != nil {
				return sent, fmt.Errorf("mark retry %d: %w", it.ID, err)
			}
		}
	}
	return sent, nil
}

func (o *Outbox) send(ctx context.Context, it OutboxItem) error {
	ctx, cancel := context.WithTimeout(ctx, durOr(o.SendTimeout, 15*time.Second))
	defer cancel()
	d := Delivery{OutboxID: it.ID, Attempt: it.Attempts + 1}
	switch it.Kind {
	case ToCitizen:
		ch, ok := o.Citizens[it.Channel]
		if !ok {
			return fmt.Errorf("no citizen channel %q", it.Channel)
		}
		m, err := DecodeOutbound(it.Payload)
		if err != nil {
			return &PermanentError{Err: fmt.Errorf("decode: %w", err)}
		}
		return ch.SendToCitizen(ctx, d, m)
	case ToAgents:
		if o.Agents == nil {
			return errors.New("no agent channel")
		}
		ev, err := DecodeAgentEvent(it.Payload)
		if err != nil {
			return &PermanentError{Err: fmt.Errorf("decode: %w", err)}
		}
		return o.Agents.DeliverToAgents(ctx, d, ev)
	default:
		return &PermanentError{Err: fmt.Errorf("unknown outbox kind %q", it.Kind)}
	}
}

// backoff is the delay before attempt n+1. The attempt count is stored,
// not a live loop, so the delay is computed afresh from the library's
// exponential policy (with its jitter) for that many attempts.
func (o *Outbox) backoff(attempts int) time.Duration {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = durOr(o.MinBackoff, time.Second)
	b.MaxInterval = durOr(o.MaxBackoff, 5*time.Minute)
	var d time.Duration
	for i := 0; i <= attempts && i < 32; i++ {
		d = b.NextBackOff()
	}
	return d
}
