package intents

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// sep is what every run of punctuation, space, emoji or control characters
// becomes: one clause break. Matching ignores it; the signal detector uses
// it to end a negation's reach.
const sep = ','

// normText is a message prepared for matching: runes after normalisation,
// and for each of them the rune offset in the original text, so that what
// we report points into what the citizen wrote.
type normText struct {
	runes []rune
	orig  []int // orig[i]: rune offset in the original of runes[i]
	total int   // original length in runes (after the cap)
}

//go:generate go run gen_t2s.go

// t2s maps Traditional characters to Simplified.
type t2s map[rune]rune

func newT2S() t2s {
	m := make(t2s, utf8.RuneCountInString(t2sPairs)/2)
	var prev rune = -1
	for _, r := range t2sPairs {
		if prev < 0 {
			prev = r
			continue
		}
		m[prev] = r
		prev = -1
	}
	return m
}

// foldRune returns r normalised, or sep for anything that separates words,
// or 0 for what carries no meaning and is dropped outright (joiners,
// variation selectors, direction marks).
func (t t2s) foldRune(r rune) rune {
	if r == utf8.RuneError {
		return sep
	}
	if p := width.LookupRune(r); p.Kind() == width.EastAsianFullwidth || p.Kind() == width.EastAsianHalfwidth {
		if f := p.Folded(); f != 0 && f < 0x3000 {
			r = f
		}
	}
	if s, ok := t[r]; ok {
		r = s
	}
	switch {
	case unicode.Is(unicode.Han, r), unicode.IsLetter(r), unicode.IsDigit(r):
		return unicode.ToLower(r)
	case r == 0x200D || unicode.Is(unicode.Variation_Selector, r) || unicode.In(r, unicode.Cf, unicode.Mn):
		return 0
	default: // punctuation, symbols, emoji, spaces, controls
		return sep
	}
}

// normalize prepares text, which must already be cut to the cap.
func (t t2s) normalize(text string) normText {
	n := normText{runes: make([]rune, 0, len(text)/2+1), orig: make([]int, 0, len(text)/2+1)}
	i := 0
	for _, r := range text {
		f := t.foldRune(r)
		switch {
		case f == 0:
		case f == sep:
			// Collapse runs of separators and never start with one.
			if len(n.runes) > 0 && n.runes[len(n.runes)-1] != sep {
				n.runes = append(n.runes, sep)
				n.orig = append(n.orig, i)
			}
		default:
			n.runes = append(n.runes, f)
			n.orig = append(n.orig, i)
		}
		i++
	}
	if len(n.runes) > 0 && n.runes[len(n.runes)-1] == sep {
		n.runes, n.orig = n.runes[:len(n.runes)-1], n.orig[:len(n.orig)-1]
	}
	n.total = i
	return n
}

// hasHan reports whether the text holds a Chinese character.
func (n normText) hasHan() bool {
	for _, r := range n.runes {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// normalizeString is normalize for phrases and cues: the folded string only.
func (t t2s) normalizeString(s string) string { return string(t.normalize(s).runes) }

// span turns a normalised [i, j) into rune offsets [start, end) of the
// original text.
func (n normText) span(i, j int) (int, int) {
	if i >= len(n.orig) {
		return n.total, n.total
	}
	start := n.orig[i]
	end := n.total
	if j < len(n.orig) {
		end = n.orig[j]
	}
	// Do not let the span swallow dropped characters after the last rune.
	if j > 0 && j <= len(n.orig) {
		if last := n.orig[j-1] + 1; last < end {
			end = last
		}
	}
	return start, end
}

// cut returns text cut to at most max runes, and whether it was cut.
func cut(text string, max int) (string, bool) {
	if len(text) <= max { // bytes >= runes: a short string needs no count
		return text, false
	}
	n := 0
	for i := range text {
		if n == max {
			return text[:i], true
		}
		n++
	}
	return text, false
}
