// Package knowledge owns the 110 service-desk handbook as data: scenarios and
// their replies, the referral directory, the laws cited, the escalation
// signals and rules, seed phrases, labelled examples and the desk's own
// service texts. Everything lives in embedded YAML files so that a city can
// read, correct and extend the handbook without touching Go; this package only
// loads and validates them.
package knowledge

import "fmt"

// Action is what the desk does about a message. Actions are ordered:
// SelfHelp < Handoff < Dispatch < Urgent.
type Action string

// The four actions of the catalogue, from least to most serious.
const (
	SelfHelp Action = "self_help" // the desk answers and refers; nobody is sent
	Handoff  Action = "handoff"   // a person takes over; no officers are sent
	Dispatch Action = "dispatch"  // officers are sent
	Urgent   Action = "urgent"    // officers now and the duty leader is told, or a life is at risk
)

// Actions lists every action in ascending order.
var actionOrder = map[Action]int{SelfHelp: 0, Handoff: 1, Dispatch: 2, Urgent: 3}

// Valid reports whether a is one of the four actions.
func (a Action) Valid() bool { _, ok := actionOrder[a]; return ok }

// Rank orders actions: a higher rank is more serious. Unknown actions rank -1.
func (a Action) Rank() int {
	if r, ok := actionOrder[a]; ok {
		return r
	}
	return -1
}

// Max returns the more serious of a and b.
func Max(a, b Action) Action {
	if b.Rank() > a.Rank() {
		return b
	}
	return a
}

// ParseAction turns a catalogue string into an Action.
func ParseAction(s string) (Action, error) {
	a := Action(s)
	if !a.Valid() {
		return "", fmt.Errorf("unknown action %q (want self_help, handoff, dispatch or urgent)", s)
	}
	return a, nil
}

// Scenario is one situation of the handbook, keyed by its catalogue id.
type Scenario struct {
	ID            string   `yaml:"id"`
	Section       string   `yaml:"section"`
	Title         string   `yaml:"title"`
	DefaultAction Action   `yaml:"default_action"`
	Reply         string   `yaml:"reply"`    // what the desk says for the default action
	Handover      string   `yaml:"handover"` // what the desk says when a rule raises the action (required then)
	Referrals     []string `yaml:"referrals"`
	Laws          []string `yaml:"laws"`
	Notify        []string `yaml:"notify"` // who must be told even at the default action (e.g. duty_leader)
	// PastEvents marks scenarios about what already happened (complaints,
	// press questions, tip-offs): violence or a weapon they mention is the
	// story, not a danger now, so global rules below urgent do not apply.
	// The scenario's own rules (e.g. "happening now") still do.
	PastEvents bool `yaml:"past_events"`
	// MinConfidence: below this confidence a default that sends officers
	// goes to a person instead (e.g. a case against an officer must not be
	// raised on a weak reading). Zero means the matcher's general rule.
	MinConfidence float64   `yaml:"min_confidence"`
	Rules         []Rule    `yaml:"rules"`
	Phrases       []string  `yaml:"phrases"`
	Examples      []Example `yaml:"examples"`
}

// Rule raises a scenario's action when the escalation signals it names are
// found in the citizen's words. A rule fires when any signal of Any is found
// and every signal of All is found (an empty list is no condition; a rule
// needs at least one of the two).
type Rule struct {
	Name   string   `yaml:"name"` // short id, unique within the scenario, shown to agents
	When   string   `yaml:"when"` // the handbook's condition, in its words
	Any    []string `yaml:"any"`
	All    []string `yaml:"all"`
	Action Action   `yaml:"action"`
	Notify []string `yaml:"notify"` // who must be told: duty_leader, officer_unit...
	Reply  string   `yaml:"reply"`  // optional: replaces the scenario's reply/handover when this rule fires
}

// Example is a labelled citizen message written for the project, used by
// tests and by the admins' regression check.
type Example struct {
	Text   string `yaml:"text"`
	Action Action `yaml:"action"`
}

// Referral is one entry of the directory: a place or number the desk refers
// citizens to. A city overrides Name, Phone or Note by key.
type Referral struct {
	Key   string `yaml:"key"`
	Name  string `yaml:"name"`
	Phone string `yaml:"phone"` // may be empty where the body has no single number
	Note  string `yaml:"note"`
}

// Law is a law the handbook cites, given when the citizen asks why. Title and
// Article name the law in force; Origin keeps the handbook's own citation.
// Confirmed is false where the article in force could not be verified.
type Law struct {
	Key       string `yaml:"key"`
	Title     string `yaml:"title"`
	Article   string `yaml:"article"`
	Summary   string `yaml:"summary"`
	Origin    string `yaml:"origin"`
	Confirmed bool   `yaml:"confirmed"`
	Note      string `yaml:"note"`
}

// Signal is a named escalation signal, with the cue words that raise it.
// Detection lives in package intents; the words live here.
type Signal struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Cues        []string `yaml:"cues"`
}

// GlobalRule raises the action whatever the scenario: a life at risk is
// urgent for a noise complaint too.
type GlobalRule struct {
	Name   string   `yaml:"name"`
	When   string   `yaml:"when"`
	Any    []string `yaml:"any"`
	All    []string `yaml:"all"`
	Action Action   `yaml:"action"`
	Notify []string `yaml:"notify"`
}
