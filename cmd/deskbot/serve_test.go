package main

import (
	"strings"
	"testing"
)

func TestServeStartsAndStopsGracefully(t *testing.T) {
	_, logs, stop := startServe(t, map[string]string{}) // no command: serve
	// stop cancels the context, as SIGTERM does through signal.NotifyContext.
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if len(logs.all("shutting down")) != 1 {
		t.Errorf("no shutdown logged: %v", logs.lines)
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
