package webchat

import "io/fs"

// StaticFile returns an embedded page file, for tests that read the
// pages' code.
func StaticFile(name string) ([]byte, error) { return fs.ReadFile(staticFS(), name) }
