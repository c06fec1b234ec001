package store_test

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/deskbot/deskbot/adapters/store"
	"github.com/deskbot/deskbot/bots"
)

const lease = time.Minute

// enqueue writes n citizen messages created at at.
func enqueue(t *testing.T, s *store.Store, n int, at time.Time) {
	t.Helper()
	update(t, s, func(tx bots.Tx) error {
		for i := range n {
			err := tx.Enqueue(bots.OutboxItem{
				Kind: bots.ToCitizen, Channel: "telegram", Payload: fmt.Appendf(nil, `{"text":"%d"}`, i), CreatedAt: at,
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// claim claims for worker at now and fails the test on an error.
func claim(t *testing.T, s *store.Store, worker string, now time.Time, limit int) []bots.OutboxItem {
	t.Helper()
	items, err := s.ClaimOutbox(t.Context(), worker, now, lease, limit)
	if err != nil {
		t.Fatalf("claim for %s: %v", worker, err)
	}
	return items
}

func outboxIDs(items []bots.OutboxItem) []int64 {
	ids := []int64{}
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	return ids
}

func TestOutboxClaimInOrder(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		update(t, s, func(tx bots.Tx) error {
			wantCode(t, tx.Enqueue(bots.OutboxItem{Kind: bots.ToAgents}), bots.EINVALID) // no CreatedAt
			return tx.Enqueue(bots.OutboxItem{Kind: bots.ToAgents, Channel: "agents", Payload: []byte(`{"kind":"new_ticket"}`), CreatedAt: t0})
		})
		enqueue(t, s, 2, t0)
		update(t, s, func(tx bots.Tx) error { // not due yet
			return tx.Enqueue(bots.OutboxItem{Kind: bots.ToCitizen, Channel: "webchat", Payload: []byte(`{}`), CreatedAt: t0, NextAttemptAt: t0.Add(time.Hour)})
		})

		first := claim(t, s, "w1", t0, 2)
		want := bots.OutboxItem{ID: first[0].ID, Kind: bots.ToAgents, Channel: "agents", Payload: []byte(`{"kind":"new_ticket"}`), NextAttemptAt: t0, CreatedAt: t0}
		if len(first) != 2 || !reflect.DeepEqual(first[0], want) {
			t.Fatalf("first claim = %+v, want 2 items starting with %+v", first, want)
		}
		rest := claim(t, s, "w2", t0, 10)
		if len(rest) != 1 || rest[0].ID <= first[1].ID {
			t.Errorf("second claim = %v after %v: want the one due row left, in id order", outboxIDs(rest), outboxIDs(first))
		}
		if later := claim(t, s, "w3", t0.Add(59*time.Second), 10); len(later) != 0 {
			t.Errorf("rows leased until %s were claimed again: %v", t0.Add(lease), outboxIDs(later))
		}
	})
}

func TestOutboxSentIsNotClaimedAgain(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		enqueue(t, s, 1, t0)
		items := claim(t, s, "w1", t0, 10)
		if len(items) != 1 {
			t.Fatalf("claimed %d rows, want 1", len(items))
		}
		if err := s.MarkSent(t.Context(), items[0].ID, "w1", t0.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if again := claim(t, s, "w1", t0.Add(24*time.Hour), 10); len(again) != 0 {
			t.Errorf("a sent row was claimed again: %v", outboxIDs(again))
		}
		if n, _, err := s.OutboxStats(t.Context(), t0.Add(time.Hour)); err != nil || n != 0 {
			t.Errorf("OutboxStats = %d, %v; want 0 pending", n, err)
		}
	})
}

func TestOutboxRetry(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		enqueue(t, s, 1, t0)
		id := claim(t, s, "w1", t0, 10)[0].ID
		next := t0.Add(30 * time.Second)
		reason := "telegram: 502 Bad Gateway " + strings.Repeat("网", 600)
		if err := s.MarkRetry(t.Context(), id, "w1", next, reason); err != nil {
			t.Fatal(err)
		}
		if early := claim(t, s, "w1", next.Add(-time.Second), 10); len(early) != 0 {
			t.Errorf("a row to retry at %s was claimed a second before", next)
		}
		again := claim(t, s, "w2", next, 10) // the lease ended with the retry
		if len(again) != 1 || again[0].ID != id {
			t.Fatalf("claim at the retry time = %v, want [%d]", outboxIDs(again), id)
		}
		if again[0].Attempts != 1 || !again[0].NextAttemptAt.Equal(next) {
			t.Errorf("after one retry: attempts %d, next %s; want 1, %s", again[0].Attempts, again[0].NextAttemptAt, next)
		}
		if got := again[0].LastError; utf8.RuneCountInString(got) != 500 || !strings.HasPrefix(got, "telegram: 502") {
			t.Errorf("last error kept %d characters (%.30q...), want the first 500", utf8.RuneCountInString(got), got)
		}
	})
}

func TestOutboxLeaseExpiry(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		enqueue(t, s, 1, t0)
		id := claim(t, s, "w1", t0, 10)[0].ID
		if got := claim(t, s, "w2", t0.Add(lease), 10); len(got) != 0 {
			t.Fatalf("w2 took a row whose lease had not run out: %v", outboxIDs(got))
		}
		// w1 stalls; its lease runs out and w2 takes the row over.
		taken := claim(t, s, "w2", t0.Add(lease+time.Second), 10)
		if len(taken) != 1 || taken[0].ID != id {
			t.Fatalf("after the lease ran out, w2 claimed %v, want [%d]", outboxIDs(taken), id)
		}
		// w1 wakes up: it no longer holds the row and changes nothing.
		for _, mark := range []error{
			s.MarkSent(t.Context(), id, "w1", t0.Add(2*lease)),
			s.MarkRetry(t.Context(), id, "w1", t0.Add(3*lease), "late"),
			s.MarkFailed(t.Context(), id, "w1", "late"),
		} {
			if mark != nil {
				t.Errorf("a late mark by the worker that lost the lease: %v; want nil", mark)
			}
		}
		if n, _, err := s.OutboxStats(t.Context(), t0.Add(2*lease)); err != nil || n != 1 {
			t.Errorf("after w1's late marks, %d rows pending, %v; want 1", n, err)
		}
		// Still w2's: not due to anyone else, and w2 can mark it.
		if got := claim(t, s, "w3", t0.Add(lease+2*time.Second), 10); len(got) != 0 {
			t.Errorf("w1's late marks freed the row: w3 claimed %v", outboxIDs(got))
		}
		if err := s.MarkSent(t.Context(), id, "w2", t0.Add(2*lease)); err != nil {
			t.Fatalf("w2, which holds the row: %v", err)
		}
		if n, _, err := s.OutboxStats(t.Context(), t0.Add(2*lease)); err != nil || n != 0 {
			t.Errorf("after w2 sent it, %d rows pending, %v; want 0", n, err)
		}
	})
}

func TestOutboxFailed(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		enqueue(t, s, 1, t0)
		id := claim(t, s, "w1", t0, 10)[0].ID
		if err := s.MarkFailed(t.Context(), id, "w1", "permanent: Forbidden: bot was blocked by the user"); err != nil {
			t.Fatal(err)
		}
		if got := claim(t, s, "w1", t0.Add(24*time.Hour), 10); len(got) != 0 {
			t.Errorf("a failed row was claimed again: %v", outboxIDs(got))
		}
		if n, _, err := s.OutboxStats(t.Context(), t0.Add(time.Hour)); err != nil || n != 0 {
			t.Errorf("a failed row counts as pending: %d, %v", n, err)
		}
	})
}

func TestOutboxStats(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		if n, oldest, err := s.OutboxStats(t.Context(), t0); err != nil || n != 0 || oldest != 0 {
			t.Errorf("empty outbox: OutboxStats = %d, %s, %v; want 0, 0", n, oldest, err)
		}
		enqueue(t, s, 1, t0.Add(time.Minute))
		enqueue(t, s, 2, t0)
		n, oldest, err := s.OutboxStats(t.Context(), t0.Add(5*time.Minute))
		if err != nil || n != 3 || oldest != 5*time.Minute {
			t.Errorf("OutboxStats = %d, %s, %v; want 3, 5m0s", n, oldest, err)
		}
	})
}

// Workers claiming side by side never get the same row, and between them
// get every row.
func TestOutboxConcurrentClaims(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		const rows, workers = 300, 4
		enqueue(t, s, rows, t0)

		claimed := make([][]int64, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				worker := fmt.Sprintf("w%d", w)
				for {
					items, err := s.ClaimOutbox(t.Context(), worker, t0, time.Hour, 7)
					if err != nil {
						t.Errorf("%s: %v", worker, err)
						return
					}
					if len(items) == 0 {
						return
					}
					claimed[w] = append(claimed[w], outboxIDs(items)...)
				}
			})
		}
		wg.Wait()

		seen := map[int64]string{}
		for w, ids := range claimed {
			for _, id := range ids {
				if other, ok := seen[id]; ok {
					t.Errorf("row %d claimed by both %s and w%d", id, other, w)
				}
				seen[id] = fmt.Sprintf("w%d", w)
			}
		}
		if len(seen) != rows {
			t.Errorf("claimed %d distinct rows, want all %d", len(seen), rows)
		}
		for w, ids := range claimed {
			t.Logf("w%d claimed %d rows", w, len(ids))
		}
	})
}
