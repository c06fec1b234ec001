package main

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/deskbot/deskbot/knowledge"
)

// Config is everything deskbot reads from its environment. The README's
// configuration table lists the same names.
type Config struct {
	DatabaseURL    string         // DATABASE_URL: PostgreSQL; empty means SQLite
	SQLitePath     string         // DESKBOT_SQLITE_PATH, default ./deskbot.db
	TZ             *time.Location // DESKBOT_TZ, default Asia/Shanghai
	RetentionDays  int            // DESKBOT_RETENTION_DAYS, default 180
	DirectoryFile  string         // DESKBOT_DIRECTORY_FILE: a city's referral overrides
	LogLevel       slog.Level     // DESKBOT_LOG_LEVEL: debug, info, warn, error
	UnclaimedAfter time.Duration  // DESKBOT_UNCLAIMED_AFTER, default 3m
	Addr           string         // DESKBOT_ADDR: where the web desk listens, default :8080
	AgentToken     string         // DESKBOT_AGENT_TOKEN: agents sign in with it; empty: one is made at start
	AllowedOrigins []string       // DESKBOT_ALLOWED_ORIGINS: more origins for the web desk, comma-separated
}

// loadConfig reads the environment; a bad value is an error naming it.
func (a *App) loadConfig() (Config, error) {
	c := Config{
		DatabaseURL:   a.Getenv("DATABASE_URL"),
		SQLitePath:    a.Getenv("DESKBOT_SQLITE_PATH"),
		DirectoryFile: a.Getenv("DESKBOT_DIRECTORY_FILE"),
		RetentionDays: 180,
		Addr:          a.Getenv("DESKBOT_ADDR"),
		AgentToken:    a.Getenv("DESKBOT_AGENT_TOKEN"),
	}
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	for _, o := range strings.Split(a.Getenv("DESKBOT_ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.AllowedOrigins = append(c.AllowedOrigins, o)
		}
	}
	if c.SQLitePath == "" {
		c.SQLitePath = "./deskbot.db"
	}
	tz := a.Getenv("DESKBOT_TZ")
	if tz == "" {
		tz = "Asia/Shanghai"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return c, fmt.Errorf("DESKBOT_TZ=%q: %w", tz, err)
	}
	c.TZ = loc
	if v := a.Getenv("DESKBOT_RETENTION_DAYS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return c, fmt.Errorf("DESKBOT_RETENTION_DAYS=%q: want a whole number of days, at least 1", v)
		}
		c.RetentionDays = n
	}
	if v := a.Getenv("DESKBOT_LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(strings.ToLower(v))); err != nil {
			return c, fmt.Errorf("DESKBOT_LOG_LEVEL=%q: want debug, info, warn or error", v)
		}
	}
	c.UnclaimedAfter = 3 * time.Minute
	if v := a.Getenv("DESKBOT_UNCLAIMED_AFTER"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("DESKBOT_UNCLAIMED_AFTER=%q: want a duration such as 3m", v)
		}
		c.UnclaimedAfter = d
	}
	return c, nil
}

// loadHandbook loads the embedded handbook with the city's directory
// override named by DESKBOT_DIRECTORY_FILE, if any.
func (a *App) loadHandbook() (*knowledge.Handbook, error) {
	var opts knowledge.Options
	if p := a.Getenv("DESKBOT_DIRECTORY_FILE"); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read DESKBOT_DIRECTORY_FILE: %w", err)
		}
		opts.DirectoryOverride, opts.OverrideName = b, p
	}
	h, err := knowledge.Load(opts)
	if err != nil {
		return nil, fmt.Errorf("load handbook: %w", err)
	}
	return h, nil
}
