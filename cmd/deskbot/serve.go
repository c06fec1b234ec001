package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/deskbot/deskbot/bots"
)

// logAgents is the agent channel while no other is configured: it logs
// each hand-over by ticket id and action, never the citizen's words.
type logAgents struct{ log *slog.Logger }

func (l logAgents) DeliverToAgents(_ context.Context, _ bots.Delivery, e bots.AgentEvent) error {
	l.log.Warn("ticket for agents", "event", e.Kind, "ticket", e.Ticket.ID, "action", e.Ticket.Action, "intent", e.Ticket.Intent, "notify", e.Ticket.Notify)
	return nil
}

// serve runs the desk until SIGTERM or SIGINT: the outbox worker, the
// desk's timers and the retention purge.
func (a *App) serve(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("serve takes no arguments, got %q", args)
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(a.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	d, err := a.openDesk(ctx, log)
	if err != nil {
		return err
	}
	defer d.store.Close()
	host, _ := os.Hostname()
	ob := &bots.Outbox{Store: d.store, Citizens: map[string]bots.CitizenChannel{}, Agents: logAgents{log}, Worker: fmt.Sprintf("%s-%d", host, os.Getpid()), Logger: log}
	d.engine.OnEnqueue = ob.Kick
	db := "sqlite:" + cfg.SQLitePath
	if cfg.DatabaseURL != "" {
		db = "postgresql"
	}
	log.Info("deskbot serving", "database", db, "tz", cfg.TZ.String(), "retention_days", cfg.RetentionDays)

	done := make(chan error, 3)
	go func() { done <- ob.Run(ctx) }()
	go func() { done <- every(ctx, 5*time.Second, d.engine.Tick, log, "tick") }()
	go func() {
		done <- every(ctx, time.Hour, func(ctx context.Context) error {
			n, err := d.store.Purge(ctx, time.Now().AddDate(0, 0, -cfg.RetentionDays))
			if n > 0 {
				log.Info("purged old data", "rows", n)
			}
			return err
		}, log, "purge")
	}()
	<-ctx.Done()
	log.Info("shutting down")
	for i := 0; i < 3; i++ {
		<-done
	}
	return nil
}

// every runs fn now and then every period until ctx ends; an error is
// logged and the loop goes on.
func every(ctx context.Context, period time.Duration, fn func(context.Context) error, log *slog.Logger, what string) error {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			log.Error(what, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
