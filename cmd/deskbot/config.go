package main

import (
	"fmt"
	"os"

	"github.com/deskbot/deskbot/knowledge"
)

// loadHandbook loads the embedded handbook with the city's directory
// override named by DESKBOT_DIRECTORY_FILE, if any.
func (a *App) loadHandbook() (*knowledge.Handbook, error) {
	var opts knowledge.Options
	if p := a.Getenv("DESKBOT_DIRECTORY_FILE"); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read DESKBOT_DIRECTORY_FILE: %w", err)
		}
		opts.DirectoryOverride, opts.OverrideName = b, p
	}
	h, err := knowledge.Load(opts)
	if err != nil {
		return nil, fmt.Errorf("load handbook: %w", err)
	}
	return h, nil
}
