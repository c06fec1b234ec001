package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, to create test databases

	"github.com/deskbot/deskbot/adapters/store"
	"github.com/deskbot/deskbot/bots"
	"github.com/deskbot/deskbot/knowledge"
	"github.com/deskbot/deskbot/knowledge/shared"
)

// defaultTestPG is the PostgreSQL server the tests use unless
// DESKBOT_TEST_PG names another.
const defaultTestPG = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// eachDB runs test on a fresh SQLite file and on a fresh PostgreSQL
// database, in parallel.
func eachDB(t *testing.T, test func(t *testing.T, cfg store.Config)) {
	t.Helper()
	t.Parallel()
	for _, db := range []struct {
		name   string
		config func(t *testing.T) store.Config
	}{
		{"sqlite", sqliteConfig},
		{"postgres", postgresConfig},
	} {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			test(t, db.config(t))
		})
	}
}

// eachStore is eachDB with the store opened.
func eachStore(t *testing.T, test func(t *testing.T, s *store.Store)) {
	t.Helper()
	eachDB(t, func(t *testing.T, cfg store.Config) { test(t, open(t, cfg)) })
}

func sqliteConfig(t *testing.T) store.Config {
	return store.Config{SQLitePath: filepath.Join(t.TempDir(), "deskbot.db")}
}

// postgresConfig creates a database with a random name on the test server
// and drops it when the test ends; it skips the test (fails it under
// DESKBOT_STRICT=1) when the server cannot be reached.
func postgresConfig(t *testing.T) store.Config {
	t.Helper()
	server := os.Getenv("DESKBOT_TEST_PG")
	if server == "" {
		server = defaultTestPG
	}
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("DESKBOT_TEST_PG is not a URL: %v", err)
	}
	admin, err := sql.Open("pgx", server)
	if err != nil {
		t.Fatalf("open %s: %v", u.Redacted(), err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		shared.Missing(t, "PostgreSQL at "+u.Redacted()+" is unreachable (set DESKBOT_TEST_PG): "+err.Error())
	}
	name := "deskbot_test_" + strings.ToLower(rand.Text())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return store.Config{DatabaseURL: u.String()}
}

// open opens the store of cfg and closes it when the test ends (before
// its database is dropped: cleanups run last registered first).
func open(t *testing.T, cfg store.Config) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// update runs fn in one transaction and fails the test on an error.
func update(t *testing.T, s bots.Store, fn func(tx bots.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("update: %v", err)
	}
}

// wantCode fails the test unless err carries the bots error code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := bots.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}

// allSet fails the test when a field of the struct v points to is zero,
// so a round-trip fixture covers every field, including one added later.
func allSet(t *testing.T, v any) {
	t.Helper()
	rv := reflect.ValueOf(v).Elem()
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			t.Errorf("the fixture leaves %s.%s zero: set it, and make sure the store keeps it",
				rv.Type().Name(), rv.Type().Field(i).Name)
		}
	}
}

// t0 is when the tests' events happen; tests pass times explicitly.
var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

var alice = bots.CitizenID{Channel: "telegram", ExternalID: "1001"}

func TestPing(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		if err := s.Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestOpenUnreachablePostgres(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	// Port 1 refuses at once; Open must report it, not hang or panic.
	_, err := store.Open(ctx, store.Config{DatabaseURL: "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2"})
	if err == nil {
		t.Fatal("Open succeeded against a closed port")
	}
}

// A restart reopens the same database and finds everything there.
func TestReopenKeepsData(t *testing.T) {
	eachDB(t, func(t *testing.T, cfg store.Config) {
		s, err := store.Open(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		c := &bots.Conversation{Citizen: alice, State: bots.ConvWithAgent, StartedAt: t0, LastAt: t0, TicketID: "K7Q2PX"}
		update(t, s, func(tx bots.Tx) error {
			if err := tx.SaveConversation(c); err != nil {
				return err
			}
			if err := tx.CreateTicket(newTicket("K7Q2PX", alice, knowledge.Dispatch, t0)); err != nil {
				return err
			}
			return tx.Enqueue(bots.OutboxItem{Kind: bots.ToAgents, Channel: "agents", Payload: []byte(`{}`), CreatedAt: t0})
		})
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}

		s = open(t, cfg) // migrating again must be harmless
		update(t, s, func(tx bots.Tx) error {
			got, err := tx.CurrentConversation(alice)
			if err != nil || got == nil || got.ID != c.ID || got.TicketID != "K7Q2PX" {
				t.Errorf("after reopening, current conversation = %+v, %v; want id %d", got, err, c.ID)
			}
			if _, err := tx.Ticket("K7Q2PX"); err != nil {
				t.Errorf("after reopening: %v", err)
			}
			return nil
		})
		if n, _, err := s.OutboxStats(t.Context(), t0); err != nil || n != 1 {
			t.Errorf("after reopening, %d rows pending, %v; want 1", n, err)
		}
	})
}
