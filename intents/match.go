package intents

import (
	"strings"
	"sync/atomic"

	"github.com/deskbot/deskbot/knowledge"
)

// Confidence levels of the action rules, measured on the handbook's
// examples and the probe set (see eval_test.go).
const (
	pastEventsConfidence  = 0.4
	weakDefaultConfidence = 0.2
)

// Match is what the matcher read in a message, explained: the intent and
// how sure it is, the intents that came next, the phrases that matched,
// the signals with the words that raised them, and the rule that set the
// action.
type Match struct {
	Intent     string           `json:"intent"`
	Confidence float64          `json:"confidence"`
	Action     knowledge.Action `json:"action"`
	Rule       string           `json:"rule"`             // "<intent>/<rule name>", "<intent>/default" or "global/<name>"
	RuleReply  string           `json:"-"`                // the firing rule's own reply, if it has one
	Notify     []string         `json:"notify,omitempty"` // who must be told: duty_leader...
	RunnerUps  []Candidate      `json:"runner_ups,omitempty"`
	Matched    []MatchedPhrase  `json:"matched"`
	Signals    []SignalHit      `json:"signals"`
	Truncated  bool             `json:"truncated,omitempty"` // the input was longer than the cap and was cut
}

// Candidate is an intent that scored below the winner.
type Candidate struct {
	Intent string  `json:"intent"`
	Score  float64 `json:"score"`
}

// MatchedPhrase is a phrase found in the message, with the matched span
// as rune offsets [Start, End) into the original text.
type MatchedPhrase struct {
	Intent string  `json:"intent"`
	Phrase string  `json:"phrase"`
	Score  float64 `json:"score"`
	Text   string  `json:"text"`
	Start  int     `json:"start"`
	End    int     `json:"end"`
}

// HasSignal reports whether the signal was found.
func (m Match) HasSignal(name string) bool {
	for _, s := range m.Signals {
		if s.Signal == name {
			return true
		}
	}
	return false
}

// decide sets the action: the scenario's default, raised by the highest
// of its rules whose signals were found, and by the global rules (a life
// at risk is urgent whatever the intent).
func (m *Matcher) decide(res *Match) {
	found := map[string]bool{}
	for _, s := range res.Signals {
		found[s.Signal] = true
	}
	fires := func(any, all []string) bool {
		if len(any)+len(all) == 0 {
			return false
		}
		for _, s := range all {
			if !found[s] {
				return false
			}
		}
		if len(any) == 0 {
			return true
		}
		for _, s := range any {
			if found[s] {
				return true
			}
		}
		return false
	}
	res.Action, res.Rule = knowledge.SelfHelp, "default"
	if sc, ok := m.h.Scenario(res.Intent); ok {
		res.Action, res.Rule, res.Notify = sc.DefaultAction, sc.ID+"/default", sc.Notify
		for _, r := range sc.Rules {
			if fires(r.Any, r.All) && r.Action.Rank() >= res.Action.Rank() {
				res.Action, res.Rule, res.Notify, res.RuleReply = r.Action, sc.ID+"/"+r.Name, r.Notify, r.Reply
			}
		}
		// A scenario whose default sends officers, read with too little
		// confidence, does not set the action alone: with signals of
		// trouble officers go (dispatch, nobody else alerted), without
		// them a person looks. "在马?" must not send officers because it
		// looks a little like a report, nor a drunk guest's "请派警察过来"
		// raise a case against an officer.
		weak := res.Confidence < sc.MinConfidence ||
			res.Confidence < weakDefaultConfidence && len(res.Signals) == 0
		if strings.HasSuffix(res.Rule, "/default") && res.Action.Rank() >= knowledge.Dispatch.Rank() && weak {
			res.Action, res.Rule, res.Notify = knowledge.Handoff, sc.ID+"/weak_reading", nil
			if len(res.Signals) > 0 {
				res.Action = knowledge.Dispatch
			}
		}
	}
	// A scenario about past events mutes the lesser global rules only when
	// the reading is sure: a fight misread as a complaint must still count.
	past := false
	if sc, ok := m.h.Scenario(res.Intent); ok {
		past = sc.PastEvents && res.Confidence >= pastEventsConfidence
	}
	for _, g := range m.h.GlobalRules {
		if past && g.Action != knowledge.Urgent {
			continue
		}
		if fires(g.Any, g.All) && g.Action.Rank() > res.Action.Rank() {
			res.Action, res.Rule, res.Notify, res.RuleReply = g.Action, "global/"+g.Name, g.Notify, ""
		}
	}
	if res.Action == knowledge.Urgent && !contains(res.Notify, knowledge.DutyLeader) {
		res.Notify = append(append([]string{}, res.Notify...), knowledge.DutyLeader)
	}
	if res.Matched == nil {
		res.Matched = []MatchedPhrase{}
	}
	if res.Signals == nil {
		res.Signals = []SignalHit{}
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Live holds the matcher in use and lets a new one be swapped in while
// messages are being matched: admins tune phrases without a restart.
type Live struct{ p atomic.Pointer[Matcher] }

// NewLive starts with m.
func NewLive(m *Matcher) *Live {
	l := &Live{}
	l.p.Store(m)
	return l
}

// Match uses the current matcher.
func (l *Live) Match(text string) Match { return l.p.Load().Match(text) }

// Swap replaces the matcher; matches already running finish on the old one.
func (l *Live) Swap(m *Matcher) { l.p.Store(m) }

// Current returns the matcher in use.
func (l *Live) Current() *Matcher { return l.p.Load() }
