// Package shared finds the project's shared folder (the catalogue, the seed
// documents, the evaluation set) beside the module root, for tests and
// tools. Tests that need it skip when it is absent, and fail instead when
// DESKBOT_STRICT=1, so CI cannot go green by skipping.
package shared

import (
	"os"
	"path/filepath"
	"testing"
)

// Strict reports whether DESKBOT_STRICT=1 asks for missing outside
// dependencies to fail tests instead of skipping them.
func Strict() bool { return os.Getenv("DESKBOT_STRICT") == "1" }

// ModuleRoot walks up from the working directory to the folder holding go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// Path returns <module root>/../shared/<rel>.
func Path(rel string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "..", "shared", rel), nil
}

// Need returns the path of a file under ../shared, or skips the test with a
// message when it is missing (failing instead under DESKBOT_STRICT=1).
func Need(t testing.TB, rel string) string {
	t.Helper()
	p, err := Path(rel)
	if err == nil {
		_, err = os.Stat(p)
	}
	if err != nil {
		Missing(t, "../shared/"+rel+" is not available: "+err.Error())
	}
	return p
}

// Missing skips the test with why, or fails it under DESKBOT_STRICT=1.
func Missing(t testing.TB, why string) {
	t.Helper()
	if Strict() {
		t.Fatalf("%s (DESKBOT_STRICT=1, so this fails instead of skipping)", why)
	}
	t.Skip(why)
}
