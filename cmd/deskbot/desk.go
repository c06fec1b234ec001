package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/deskbot/deskbot/adapters/store"
	"github.com/deskbot/deskbot/bots"
	"github.com/deskbot/deskbot/intents"
)

// desk is the engine wired to its store: what chat and serve share.
type desk struct {
	cfg    Config
	store  *store.Store
	engine *bots.Engine
	log    *slog.Logger
}

func (a *App) openDesk(ctx context.Context, log *slog.Logger) (*desk, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	h, err := a.loadHandbook()
	if err != nil {
		return nil, err
	}
	m, err := intents.New(h, intents.SeedPhrases(h), intents.Options{})
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, store.Config{DatabaseURL: cfg.DatabaseURL, SQLitePath: cfg.SQLitePath, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	e := &bots.Engine{Store: st, Matcher: intents.NewLive(m), Handbook: h, Logger: log, TZ: cfg.TZ, UnclaimedAfter: cfg.UnclaimedAfter}
	return &desk{cfg: cfg, store: st, engine: e, log: log}, nil
}
