package webchat

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiters holds one token bucket per citizen session. Buckets idle for
// a while are dropped when the map grows, so a flood of new sessions
// cannot grow it without bound.
type limiters struct {
	mu    sync.Mutex
	rate  rate.Limit
	burst int
	now   func() time.Time
	m     map[string]*bucket
}

type bucket struct {
	l    *rate.Limiter
	last time.Time
}

const (
	pruneAbove = 10000
	idleBucket = 10 * time.Minute
)

func newLimiters(r rate.Limit, burst int, now func() time.Time) *limiters {
	return &limiters{rate: r, burst: burst, now: now, m: map[string]*bucket{}}
}

// allow reports whether key may send one more message now, and counts
// it.
func (l *limiters) allow(key string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bucket(key, now).AllowN(now, 1)
}

// spent reports whether key has no token left now, without taking one.
func (l *limiters) spent(key string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bucket(key, now).TokensAt(now) < 1
}

func (l *limiters) bucket(key string, now time.Time) *rate.Limiter {
	b, ok := l.m[key]
	if !ok {
		if len(l.m) >= pruneAbove {
			for k, old := range l.m {
				if now.Sub(old.last) > idleBucket {
					delete(l.m, k)
				}
			}
		}
		b = &bucket{l: rate.NewLimiter(l.rate, l.burst)}
		l.m[key] = b
	}
	b.last = now
	return b.l
}
