package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeStartsAndStopsGracefully(t *testing.T) {
	var logs syncBuffer
	env := map[string]string{"DESKBOT_SQLITE_PATH": filepath.Join(t.TempDir(), "serve.db")}
	app := &App{Stdin: strings.NewReader(""), Stdout: &logs, Stderr: &logs, Getenv: func(k string) string { return env[k] }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, nil) }() // no command: serve
	deadline := time.After(10 * time.Second)
	for !strings.Contains(logs.String(), "deskbot serving") {
		select {
		case err := <-done:
			t.Fatalf("serve stopped early: %v\n%s", err, logs.String())
		case <-deadline:
			t.Fatalf("serve did not start:\n%s", logs.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel() // what SIGTERM does through signal.NotifyContext
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(logs.String(), "shutting down") {
		t.Errorf("no shutdown logged:\n%s", logs.String())
	}
}

func TestBadConfigurationIsAClearError(t *testing.T) {
	for k, v := range map[string]string{"DESKBOT_TZ": "Mars/Olympus", "DESKBOT_RETENTION_DAYS": "soon", "DESKBOT_LOG_LEVEL": "loud"} {
		_, _, err := run(t, map[string]string{k: v}, "", "serve")
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
}
