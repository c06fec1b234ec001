// Package intents reads a citizen's message: which scenario of the
// handbook it is about (a fuzzy intent matcher over phrases, built on
// github.com/sahilm/fuzzy with our own scoring) and which escalation
// signals it carries, and from both the action the handbook calls for.
// It is pure: no I/O, no global state, safe for concurrent use.
package intents

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/deskbot/deskbot/knowledge"
	"github.com/sahilm/fuzzy"
)

// Unknown is the intent of a message the matcher cannot place.
const Unknown = "unknown"

// Defaults for Options.
const (
	DefaultMaxRunes  = 2000
	DefaultThreshold = 0.10
)

// Phrase is one thing citizens say about an intent. Seed phrases come from
// the handbook; admins add more.
type Phrase struct {
	Intent string `json:"intent"`
	Text   string `json:"text"`
}

// SeedPhrases returns the handbook's phrases.
func SeedPhrases(h *knowledge.Handbook) []Phrase {
	var out []Phrase
	for _, s := range h.Scenarios {
		for _, p := range s.Phrases {
			out = append(out, Phrase{Intent: s.ID, Text: p})
		}
	}
	return out
}

// Options tune a matcher; zero values take the defaults.
type Options struct {
	MaxRunes  int     // input beyond this is cut before matching
	Threshold float64 // below this confidence the intent is Unknown
}

// Matcher matches messages to intents. Build one with New; it never
// changes afterwards, so any number of goroutines may use it, and a new
// one can replace it while serving (see Live).
type Matcher struct {
	h       *knowledge.Handbook
	opts    Options
	t2s     t2s
	det     *detector
	intents []string       // index -> intent id
	intentN map[string]int // intent id -> index
	phrases []phrase
	byGram  map[gram][]int32 // character pair -> phrases that contain it
	idf     map[rune]float64 // character weight: rare among intents is telling
	grams   map[gram][]gramWeight
	scratch sync.Pool
	tune    tuning
}

type phrase struct {
	text   string // normalised
	runes  []rune
	raw    string
	intent int
	chars  []rune    // distinct characters
	wts    []float64 // their idf
	weight float64   // sum of idf over distinct characters
	self   int       // fuzzy score of the phrase against itself
}

// gram is a character pair; {r, 0} stands for a single character.
type gram [2]rune

type gramWeight struct {
	intent int
	w      float64
}

// New builds a matcher for the handbook from phrases. Phrases naming an
// intent the handbook does not know are an error.
func New(h *knowledge.Handbook, phrases []Phrase, opts Options) (*Matcher, error) {
	if h == nil {
		return nil, errors.New("intents: no handbook")
	}
	if opts.MaxRunes <= 0 {
		opts.MaxRunes = DefaultMaxRunes
	}
	if opts.Threshold <= 0 {
		opts.Threshold = DefaultThreshold
	}
	m := &Matcher{h: h, opts: opts, tune: defaultTuning, t2s: newT2S(), intentN: map[string]int{}, byGram: map[gram][]int32{}, idf: map[rune]float64{}, grams: map[gram][]gramWeight{}}
	m.det = newDetector(h, m.t2s)
	for _, s := range h.Scenarios {
		m.intentN[s.ID] = len(m.intents)
		m.intents = append(m.intents, s.ID)
	}
	seen := map[string]bool{}
	for _, p := range phrases {
		in, ok := m.intentN[p.Intent]
		if !ok {
			return nil, fmt.Errorf("intents: phrase %q: unknown intent %q", p.Text, p.Intent)
		}
		norm := m.t2s.normalizeString(p.Text)
		key := p.Intent + "\x00" + norm
		if norm == "" || seen[key] {
			continue
		}
		seen[key] = true
		m.phrases = append(m.phrases, phrase{text: norm, runes: []rune(norm), raw: p.Text, intent: in})
	}
	m.buildWeights()
	m.scratch.New = func() any {
		return &scratch{mark: make([]uint32, len(m.phrases)), shared: make([]uint16, len(m.phrases)), seen: map[gram]bool{}}
	}
	return m, nil
}

// buildWeights computes character idf over intents, the character index
// and each intent's character-pair profile.
func (m *Matcher) buildWeights() {
	df := map[rune]map[int]bool{}
	for _, p := range m.phrases {
		for _, r := range p.runes {
			if r == sep {
				continue
			}
			if df[r] == nil {
				df[r] = map[int]bool{}
			}
			df[r][p.intent] = true
		}
	}
	n := float64(len(m.intents))
	for r, set := range df {
		m.idf[r] = math.Log(1 + n/float64(len(set)))
	}
	gdf := map[gram]map[int]float64{} // gram -> intent -> count
	for i := range m.phrases {
		p := &m.phrases[i]
		distinct := map[rune]bool{}
		pairs := map[gram]bool{}
		for k, r := range p.runes {
			if r == sep {
				continue
			}
			if !distinct[r] {
				distinct[r] = true
				p.weight += m.idf[r]
				p.chars = append(p.chars, r)
				p.wts = append(p.wts, m.idf[r])
			}
			// The index is by character pair: a pair is far more selective
			// than a character, so lookups stay short as phrases grow. A
			// one-character phrase is indexed by its character.
			key := gram{r, 0}
			if k+1 < len(p.runes) && p.runes[k+1] != sep {
				key = gram{r, p.runes[k+1]}
			} else if len(p.runes) > 1 {
				key = gram{}
			}
			if key != (gram{}) && !pairs[key] {
				pairs[key] = true
				m.byGram[key] = append(m.byGram[key], int32(i))
			}
			add := func(g gram) {
				if gdf[g] == nil {
					gdf[g] = map[int]float64{}
				}
				gdf[g][p.intent]++
			}
			add(gram{r, 0})
			if k+1 < len(p.runes) && p.runes[k+1] != sep {
				add(gram{r, p.runes[k+1]})
			}
		}
		if ms := fuzzy.Find(p.text, []string{p.text}); len(ms) == 1 {
			p.self = ms[0].Score
		}
	}
	// Each intent's profile: tf-idf over grams, pairs weighted above
	// single characters, normalised to unit length.
	norms := make([]float64, len(m.intents))
	for g, per := range gdf {
		idf := math.Log(1 + n/float64(len(per)))
		if g[1] == 0 {
			idf *= m.tune.unigramWeight
		}
		for in, tf := range per {
			w := (1 + math.Log(tf)) * idf
			m.grams[g] = append(m.grams[g], gramWeight{intent: in, w: w})
			norms[in] += w * w
		}
	}
	for g, list := range m.grams {
		for k := range list {
			list[k].w /= math.Pow(norms[list[k].intent], m.tune.profileNorm)
		}
		m.grams[g] = list
	}
}

// Tuning constants, measured on the handbook's own examples (see
// eval_test.go); change them only with the evaluation in hand.
type tuning struct {
	unigramWeight float64 // single characters count less than pairs in profiles
	phraseRef     float64 // a phrase this heavy (sum of idf) is full evidence
	profileShare  float64 // weight of the profile similarity in an intent's score
	secondPhrase  float64 // weight of an intent's second-best phrase
	thirdPhrase   float64 // and of its third
	partialShare  float64 // a partly present phrase's score, relative to a full match
	// profileNorm divides an intent's profile by its squared length to this
	// power: 0.5 would be the cosine, which lets an intent with a small
	// vocabulary win on one shared rare pair; 0.35 measured best on the
	// handbook's examples (0.987 against 0.950 for the cosine).
	profileNorm float64
}

var defaultTuning = tuning{unigramWeight: 0.35, phraseRef: 6.0, profileShare: 0.6, secondPhrase: 0.3, thirdPhrase: 0.15, partialShare: 0.55, profileNorm: 0.35}

const (
	minCoverage    = 0.5  // a phrase is a candidate when this share of its weight is in the message
	maxFuzzy       = 32   // at most this many fully covered phrases go through fuzzy scoring
	maxCandidates  = 400  // at most this many phrases are scored, those sharing the most pairs
	maxPostings    = 1024 // a pair in more phrases than this is a stop word: it selects no candidates
	runnerUpsShown = 3
)

// scratch is per-call working memory, pooled: mark[p] == gen means phrase
// p was already seen in this call, so nothing needs clearing between calls.
type scratch struct {
	mark    []uint32
	shared  []uint16 // character pairs a touched phrase shares with the message
	gen     uint32
	touched []int32
	present runeSet
	seen    map[gram]bool // grams of the message already counted
}

// Match reads one message.
func (m *Matcher) Match(text string) Match {
	text, truncated := cut(text, m.opts.MaxRunes)
	n := m.t2s.normalize(text)
	original := []rune(text)
	res := Match{Intent: Unknown, Truncated: truncated}
	res.Signals = m.det.detect(n, original)

	scores, matched := m.score(n, original)
	order := make([]int, 0, len(scores))
	for in, s := range scores {
		if s > 0 {
			order = append(order, in)
		}
	}
	sort.Slice(order, func(i, j int) bool {
		a, b := scores[order[i]], scores[order[j]]
		if a != b {
			return a > b
		}
		return m.intents[order[i]] < m.intents[order[j]] // ties: stable, by id
	})
	if len(order) > 0 {
		top := scores[order[0]]
		second := 0.0
		if len(order) > 1 {
			second = scores[order[1]]
		}
		// Confidence: how strong the best reading is, discounted when the
		// runner-up is nearly as strong.
		res.Confidence = math.Min(1, top) * (0.75 + 0.25*(top-second)/math.Max(top, 1e-9))
		res.Confidence = math.Round(res.Confidence*1000) / 1000
		if res.Confidence >= m.opts.Threshold {
			res.Intent = m.intents[order[0]]
		}
		for _, in := range order[1:] {
			if len(res.RunnerUps) == runnerUpsShown {
				break
			}
			res.RunnerUps = append(res.RunnerUps, Candidate{Intent: m.intents[in], Score: math.Round(scores[in]*1000) / 1000})
		}
		if res.Intent != Unknown {
			for _, mp := range matched {
				if mp.Intent == res.Intent {
					res.Matched = append(res.Matched, mp)
				}
			}
		}
	}
	m.decide(&res)
	return res
}

// score returns each intent's score and the phrases that matched.
func (m *Matcher) score(n normText, original []rune) ([]float64, []MatchedPhrase) {
	scores := make([]float64, len(m.intents))
	if len(n.runes) == 0 {
		return scores, nil
	}
	sc := m.scratch.Get().(*scratch)
	defer func() {
		sc.touched = sc.touched[:0]
		sc.present.reset()
		clear(sc.seen)
		m.scratch.Put(sc)
	}()
	sc.gen++
	if sc.gen == 0 { // wrapped: clear once every 4 billion calls
		clear(sc.mark)
		sc.gen = 1
	}

	// Phrases sharing a character pair (or, for one-character phrases, the
	// character) with the message are the candidates.
	present := &sc.present
	visit := func(g gram) {
		list := m.byGram[g]
		if len(list) > maxPostings {
			return // a pair this common is a stop word: it selects nothing
		}
		for _, p := range list {
			if sc.mark[p] != sc.gen {
				sc.mark[p] = sc.gen
				sc.shared[p] = 0
				sc.touched = append(sc.touched, p)
			}
			sc.shared[p]++
		}
	}
	for k, r := range n.runes {
		if r == sep {
			continue
		}
		present.add(r)
		visit(gram{r, 0})
		if k+1 < len(n.runes) && n.runes[k+1] != sep {
			visit(gram{r, n.runes[k+1]})
		}
	}

	// Past the cap, keep the phrases sharing the most pairs: the cost of
	// scoring stays bounded however many phrases admins add.
	if len(sc.touched) > maxCandidates {
		sc.touched = topShared(sc.touched, sc.shared, maxCandidates)
	}
	type cand struct {
		p   int32
		cov float64
	}
	var full, partial []cand
	for _, p := range sc.touched {
		ph := &m.phrases[p]
		if sc.shared[p] == 1 && len(ph.chars) >= 8 {
			// A long phrase with one pair in common is almost never half
			// present: skip counting its characters.
			continue
		}
		cov := m.coverage(ph, present)
		switch {
		case cov >= 0.999:
			full = append(full, cand{p, 1})
		case cov >= minCoverage && len(ph.runes) > 2:
			partial = append(partial, cand{p, cov})
		}
	}
	// Heaviest full candidates first: they say the most.
	sort.Slice(full, func(i, j int) bool { return m.phrases[full[i].p].weight > m.phrases[full[j].p].weight })
	if len(full) > maxFuzzy {
		full = full[:maxFuzzy]
	}

	per := make([][3]float64, len(m.intents)) // best three phrase scores per intent
	bestOf := make([]MatchedPhrase, 0, 8)
	keep := func(in int, s float64) {
		b := &per[in]
		switch {
		case s > b[0]:
			b[0], b[1], b[2] = s, b[0], b[1]
		case s > b[1]:
			b[1], b[2] = s, b[1]
		case s > b[2]:
			b[2] = s
		}
	}
	msg := string(n.runes)
	for _, c := range full {
		ph := &m.phrases[c.p]
		strength := math.Min(1, ph.weight/m.tune.phraseRef)
		var ms fuzzy.Matches
		if inOrder(ph.runes, n.runes) { // fuzzy would find nothing otherwise
			ms = fuzzy.Find(ph.text, []string{msg})
		}
		if len(ms) == 0 {
			// All characters are there but not in order.
			keep(ph.intent, 0.5*strength)
			continue
		}
		q := 1.0
		if ph.self > 0 {
			q = math.Max(0, math.Min(1, float64(ms[0].Score)/float64(ph.self)))
		}
		s := strength * (0.6 + 0.4*q)
		keep(ph.intent, s)
		start, end := byteSpanToRunes(msg, ms[0].MatchedIndexes)
		os, oe := n.span(start, end)
		bestOf = append(bestOf, MatchedPhrase{Intent: m.intents[ph.intent], Phrase: ph.raw, Score: math.Round(s*1000) / 1000, Start: os, End: oe, Text: string(original[os:oe])})
	}
	for _, c := range partial {
		ph := &m.phrases[c.p]
		strength := math.Min(1, ph.weight/m.tune.phraseRef)
		keep(ph.intent, m.tune.partialShare*strength*c.cov*c.cov)
	}

	// Character-pair profile similarity: catches messages that share the
	// intent's vocabulary without repeating any one phrase.
	prof := make([]float64, len(m.intents))
	var norm float64
	seen := sc.seen
	for k, r := range n.runes {
		if r == sep {
			continue
		}
		gs := [2]gram{{r, 0}, {}}
		if k+1 < len(n.runes) && n.runes[k+1] != sep {
			gs[1] = gram{r, n.runes[k+1]}
		}
		for _, g := range gs {
			if g[0] == 0 || seen[g] {
				continue
			}
			seen[g] = true
			list := m.grams[g]
			if len(list) == 0 {
				continue
			}
			idf := math.Log(1 + float64(len(m.intents))/float64(len(list)))
			if g[1] == 0 {
				idf *= m.tune.unigramWeight
			}
			norm += idf * idf
			for _, gw := range list {
				prof[gw.intent] += gw.w * idf
			}
		}
	}
	if norm > 0 {
		norm = math.Sqrt(norm)
	}
	// Without a Chinese character the profile only sees letter pairs
	// ("asdkjqwe" shares "we" with "weed"): only whole phrases count then.
	if !n.hasHan() {
		norm = 0
	}
	for in := range scores {
		b := per[in]
		phr := b[0] + m.tune.secondPhrase*b[1] + m.tune.thirdPhrase*b[2]
		cos := 0.0
		if norm > 0 {
			cos = prof[in] / norm
		}
		scores[in] = (1-m.tune.profileShare)*phr + m.tune.profileShare*cos*2
	}
	sort.Slice(bestOf, func(i, j int) bool { return bestOf[i].Score > bestOf[j].Score })
	return scores, bestOf
}

// topShared keeps the k phrases sharing the most pairs. Counts are small
// integers, so finding the cut is a counting pass, not a sort.
func topShared(touched []int32, shared []uint16, k int) []int32 {
	var hist [64]int
	for _, p := range touched {
		hist[min(int(shared[p]), len(hist)-1)]++
	}
	cut, n := len(hist)-1, 0
	for ; cut > 0; cut-- {
		if n+hist[cut] >= k {
			break
		}
		n += hist[cut]
	}
	// Everything above the cut, then from the cut level until k.
	out := touched[:0]
	room := k - n
	for _, p := range touched {
		c := min(int(shared[p]), len(hist)-1)
		switch {
		case c > cut:
			out = append(out, p)
		case c == cut && room > 0:
			out = append(out, p)
			room--
		}
	}
	return out
}

// inOrder reports whether p's characters appear in t in order: a cheap
// test before fuzzy, whose case folding costs much on Chinese.
func inOrder(p, t []rune) bool {
	i := 0
	for _, r := range t {
		if i < len(p) && p[i] == r {
			i++
		}
	}
	return i == len(p)
}

// coverage is the share of a phrase's weight whose characters are in the
// message.
func (m *Matcher) coverage(ph *phrase, present *runeSet) float64 {
	var got float64
	for k, r := range ph.chars {
		if present.has(r) {
			got += ph.wts[k]
		}
	}
	return got / ph.weight
}

// runeSet is a set of characters: a bitmap for the Basic Multilingual
// Plane, where Chinese lives, and a map for the rest.
type runeSet struct {
	bits  [0x10000 / 64]uint64
	other map[rune]bool
	added []rune
}

func (s *runeSet) add(r rune) {
	if r < 0x10000 {
		s.bits[r/64] |= 1 << (r % 64)
		s.added = append(s.added, r)
		return
	}
	if s.other == nil {
		s.other = map[rune]bool{}
	}
	s.other[r] = true
}

func (s *runeSet) has(r rune) bool {
	if r < 0x10000 {
		return s.bits[r/64]&(1<<(r%64)) != 0
	}
	return s.other[r]
}

// reset empties the set in time proportional to what was added.
func (s *runeSet) reset() {
	for _, r := range s.added {
		s.bits[r/64] = 0
	}
	s.added = s.added[:0]
	clear(s.other)
}

// byteSpanToRunes turns fuzzy's matched byte offsets into the rune span
// [first, last+1) of s.
func byteSpanToRunes(s string, idx []int) (int, int) {
	if len(idx) == 0 {
		return 0, 0
	}
	first, last := idx[0], idx[len(idx)-1]
	start, end, r := 0, 0, 0
	for b := range s {
		if b == first {
			start = r
		}
		if b == last {
			end = r + 1
			break
		}
		r++
	}
	return start, end
}
