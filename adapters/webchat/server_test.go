package webchat_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/deskbot/deskbot/adapters/webchat"
	"github.com/deskbot/deskbot/bots"
)

// downStore is a store whose database does not answer.
type downStore struct{ bots.Store }

func (downStore) Ping(context.Context) error { return errors.New("connection refused") }

func TestHealthz(t *testing.T) {
	up := newRig(t)
	res := up.anonymous().get("/healthz")
	if got := decode[map[string]string](t, res); res.StatusCode != http.StatusOK || got["status"] != "ok" || got["database"] != "ok" {
		t.Errorf("healthy: %s %v", res.Status, got)
	}
	down := newRig(t, withStore(func(s bots.Store) bots.Store { return downStore{s} }))
	res = down.anonymous().get("/healthz")
	if got := decode[map[string]string](t, res); res.StatusCode != http.StatusServiceUnavailable || got["database"] == "ok" {
		t.Errorf("database down: %s %v", res.Status, got)
	}
}

func TestMetricsAreServedWhenGiven(t *testing.T) {
	if res := newRig(t).anonymous().get("/metrics"); res.StatusCode != http.StatusNotFound {
		t.Errorf("no metrics handler: %s, want 404", res.Status)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("deskbot_up 1\n")) })
	if res := newRig(t, withOption(webchat.WithMetrics(h))).anonymous().get("/metrics"); res.StatusCode != http.StatusOK {
		t.Errorf("metrics: %s", res.Status)
	}
}

func TestServeStopsGracefullyAndClosesSockets(t *testing.T) {
	r := newRig(t)
	web := webchat.New(webchat.Config{AgentToken: token}, r.engine, brain.Handbook)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- web.Serve(ctx, ln) }()

	s, _, err := dial(t, "ws://"+ln.Addr().String()+"/ws", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.read() // hello: the socket is registered
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return after ctx ended")
	}
	rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer rcancel()
	if _, _, err := s.c.Read(rctx); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("socket after shutdown: %v, want going away (1001)", err)
	}
}

func TestRunReportsABadAddress(t *testing.T) {
	r := newRig(t)
	web := webchat.New(webchat.Config{Addr: "127.0.0.1:-1"}, r.engine, nil)
	if err := web.Run(context.Background()); err == nil {
		t.Fatal("Run on a bad address returned nil")
	}
}
