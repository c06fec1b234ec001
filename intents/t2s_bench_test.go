package intents

import "testing"

// BenchmarkT2S measures the generated table on a 33-character message
// (compare: OpenCC's converter, measured once with go test -bench in a
// scratch module; see README).
func BenchmarkT2S(b *testing.B) {
	t := newT2S()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		t.normalizeString("聽說鎮上那家旅館一直有人做皮肉生意,樓上裝修吵死了,我們報警了")
	}
}
