package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskbot/deskbot/knowledge"
)

// run runs deskbot in-process with the given stdin and environment.
func run(t *testing.T, env map[string]string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	app := &App{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}
	err := app.Run(context.Background(), args)
	return out.String(), errb.String(), err
}

func TestIntentsExportPrintsEveryPhrase(t *testing.T) {
	out, _, err := run(t, nil, "", "intents", "export")
	if err != nil {
		t.Fatal(err)
	}
	h, err := knowledge.Load(knowledge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, s := range h.Scenarios {
		want += len(s.Phrases)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != want {
		t.Fatalf("%d lines, want %d", len(lines), want)
	}
	perIntent := map[string]int{}
	for _, l := range lines {
		var p struct{ Intent, Text string }
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		if _, ok := h.Scenario(p.Intent); !ok || p.Text == "" {
			t.Fatalf("bad line %q", l)
		}
		perIntent[p.Intent]++
	}
	if len(perIntent) != len(h.Scenarios) {
		t.Errorf("phrases for %d intents, want %d", len(perIntent), len(h.Scenarios))
	}
}

func TestBadDirectoryOverrideIsAClearError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "city.yaml")
	if err := os.WriteFile(p, []byte("directory:\n  - key: nowhere\n    phone: \"1\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := run(t, map[string]string{"DESKBOT_DIRECTORY_FILE": p}, "", "intents", "export")
	if err == nil || !strings.Contains(err.Error(), "nowhere: unknown directory key") {
		t.Fatalf("err = %v", err)
	}
}

func TestUnknownCommand(t *testing.T) {
	if _, _, err := run(t, nil, "", "frobnicate"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("err = %v", err)
	}
}
