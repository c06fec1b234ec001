package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/deskbot/deskbot/adapters/store"
	"github.com/deskbot/deskbot/bots"
)

// countingChannel counts deliveries per outbox row; down makes it fail.
type countingChannel struct {
	mu   sync.Mutex
	seen map[int64]int
	down bool
}

func (c *countingChannel) SendToCitizen(_ context.Context, d bots.Delivery, _ bots.Outbound) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return errors.New("channel down")
	}
	if c.seen == nil {
		c.seen = map[int64]int{}
	}
	c.seen[d.OutboxID]++
	return nil
}

func worker(s bots.Store, ch bots.CitizenChannel, name string, now time.Time) *bots.Outbox {
	return &bots.Outbox{Store: s, Citizens: map[string]bots.CitizenChannel{"telegram": ch}, Worker: name, Batch: 7, Now: func() time.Time { return now }}
}

// A crash with rows pending, or a channel that was down, loses nothing:
// the next process sends them.
func TestOutboxResumesAfterRestart(t *testing.T) {
	eachDB(t, func(t *testing.T, cfg store.Config) {
		s, err := store.Open(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		enqueue(t, s, 20, t0)
		ch := &countingChannel{down: true}
		if n, err := worker(s, ch, "first", t0).RunOnce(t.Context()); err != nil || n != 0 {
			t.Fatalf("sent %d with the channel down, %v", n, err)
		}
		s.Close() // the process dies

		s = open(t, cfg)
		ch.down = false
		later := t0.Add(time.Hour)
		w := worker(s, ch, "second", later)
		for {
			n, err := w.RunOnce(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		if len(ch.seen) != 20 {
			t.Fatalf("after the restart %d of 20 rows were sent", len(ch.seen))
		}
		if n, _, _ := s.OutboxStats(t.Context(), later); n != 0 {
			t.Errorf("%d rows still pending", n)
		}
	})
}

// Two workers on one database send every row exactly once.
func TestTwoWorkersSendEachRowOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		const rows = 200
		enqueue(t, s, rows, t0)
		ch := &countingChannel{}
		var wg sync.WaitGroup
		for _, name := range []string{"worker-a", "worker-b"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w := worker(s, ch, name, t0)
				for {
					n, err := w.RunOnce(t.Context())
					if err != nil {
						t.Error(err)
						return
					}
					if n == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		if len(ch.seen) != rows {
			t.Fatalf("%d of %d rows sent", len(ch.seen), rows)
		}
		for id, n := range ch.seen {
			if n != 1 {
				t.Errorf("row %d sent %d times", id, n)
			}
		}
	})
}
