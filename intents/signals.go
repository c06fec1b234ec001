package intents

import (
	"sort"
	"strings"

	"github.com/deskbot/deskbot/knowledge"
)

// How far back from a cue a negation still counts, and how wide a '*' gap
// in a cue may be, in normalised characters.
const (
	negationReach = 6
	cueGap        = 4
)

// SignalHit is one escalation signal found in a message, with the words
// that raised it as rune offsets [Start, End) into the original text.
type SignalHit struct {
	Signal string `json:"signal"`
	Text   string `json:"text"`
	Start  int    `json:"start"`
	End    int    `json:"end"`
}

type cue struct {
	signal string
	parts  [][]rune // the cue split at '*'
	length int      // runes in all parts
}

// detector finds escalation signals. It is built once from the handbook
// and read concurrently.
type detector struct {
	byFirst      map[rune][]*cue
	negations    wordSet // negations and minimizers: both calm a cue
	notNegations wordSet
	calm         wordSet // phrases inside which a cue means nothing
	contrasts    wordSet
}

// wordSet finds short words at a position: indexed by first character,
// longest first.
type wordSet map[rune][][]rune

func (ws wordSet) at(text []rune, i int) []rune {
	for _, w := range ws[text[i]] {
		if hasAt(text, i, w) {
			return w
		}
	}
	return nil
}

func newDetector(h *knowledge.Handbook, t t2s) *detector {
	d := &detector{byFirst: map[rune][]*cue{}}
	for _, s := range h.Signals {
		for _, c := range s.Cues {
			var parts [][]rune
			n := 0
			for _, p := range strings.Split(c, "*") {
				r := []rune(t.normalizeString(p))
				if len(r) > 0 {
					parts = append(parts, r)
					n += len(r)
				}
			}
			if len(parts) == 0 {
				continue
			}
			cu := &cue{signal: s.Name, parts: parts, length: n}
			d.byFirst[parts[0][0]] = append(d.byFirst[parts[0][0]], cu)
		}
	}
	// Longer cues first, so the longest reading of a place wins.
	for k, list := range d.byFirst {
		sort.SliceStable(list, func(i, j int) bool { return list[i].length > list[j].length })
		d.byFirst[k] = list
	}
	words := func(list []string) wordSet {
		out := wordSet{}
		for _, w := range list {
			if r := []rune(t.normalizeString(w)); len(r) > 0 {
				out[r[0]] = append(out[r[0]], r)
			}
		}
		for _, l := range out {
			sort.Slice(l, func(i, j int) bool { return len(l[i]) > len(l[j]) })
		}
		return out
	}
	d.negations = words(append(append([]string{}, h.Negations...), h.Minimizers...))
	d.notNegations = words(h.NotNegations)
	d.calm = words(h.CalmPhrases)
	d.contrasts = words(h.Contrasts)
	return d
}

func hasAt(text []rune, i int, w []rune) bool {
	if i < 0 || i+len(w) > len(text) {
		return false
	}
	for k, r := range w {
		if text[i+k] != r {
			return false
		}
	}
	return true
}

// matchCue tries c at position i; it returns the end of the match or -1.
// Gaps never cross a clause break.
func matchCue(text []rune, i int, c *cue) int {
	if !hasAt(text, i, c.parts[0]) {
		return -1
	}
	end := i + len(c.parts[0])
	for _, p := range c.parts[1:] {
		found := -1
		for g := 0; g <= cueGap && end+g+len(p) <= len(text); g++ {
			if g > 0 && text[end+g-1] == sep {
				break
			}
			if hasAt(text, end+g, p) {
				found = end + g
				break
			}
		}
		if found < 0 {
			return -1
		}
		end = found + len(p)
	}
	return end
}

// detect returns the signals found in n, in order of appearance.
func (d *detector) detect(n normText, original []rune) []SignalHit {
	text := n.runes
	var masked []bool // characters inside a word that only looks like a negation
	for i := range text {
		if w := d.notNegations.at(text, i); w != nil {
			if masked == nil {
				masked = make([]bool, len(text))
			}
			for k := range w {
				masked[i+k] = true
			}
		}
	}
	var calm []bool // characters inside a calm phrase (气得我想打人, 砍价)
	for i := range text {
		if w := d.calm.at(text, i); w != nil {
			if calm == nil {
				calm = make([]bool, len(text))
			}
			for k := range w {
				calm[i+k] = true
			}
		}
	}
	var hits []SignalHit
	lastEnd := map[string]int{}
	for i := 0; i < len(text); i++ {
		for _, c := range d.byFirst[text[i]] {
			end := matchCue(text, i, c)
			if end < 0 || end <= lastEnd[c.signal] || inside(calm, i, end) || d.negated(text, masked, i) {
				continue
			}
			lastEnd[c.signal] = end
			s, e := n.span(i, end)
			hits = append(hits, SignalHit{Signal: c.signal, Text: string(original[s:e]), Start: s, End: e})
		}
	}
	return hits
}

// inside reports whether every character of [i, end) is marked.
func inside(mask []bool, i, end int) bool {
	if mask == nil {
		return false
	}
	for k := i; k < end; k++ {
		if !mask[k] {
			return false
		}
	}
	return true
}

// negated reports whether a negation or minimizer stands within reach
// before position i, in the same clause and not before a contrast word.
func (d *detector) negated(text []rune, masked []bool, i int) bool {
	from := i - negationReach
	if from < 0 {
		from = 0
	}
	for k := i - 1; k >= from; k-- {
		if text[k] == sep {
			from = k + 1
			break
		}
	}
	for k := from; k < i; k++ {
		if w := d.contrasts.at(text, k); w != nil && k+len(w) <= i {
			from = k + len(w)
		}
	}
	for k := from; k < i; k++ {
		for _, w := range d.negations[text[k]] {
			if k+len(w) > i || !hasAt(text, k, w) {
				continue
			}
			real := true
			for m := k; m < k+len(w); m++ {
				if masked != nil && masked[m] {
					real = false
					break
				}
			}
			if real {
				return true
			}
		}
	}
	return false
}
