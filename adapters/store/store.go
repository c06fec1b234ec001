// Package store keeps the desk's memory in a SQL database through gorm: an
// embedded SQLite file by default, PostgreSQL when a DATABASE_URL is given.
// It owns the schema (conversations, messages, tickets, ratings, the audit
// log and the outbox), migrates it at every start, and implements
// bots.Store and bots.Tx. Nothing outside this package sees gorm.
package store

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/deskbot/deskbot/bots"
)

// DefaultSQLitePath is where the database lives when neither a
// DatabaseURL nor a SQLitePath is given.
const DefaultSQLitePath = "./deskbot.db"

// Config says which database to open.
type Config struct {
	// DatabaseURL selects PostgreSQL (postgres://...). Empty means SQLite.
	DatabaseURL string
	// SQLitePath is the SQLite file, DefaultSQLitePath when empty.
	SQLitePath string
	// Logger receives the store's own messages, never SQL or citizen
	// text; nil discards them.
	Logger *slog.Logger
}

// Store is the gorm implementation of bots.Store.
type Store struct {
	db       *gorm.DB
	postgres bool
	log      *slog.Logger
}

var _ bots.Store = (*Store)(nil)

// Open connects to the database of cfg and brings its schema up to date.
// Migrating is safe at every start.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	s := &Store{log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	gcfg := &gorm.Config{
		// gorm's own logger prints SQL with its values: citizen text.
		Logger: logger.Discard,
		// Every write already runs in a transaction of ours, or is one
		// statement; gorm need not wrap each in another.
		SkipDefaultTransaction: true,
		// Open pings itself with ctx below, so an unreachable server
		// cannot hang a start that has a deadline.
		DisableAutomaticPing: true,
	}

	var (
		dialector gorm.Dialector
		where     string
	)
	if cfg.DatabaseURL != "" {
		dialector, where, s.postgres = postgres.Open(cfg.DatabaseURL), "postgresql", true
	} else {
		path := cfg.SQLitePath
		if path == "" {
			path = DefaultSQLitePath
		}
		dialector, where = sqlite.Open(sqliteDSN(path)), path
	}

	db, err := gorm.Open(dialector, gcfg)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", where, err)
	}
	s.db = db
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", where, err)
	}
	if !s.postgres {
		// SQLite has one writer at a time. One connection makes the
		// pool queue writers instead of failing them with SQLITE_BUSY.
		sqlDB.SetMaxOpenConns(1)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open store %s: %w", where, err)
	}
	if err := s.migrate(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open store %s: %w", where, err)
	}
	s.log.Info("store opened", "database", where)
	return s, nil
}

// sqliteDSN asks for a busy timeout (another process, such as a purge run
// from the command line, may hold the file), the write-ahead log so
// readers do not block the writer, foreign keys, and transactions that
// take the write lock at BEGIN so two never deadlock upgrading to it.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	return path + "?" + q.Encode()
}

func (s *Store) migrate(ctx context.Context) error {
	err := s.db.WithContext(ctx).AutoMigrate(
		&conversationRow{}, &messageRow{}, &ticketRow{}, &ratingRow{}, &auditRow{}, &outboxRow{},
	)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Update runs fn in one database transaction: everything fn did is kept,
// or, when fn returns an error, nothing is. fn's error is returned as is,
// so its bots code survives.
func (s *Store) Update(ctx context.Context, fn func(bots.Tx) error) error {
	var fnErr error
	err := s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		fnErr = fn(&tx{db: db})
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	return nil
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	return nil
}

// Close closes the database. Close the adapters that use the store first.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	if err := sqlDB.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// tx is what the engine does inside one Update: every method runs on the
// transaction's *gorm.DB.
type tx struct {
	db *gorm.DB
}

var _ bots.Tx = (*tx)(nil)

// dbTime is how times are stored: in UTC, so SQLite, which compares them
// as text, orders them right; and to the microsecond, PostgreSQL's
// precision, so both databases give back the same time.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// dbTimePtr is dbTime for optional times.
func dbTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := dbTime(*t)
	return &u
}

// utcPtr returns an optional time read from the database in UTC.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// limitOrAll turns the engine's limit into gorm's: 0 or less means all.
func limitOrAll(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}
