package webchat

import (
	"context"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Sockets: each open WebSocket has a queue of frames and one goroutine
// writing them, so the outbox worker never waits on a slow phone. A socket
// whose queue is full is closed; its page reconnects and reads what it
// missed from the engine.

const (
	queueLen     = 64
	writeTimeout = 10 * time.Second
	pingEvery    = 30 * time.Second
	// expectFor is how long after a connect a pushed message may be one the
	// history already showed (see socket.expect).
	expectFor = 10 * time.Second
)

// outFrame is one frame to write. from and text identify a desk message
// for socket.expect; they are empty for other frames.
type outFrame struct {
	data       []byte
	from, text string
}

type socket struct {
	conn   *websocket.Conn
	out    chan outFrame
	closed chan struct{}
	once   sync.Once
	code   websocket.StatusCode // why it closed, sent by writeLoop
	reason string

	mu       sync.Mutex
	expected []outFrame // desk messages the history showed that may still be pushed
	until    time.Time
}

func newSocket(conn *websocket.Conn) *socket {
	return &socket{conn: conn, out: make(chan outFrame, queueLen), closed: make(chan struct{})}
}

// push queues a frame; a socket too slow to keep up is closed.
func (s *socket) push(f outFrame) {
	select {
	case <-s.closed:
	case s.out <- f:
	default:
		s.close(websocket.StatusTryAgainLater, "too slow, reconnect")
	}
}

// close asks writeLoop to close the connection; it does not wait, so the
// outbox worker is never held by a slow peer.
func (s *socket) close(code websocket.StatusCode, reason string) {
	s.once.Do(func() {
		s.code, s.reason = code, reason
		close(s.closed)
	})
}

// writeLoop writes queued frames and pings until the socket is closed,
// and then closes the connection (the handler's read loop ends with it).
func (s *socket) writeLoop() {
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	for {
		select {
		case <-s.closed:
			s.conn.Close(s.code, s.reason)
			return
		case f := <-s.out:
			if f.from != "" && s.shown(f.from, f.text) {
				continue
			}
			if err := s.write(f.data); err != nil {
				s.close(websocket.StatusGoingAway, "write failed")
				s.conn.CloseNow()
				return
			}
		case <-ping.C:
			ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
			err := s.conn.Ping(ctx)
			cancel()
			if err != nil {
				s.close(websocket.StatusGoingAway, "no pong")
				s.conn.CloseNow()
				return
			}
		}
	}
}

func (s *socket) write(b []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	return s.conn.Write(ctx, websocket.MessageText, b)
}

// expect records desk messages the page has just been shown as history
// that the outbox may not have pushed yet. The socket is registered before
// the history is read, so nothing committed in between is lost; the price
// is that a message can arrive both ways. The history's lines carry no
// outbox id, so such a push is recognised by sender and text: the outbox
// sends in order, so duplicates are a run of the expected lines, and the
// first push that is not one ends the expecting.
func (s *socket) expect(lines []outFrame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expected, s.until = lines, time.Now().Add(expectFor)
}

// stopExpecting: after the citizen writes again, a repeated text is news.
func (s *socket) stopExpecting() { s.expect(nil) }

func (s *socket) shown(from, text string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.expected) == 0 || time.Now().After(s.until) {
		s.expected = nil
		return false
	}
	for i, l := range s.expected {
		if l.from == from && l.text == text {
			s.expected = s.expected[i+1:]
			return true
		}
	}
	s.expected = nil
	return false
}

// hub is the set of open sockets by key (a citizen's session id; one key
// for the agents).
type hub[K comparable] struct {
	mu    sync.Mutex
	byKey map[K]map[*socket]struct{}
}

func newHub[K comparable]() *hub[K] { return &hub[K]{byKey: map[K]map[*socket]struct{}{}} }

func (h *hub[K]) add(k K, s *socket) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byKey[k] == nil {
		h.byKey[k] = map[*socket]struct{}{}
	}
	h.byKey[k][s] = struct{}{}
}

func (h *hub[K]) remove(k K, s *socket) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.byKey[k], s)
	if len(h.byKey[k]) == 0 {
		delete(h.byKey, k)
	}
}

// push queues f on every socket of k and reports how many there were.
func (h *hub[K]) push(k K, f outFrame) int {
	h.mu.Lock()
	socks := make([]*socket, 0, len(h.byKey[k]))
	for s := range h.byKey[k] {
		socks = append(socks, s)
	}
	h.mu.Unlock()
	for _, s := range socks {
		s.push(f)
	}
	return len(socks)
}

func (h *hub[K]) count(k K) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.byKey[k])
}

func (h *hub[K]) closeAll() {
	h.mu.Lock()
	var socks []*socket
	for _, m := range h.byKey {
		for s := range m {
			socks = append(socks, s)
		}
	}
	h.mu.Unlock()
	for _, s := range socks {
		s.close(websocket.StatusGoingAway, "server shutting down")
	}
}
