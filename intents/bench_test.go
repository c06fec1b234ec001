package intents

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sahilm/fuzzy"
)

const benchMessage = "楼上那家天天半夜装修,电钻响个不停,我去敲门他们还骂人,物业也不管,怎么办"

// scaled returns the seed phrases plus synthetic ones, factor times as
// many in all. A synthetic phrase is a seed phrase with about half its
// characters replaced by random CJK characters, spread over the same
// intents: new phrases share some vocabulary with the old ones, as admins'
// phrases do, without being copies.
func scaled(seed []Phrase, factor int) []Phrase {
	rng := rand.New(rand.NewPCG(1, 2))
	out := append([]Phrase{}, seed...)
	for len(out) < len(seed)*factor {
		p := seed[rng.IntN(len(seed))]
		r := []rune(p.Text)
		for i := range r {
			if rng.IntN(2) == 0 {
				r[i] = rune(0x4E00 + rng.IntN(0x9FA5-0x4E00))
			}
		}
		out = append(out, Phrase{Intent: p.Intent, Text: string(r)})
	}
	return out
}

func benchScaled(b *testing.B, factor int) {
	h, _ := newMatcher(b)
	m, err := New(h, scaled(SeedPhrases(h), factor), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(m.phrases)), "phrases")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Match(benchMessage)
	}
}

// One message against the whole base.
func BenchmarkMatch1x(b *testing.B)   { benchScaled(b, 1) }
func BenchmarkMatch10x(b *testing.B)  { benchScaled(b, 10) }
func BenchmarkMatch100x(b *testing.B) { benchScaled(b, 100) }

// The naive way, for comparison: every phrase through fuzzy.Find.
func BenchmarkNaiveFuzzyLoop1x(b *testing.B) {
	h, _ := newMatcher(b)
	phrases := SeedPhrases(h)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, p := range phrases {
			fuzzy.Find(p.Text, []string{benchMessage})
		}
	}
}

// A 1 MB message is cut to the cap before any work.
func BenchmarkMatch1MB(b *testing.B) {
	_, m := newMatcher(b)
	text := strings.Repeat("楼上装修吵死了,", 1<<20/len("楼上装修吵死了,"))
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Match(text)
	}
}
