package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// logWatch is the server's stderr: it keeps every JSON log line and lets
// a test wait for one by its message, without polling.
type logWatch struct {
	mu      sync.Mutex
	partial []byte
	lines   []map[string]any
	changed chan struct{} // closed and replaced at each new line
}

func newLogWatch() *logWatch { return &logWatch{changed: make(chan struct{})} }

func (w *logWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		var l map[string]any
		if json.Unmarshal(w.partial[:i], &l) == nil {
			w.lines = append(w.lines, l)
		}
		w.partial = w.partial[i+1:]
		close(w.changed)
		w.changed = make(chan struct{})
	}
	return len(p), nil
}

// all returns the lines whose msg is msg.
func (w *logWatch) all(msg string) []map[string]any {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []map[string]any
	for _, l := range w.lines {
		if l["msg"] == msg {
			out = append(out, l)
		}
	}
	return out
}

// wait returns the first line whose msg is msg, waiting for it.
func (w *logWatch) wait(t testing.TB, msg string, stopped <-chan error) map[string]any {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		w.mu.Lock()
		ch := w.changed
		w.mu.Unlock()
		if got := w.all(msg); len(got) > 0 {
			return got[0]
		}
		select {
		case <-ch:
		case err := <-stopped:
			t.Fatalf("serve stopped before %q: %v", msg, err)
		case <-deadline:
			t.Fatalf("no %q in the log", msg)
		}
	}
}

// startServe runs `deskbot` (serve) with SQLite in a temp folder on a free
// port and returns its address, its log and a stop function.
func startServe(t testing.TB, env map[string]string) (string, *logWatch, func() error) {
	t.Helper()
	env["DESKBOT_SQLITE_PATH"] = filepath.Join(t.TempDir(), "desk.db")
	env["DESKBOT_ADDR"] = "127.0.0.1:0"
	logs := newLogWatch()
	app := &App{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: logs, Getenv: func(k string) string { return env[k] }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, nil) }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			t.Fatal("serve did not stop")
			return nil
		}
	}
	t.Cleanup(func() { stop() })
	addr, _ := logs.wait(t, "deskbot serving", done)["addr"].(string)
	if addr == "" {
		t.Fatal("no addr in the serving line")
	}
	return addr, logs, stop
}

func TestServeRunsTheWebDesk(t *testing.T) {
	addr, logs, stop := startServe(t, map[string]string{})
	base := "http://" + addr

	tokens := logs.all("agent inbox token")
	if len(tokens) != 1 {
		t.Fatalf("the agent token was logged %d times, want once", len(tokens))
	}
	token, _ := tokens[0]["token"].(string)
	if len(token) < 20 {
		t.Fatalf("generated token %q is too short", token)
	}

	// A citizen chats over the socket; the outbox answers through it.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	read := func() map[string]any {
		t.Helper()
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var f map[string]any
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	if f := read(); f["type"] != "hello" {
		t.Fatalf("first frame %v", f)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"message","id":"m1","text":"你好"}`)); err != nil {
		t.Fatal(err)
	}
	for got := ""; !strings.Contains(got, "110网上服务台"); {
		if f := read(); f["type"] == "message" {
			got, _ = f["text"].(string)
		}
	}

	get := func(path string) (int, string) {
		t.Helper()
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != http.StatusOK || !strings.Contains(body, `"database":"ok"`) {
		t.Errorf("/healthz = %d %s", code, body)
	}
	code, body := get("/metrics")
	for _, want := range []string{
		`deskbot_messages_in_total{channel="webchat"} 1`,
		`deskbot_messages_out_total{channel="webchat"} 1`,
		`deskbot_matches_total{`,
		`deskbot_handling_seconds_count{channel="webchat"} 1`,
		`deskbot_outbox_pending `,
		`deskbot_outbox_oldest_age_seconds `,
	} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("/metrics (%d) lacks %s", code, want)
		}
	}

	// The logged token signs an agent in.
	jar, _ := cookiejar.New(nil)
	req, _ := http.NewRequest(http.MethodPost, base+"/agent/api/signin", strings.NewReader(`{"token":"`+token+`","name":"值班员"}`))
	req.Header.Set("X-Requested-With", "deskbot")
	res, err := (&http.Client{Jar: jar}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("sign in with the logged token: %s", res.Status)
	}

	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	if len(logs.all("shutting down")) != 1 {
		t.Error("no shutdown logged")
	}
}

func TestAConfiguredAgentTokenIsNotLogged(t *testing.T) {
	_, logs, stop := startServe(t, map[string]string{"DESKBOT_AGENT_TOKEN": "chosen-by-the-operator"})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(logs.all("agent inbox token")); n != 0 {
		t.Errorf("a configured token was logged %d times", n)
	}
}

func TestABusyAddressIsAClearError(t *testing.T) {
	addr, _, _ := startServe(t, map[string]string{})
	env := map[string]string{"DESKBOT_SQLITE_PATH": filepath.Join(t.TempDir(), "other.db"), "DESKBOT_ADDR": addr}
	_, _, err := run(t, env, "", "serve")
	if err == nil || !strings.Contains(err.Error(), "DESKBOT_ADDR") {
		t.Fatalf("second serve on %s: %v", addr, err)
	}
}

func TestWebConfiguration(t *testing.T) {
	app := &App{Getenv: func(k string) string {
		return map[string]string{"DESKBOT_ALLOWED_ORIGINS": " desk.example.org, https://*.example.net ,,"}[k]
	}}
	c, err := app.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.AgentToken != "" || strings.Join(c.AllowedOrigins, "|") != "desk.example.org|https://*.example.net" {
		t.Errorf("config = addr %q, token %q, origins %q", c.Addr, c.AgentToken, c.AllowedOrigins)
	}
}
