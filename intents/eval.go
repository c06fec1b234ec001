package intents

import (
	"fmt"
	"io"

	"github.com/deskbot/deskbot/knowledge"
)

// Labelled is a citizen message with the intent and action it should get.
type Labelled struct {
	Text   string           `json:"text"`
	Intent string           `json:"intent"`
	Action knowledge.Action `json:"action"`
}

// Miss is a labelled message the matcher got wrong.
type Miss struct {
	Labelled
	Got Match
}

// Report measures a matcher against labelled messages.
type Report struct {
	N                int     `json:"n"`
	IntentAccuracy   float64 `json:"intent_accuracy"`
	ActionAccuracy   float64 `json:"action_accuracy"`
	EscalationRecall float64 `json:"escalation_recall"` // gold dispatch/urgent given dispatch/urgent
	UrgentRecall     float64 `json:"urgent_recall"`     // gold urgent given urgent
	OverEscalation   float64 `json:"over_escalation"`   // gold self_help/handoff given dispatch/urgent
	Misses           []Miss  `json:"-"`
}

func escalated(a knowledge.Action) bool { return a.Rank() >= knowledge.Dispatch.Rank() }

// Evaluate matches every labelled message and measures the results.
func Evaluate(m interface{ Match(string) Match }, cases []Labelled) Report {
	var r Report
	var intentOK, actionOK, esc, escOK, urg, urgOK, calm, over int
	for _, c := range cases {
		got := m.Match(c.Text)
		r.N++
		if got.Intent == c.Intent {
			intentOK++
		}
		if got.Action == c.Action {
			actionOK++
		}
		if escalated(c.Action) {
			esc++
			if escalated(got.Action) {
				escOK++
			}
		} else {
			calm++
			if escalated(got.Action) {
				over++
			}
		}
		if c.Action == knowledge.Urgent {
			urg++
			if got.Action == knowledge.Urgent {
				urgOK++
			}
		}
		if got.Intent != c.Intent || got.Action != c.Action {
			r.Misses = append(r.Misses, Miss{Labelled: c, Got: got})
		}
	}
	ratio := func(a, b int, empty float64) float64 {
		if b == 0 {
			return empty
		}
		return float64(a) / float64(b)
	}
	r.IntentAccuracy = ratio(intentOK, r.N, 0)
	r.ActionAccuracy = ratio(actionOK, r.N, 0)
	r.EscalationRecall = ratio(escOK, esc, 1)
	r.UrgentRecall = ratio(urgOK, urg, 1)
	r.OverEscalation = ratio(over, calm, 0)
	return r
}

// Print writes the figures and every miss.
func (r Report) Print(w io.Writer, name string) {
	fmt.Fprintf(w, "%s: n=%d intent_accuracy=%.3f action_accuracy=%.3f escalation_recall=%.3f urgent_recall=%.3f over_escalation=%.3f\n",
		name, r.N, r.IntentAccuracy, r.ActionAccuracy, r.EscalationRecall, r.UrgentRecall, r.OverEscalation)
	for _, m := range r.Misses {
		sig := ""
		for _, s := range m.Got.Signals {
			sig += " " + s.Signal + "(" + s.Text + ")"
		}
		fmt.Fprintf(w, "  miss: %s\n        want %s/%s got %s/%s conf=%.2f rule=%s%s\n", m.Text, m.Intent, m.Action, m.Got.Intent, m.Got.Action, m.Got.Confidence, m.Got.Rule, sig)
	}
}

// ExamplesOf returns the handbook's own labelled examples.
func ExamplesOf(h *knowledge.Handbook) []Labelled {
	var out []Labelled
	for _, s := range h.Scenarios {
		for _, e := range s.Examples {
			out = append(out, Labelled{Text: e.Text, Intent: s.ID, Action: e.Action})
		}
	}
	return out
}
