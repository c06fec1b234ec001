package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/deskbot/deskbot/adapters/metrics"
	"github.com/deskbot/deskbot/adapters/webchat"
	"github.com/deskbot/deskbot/bots"
)

// serve runs the desk until SIGTERM or SIGINT: the web desk (citizen
// chat, agent inbox, /healthz, /metrics), the outbox worker, the desk's
// timers and the retention purge.
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

	token := cfg.AgentToken
	if token == "" {
		// A fresh run works at once and is never open to anyone: the token
		// is made here and told once, to whoever reads the log.
		token = rand.Text()
		log.Warn("agent inbox token", "token", token, "note", "made at start because DESKBOT_AGENT_TOKEN is unset; sign in at /agent with it")
	}
	m := metrics.New(func(ctx context.Context) (int, time.Duration, error) {
		return d.store.OutboxStats(ctx, time.Now())
	})
	d.engine.Metrics = m
	web := webchat.New(webchat.Config{Addr: cfg.Addr, AgentToken: token, AllowedOrigins: cfg.AllowedOrigins, Logger: log},
		d.engine, d.engine.Handbook, webchat.WithMetrics(m.Handler()))
	host, _ := os.Hostname()
	ob := &bots.Outbox{
		Store:    d.store,
		Citizens: map[string]bots.CitizenChannel{webchat.Channel: m.Citizens(webchat.Channel, web)},
		Agents:   m.Agents(web),
		Worker:   fmt.Sprintf("%s-%d", host, os.Getpid()),
		Logger:   log,
	}
	d.engine.OnEnqueue = ob.Kick

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("DESKBOT_ADDR=%q: %w", cfg.Addr, err)
	}
	db := "sqlite:" + cfg.SQLitePath
	if cfg.DatabaseURL != "" {
		db = "postgresql"
	}
	log.Info("deskbot serving", "addr", ln.Addr().String(), "database", db, "tz", cfg.TZ.String(), "retention_days", cfg.RetentionDays)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	webDone := make(chan error, 1)
	go func() { webDone <- web.Serve(ctx, ln) }()
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
	var webErr error
	webStopped := false
	select {
	case <-ctx.Done():
	case webErr = <-webDone: // the web desk failed: stop the rest
		webStopped = true
		log.Error("web desk stopped", "err", webErr)
	}
	log.Info("shutting down")
	cancel()
	if !webStopped {
		webErr = <-webDone // Serve shuts down gracefully when ctx ends
	}
	for i := 0; i < 3; i++ {
		<-done
	}
	return webErr
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
