package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
)

type exportedPhrase struct {
	Intent string `json:"intent"`
	Text   string `json:"text"`
}

// intentsExport prints every seed phrase as JSON Lines, in catalogue order.
func (a *App) intentsExport(_ context.Context, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("intents export takes no arguments, got %q", args)
	}
	h, err := a.loadHandbook()
	if err != nil {
		return err
	}
	w := bufio.NewWriter(a.Stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, s := range h.Scenarios {
		for _, p := range s.Phrases {
			if err := enc.Encode(exportedPhrase{Intent: s.ID, Text: p}); err != nil {
				return fmt.Errorf("write phrase: %w", err)
			}
		}
	}
	return w.Flush()
}
