package store

import "testing"

// Count returns the rows of a table, for tests that check what the
// public API cannot see (one stored row for a redelivered message).
func (s *Store) Count(t testing.TB, table string) int64 {
	t.Helper()
	var n int64
	if err := s.db.Table(table).Count(&n).Error; err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}
