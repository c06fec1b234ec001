package knowledge

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

//go:embed data
var embedded embed.FS

// Limits the loader enforces so that every reply fits a phone screen and
// every phrase stays short enough for the fuzzy matcher's integer score.
const (
	MaxPhraseRunes = 30
	MaxReplyRunes  = 220
	MinPhrases     = 20
	MinExamples    = 3
)

// DutyLeader is the notify target for the duty leader (值班领导).
const DutyLeader = "duty_leader"

// Handbook is the whole knowledge base, loaded and validated.
type Handbook struct {
	Scenarios    []*Scenario // in catalogue order
	Catalogue    []CatalogueRow
	Directory    map[string]Referral
	Laws         map[string]Law
	Signals      []Signal
	Negations    []string // words that deny a following cue: 没, 不是...
	NotNegations []string // words that hold a negation character but deny nothing: 没想到, 叫不醒
	CalmPhrases  []string // words that hold a cue but say nothing dangerous: 气得我想打人, 砍价, 打折
	Minimizers   []string // words that play a cue down: 只是, 就...
	Contrasts    []string // words after which a denial no longer holds: 但是, 可是...
	GlobalRules  []GlobalRule
	Notify       map[string]string // notify target -> who that is, in the desk's words
	Service      map[string]string // the desk's own service texts, by key
	Taboo        []Taboo
	Canned       []string            // polite canned replies for agents
	Keywords     map[string][]string // the desk's own cue words: withdraw, why, place suffixes...

	byID     map[string]*Scenario
	signals  map[string]bool
	fileOfID map[string]string
}

// CatalogueRow is one line of the scenario catalogue (scenarios.tsv).
type CatalogueRow struct {
	ID, Section, Title string
	DefaultAction      Action
	RaisesTo           Action
	When               string
}

// Taboo is a phrasing the desk never uses, of one of the four kinds of part
// four of the seed: 蔑视语, 否定语, 顶撞语, 烦躁语.
type Taboo struct {
	Kind string `yaml:"kind"`
	Text string `yaml:"text"`
}

// Scenario returns the scenario with the given id.
func (h *Handbook) Scenario(id string) (*Scenario, bool) {
	s, ok := h.byID[id]
	return s, ok
}

// Referral returns the directory entry for key.
func (h *Handbook) Referral(key string) (Referral, bool) {
	r, ok := h.Directory[key]
	return r, ok
}

// Text returns the service text for key, or "" when there is none.
func (h *Handbook) Text(key string) string { return h.Service[key] }

// Options adjusts loading.
type Options struct {
	// DirectoryOverride is the content of a city's override file (YAML, see
	// knowledge/data/README.md); nil means none. The caller reads the file:
	// this package does no I/O beyond its embedded files.
	DirectoryOverride []byte
	// OverrideName names the override in error messages.
	OverrideName string
}

// Load loads and validates the embedded handbook.
func Load(opts Options) (*Handbook, error) {
	sub, err := fs.Sub(embedded, "data")
	if err != nil {
		return nil, fmt.Errorf("knowledge: %w", err)
	}
	return LoadFS(sub, opts)
}

// Files returns the embedded data files, so tests and tools can copy and
// alter them.
func Files() fs.FS {
	sub, _ := fs.Sub(embedded, "data")
	return sub
}

// Required service texts: the engine and the channels rely on each.
var requiredTexts = []string{
	"greeting", "closing", "not_understood", "offer_human", "handover",
	"unclaimed", "status_resolved", "status_in_progress", "status_withdrawn", "status_not_found",
	"status_ask_id", "ask_location", "ask_location_again", "ask_details", "location_unknown",
	"ticket_created", "urgent_call_now", "urgent_ask_location", "withdrawn", "resolved_rate", "rating_thanks",
	"nuisance_warning", "throttled", "ten_minutes", "why_intro", "no_law", "relay_note",
	"contacts_intro", "agent_claimed", "rating_invalid", "ask_injured", "pending_cancelled", "escalated", "location_noted",
}

// Required keyword lists of service.yaml.
var requiredKeywords = []string{"withdraw", "why", "place_suffixes", "injury_said", "human"}

type signalsFile struct {
	Negations    []string          `yaml:"negations"`
	NotNegations []string          `yaml:"not_negations"`
	CalmPhrases  []string          `yaml:"calm_phrases"`
	Minimizers   []string          `yaml:"minimizers"`
	Contrasts    []string          `yaml:"contrasts"`
	Notify       map[string]string `yaml:"notify"`
	Signals      []Signal          `yaml:"signals"`
	GlobalRules  []GlobalRule      `yaml:"global_rules"`
}

type serviceFile struct {
	Texts    map[string]string   `yaml:"texts"`
	Keywords map[string][]string `yaml:"keywords"`
	Taboo    []Taboo             `yaml:"taboo"`
	Canned   []string            `yaml:"canned"`
}

type directoryFile struct {
	Directory []Referral `yaml:"directory"`
}

type lawsFile struct {
	Laws []Law `yaml:"laws"`
}

// errs collects validation errors, each naming its file and entry.
type errs []error

func (e *errs) add(file, entry, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if entry != "" {
		*e = append(*e, fmt.Errorf("%s: %s: %s", file, entry, msg))
		return
	}
	*e = append(*e, fmt.Errorf("%s: %s", file, msg))
}

// decode reads one YAML file strictly: an unknown field is an error, so a
// misspelt key does not silently drop data.
func decode(fsys fs.FS, name string, v any) error {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return err
	}
	return decodeBytes(b, v)
}

func decodeBytes(b []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return err
	}
	return nil
}

// LoadFS loads and validates a handbook from fsys, laid out like the
// embedded data folder.
func LoadFS(fsys fs.FS, opts Options) (*Handbook, error) {
	h := &Handbook{
		Directory: map[string]Referral{},
		Laws:      map[string]Law{},
		byID:      map[string]*Scenario{},
		signals:   map[string]bool{},
		fileOfID:  map[string]string{},
	}
	var e errs

	// The catalogue: the contract every part of the code uses.
	cat, err := fs.ReadFile(fsys, "catalogue.tsv")
	if err != nil {
		return nil, fmt.Errorf("knowledge: catalogue.tsv: %w", err)
	}
	h.Catalogue, err = ParseCatalogue(cat)
	if err != nil {
		return nil, fmt.Errorf("knowledge: catalogue.tsv: %w", err)
	}

	var df directoryFile
	if err := decode(fsys, "directory.yaml", &df); err != nil {
		e.add("directory.yaml", "", "%v", err)
	}
	for _, r := range df.Directory {
		switch {
		case r.Key == "":
			e.add("directory.yaml", r.Name, "entry without key")
		case h.Directory[r.Key].Key != "":
			e.add("directory.yaml", r.Key, "duplicate key")
		case strings.TrimSpace(r.Name) == "":
			e.add("directory.yaml", r.Key, "empty name")
		}
		h.Directory[r.Key] = r
	}
	if opts.DirectoryOverride != nil {
		name := opts.OverrideName
		if name == "" {
			name = "directory override"
		}
		var of directoryFile
		if err := decodeBytes(opts.DirectoryOverride, &of); err != nil {
			e.add(name, "", "%v", err)
		}
		for _, r := range of.Directory {
			base, ok := h.Directory[r.Key]
			if !ok {
				e.add(name, r.Key, "unknown directory key (known keys are in knowledge/data/directory.yaml)")
				continue
			}
			if r.Name != "" {
				base.Name = r.Name
			}
			if r.Phone != "" {
				base.Phone = r.Phone
			}
			if r.Note != "" {
				base.Note = r.Note
			}
			h.Directory[r.Key] = base
		}
	}

	var lf lawsFile
	if err := decode(fsys, "laws.yaml", &lf); err != nil {
		e.add("laws.yaml", "", "%v", err)
	}
	for _, l := range lf.Laws {
		switch {
		case l.Key == "":
			e.add("laws.yaml", l.Title, "entry without key")
		case h.Laws[l.Key].Key != "":
			e.add("laws.yaml", l.Key, "duplicate key")
		case l.Title == "" || l.Summary == "":
			e.add("laws.yaml", l.Key, "title and summary are required")
		}
		h.Laws[l.Key] = l
	}

	var sf signalsFile
	if err := decode(fsys, "signals.yaml", &sf); err != nil {
		e.add("signals.yaml", "", "%v", err)
	}
	h.Negations, h.NotNegations, h.Minimizers, h.Contrasts, h.Notify = sf.Negations, sf.NotNegations, sf.Minimizers, sf.Contrasts, sf.Notify
	h.CalmPhrases = sf.CalmPhrases
	h.Signals, h.GlobalRules = sf.Signals, sf.GlobalRules
	if _, ok := h.Notify[DutyLeader]; !ok {
		e.add("signals.yaml", "notify", "the duty leader (%s) must be a notify target", DutyLeader)
	}
	for _, s := range sf.Signals {
		if h.signals[s.Name] {
			e.add("signals.yaml", s.Name, "duplicate signal")
		}
		h.signals[s.Name] = true
		if len(s.Cues) == 0 {
			e.add("signals.yaml", s.Name, "signal without cues")
		}
	}
	for _, g := range sf.GlobalRules {
		if len(g.Any)+len(g.All) == 0 {
			e.add("signals.yaml", "global rule "+g.Name, "rule names no signal")
		}
		for _, name := range append(append([]string{}, g.Any...), g.All...) {
			if !h.signals[name] {
				e.add("signals.yaml", "global rule "+g.Name, "unknown signal %q", name)
			}
		}
		if !g.Action.Valid() {
			e.add("signals.yaml", "global rule "+g.Name, "unknown action %q", g.Action)
		}
		h.checkNotify(&e, "signals.yaml", "global rule "+g.Name, g.Notify)
	}

	var svc serviceFile
	if err := decode(fsys, "service.yaml", &svc); err != nil {
		e.add("service.yaml", "", "%v", err)
	}
	h.Service, h.Taboo, h.Canned, h.Keywords = svc.Texts, svc.Taboo, svc.Canned, svc.Keywords
	for _, k := range requiredKeywords {
		if len(h.Keywords[k]) == 0 {
			e.add("service.yaml", "keywords."+k, "missing or empty keyword list")
		}
	}
	for _, k := range requiredTexts {
		if strings.TrimSpace(h.Service[k]) == "" {
			e.add("service.yaml", k, "missing or empty service text")
		}
	}
	if len(h.Taboo) == 0 {
		e.add("service.yaml", "taboo", "the taboo list is empty")
	}

	h.loadScenarios(fsys, &e)
	if len(e) > 0 {
		return nil, errors.Join(e...)
	}
	return h, nil
}

func (h *Handbook) checkNotify(e *errs, file, entry string, targets []string) {
	for _, t := range targets {
		if _, ok := h.Notify[t]; !ok {
			e.add(file, entry, "unknown notify target %q", t)
		}
	}
}

func (h *Handbook) loadScenarios(fsys fs.FS, e *errs) {
	files, err := fs.Glob(fsys, "scenarios/*.yaml")
	if err != nil || len(files) == 0 {
		e.add("scenarios/", "", "no scenario files")
		return
	}
	sort.Strings(files)
	phraseOwner := map[string]string{} // phrase -> scenario id
	for _, file := range files {
		var list []*Scenario
		if err := decode(fsys, file, &list); err != nil {
			e.add(file, "", "%v", err)
			continue
		}
		for _, s := range list {
			if s.ID == "" {
				e.add(file, s.Title, "scenario without id")
				continue
			}
			if prev, dup := h.fileOfID[s.ID]; dup {
				e.add(file, s.ID, "duplicate id (also in %s)", prev)
				continue
			}
			h.fileOfID[s.ID] = file
			h.byID[s.ID] = s
			h.validateScenario(e, file, s, phraseOwner)
		}
	}
	// Every catalogue id must be present, in catalogue order; no extra ids.
	seen := map[string]bool{}
	for _, row := range h.Catalogue {
		if seen[row.ID] {
			continue
		}
		seen[row.ID] = true
		s, ok := h.byID[row.ID]
		if !ok {
			e.add("scenarios/", row.ID, "catalogue id missing")
			continue
		}
		h.Scenarios = append(h.Scenarios, s)
	}
	for id, file := range h.fileOfID {
		if !seen[id] {
			e.add(file, id, "id not in the catalogue")
		}
	}
	// Each (id, action) pair of the catalogue: the scenario can reach the
	// action and has examples of it.
	for _, row := range h.Catalogue {
		s, ok := h.byID[row.ID]
		if !ok {
			continue
		}
		file := h.fileOfID[row.ID]
		if s.DefaultAction != row.DefaultAction {
			e.add(file, s.ID, "default_action %q, catalogue says %q", s.DefaultAction, row.DefaultAction)
		}
		if row.RaisesTo != row.DefaultAction && !s.reaches(row.RaisesTo) {
			e.add(file, s.ID, "no rule raises the action to %q as the catalogue says (%s)", row.RaisesTo, row.When)
		}
		for _, a := range []Action{row.DefaultAction, row.RaisesTo} {
			n := 0
			for _, ex := range s.Examples {
				if ex.Action == a {
					n++
				}
			}
			if n < MinExamples {
				e.add(file, s.ID, "%d examples for action %q, need at least %d", n, a, MinExamples)
			}
		}
	}
}

func (s *Scenario) reaches(a Action) bool {
	for _, r := range s.Rules {
		if r.Action == a {
			return true
		}
	}
	return false
}

func (h *Handbook) validateScenario(e *errs, file string, s *Scenario, phraseOwner map[string]string) {
	id := s.ID
	if !s.DefaultAction.Valid() {
		e.add(file, id, "unknown default_action %q", s.DefaultAction)
	}
	if strings.TrimSpace(s.Reply) == "" {
		e.add(file, id, "empty reply")
	} else if n := utf8.RuneCountInString(s.Reply); n > MaxReplyRunes {
		e.add(file, id, "reply is %d characters, at most %d fit a phone screen", n, MaxReplyRunes)
	}
	raised := false
	for _, r := range s.Rules {
		if r.Action.Rank() > s.DefaultAction.Rank() {
			raised = true
		}
	}
	if raised && strings.TrimSpace(s.Handover) == "" {
		e.add(file, id, "a rule raises the action but handover is empty")
	}
	if n := utf8.RuneCountInString(s.Handover); n > MaxReplyRunes {
		e.add(file, id, "handover is %d characters, at most %d", n, MaxReplyRunes)
	}
	for _, k := range s.Referrals {
		if _, ok := h.Directory[k]; !ok {
			e.add(file, id, "referral %q: unknown directory key", k)
		}
	}
	for _, k := range s.Laws {
		if _, ok := h.Laws[k]; !ok {
			e.add(file, id, "law %q: unknown law key", k)
		}
	}
	h.checkNotify(e, file, id, s.Notify)
	names := map[string]bool{}
	for i, r := range s.Rules {
		entry := fmt.Sprintf("%s rule %d", id, i+1)
		if r.Name != "" {
			entry = id + " rule " + r.Name
		}
		if r.Name == "" {
			e.add(file, entry, "rule without name")
		} else if names[r.Name] {
			e.add(file, entry, "duplicate rule name")
		}
		names[r.Name] = true
		if len(r.Any)+len(r.All) == 0 {
			e.add(file, entry, "rule names no signal")
		}
		for _, sig := range append(append([]string{}, r.Any...), r.All...) {
			if !h.signals[sig] {
				e.add(file, entry, "unknown signal %q", sig)
			}
		}
		if !r.Action.Valid() {
			e.add(file, entry, "unknown action %q", r.Action)
		}
		if r.Action == Urgent && !contains(r.Notify, DutyLeader) {
			e.add(file, entry, "an urgent rule must notify %s", DutyLeader)
		}
		h.checkNotify(e, file, entry, r.Notify)
	}
	if len(s.Phrases) < MinPhrases {
		e.add(file, id, "%d phrases, need at least %d", len(s.Phrases), MinPhrases)
	}
	for _, p := range s.Phrases {
		if strings.TrimSpace(p) == "" {
			e.add(file, id, "empty phrase")
			continue
		}
		if n := utf8.RuneCountInString(p); n > MaxPhraseRunes {
			e.add(file, id, "phrase %q is %d characters, the cap is %d", p, n, MaxPhraseRunes)
		}
		key := PhraseKey(p)
		if owner, ok := phraseOwner[key]; ok {
			if owner == id {
				e.add(file, id, "phrase %q listed twice", p)
			} else {
				e.add(file, id, "phrase %q is also used by %s", p, owner)
			}
			continue
		}
		phraseOwner[key] = id
	}
	for _, ex := range s.Examples {
		if strings.TrimSpace(ex.Text) == "" || !ex.Action.Valid() {
			e.add(file, id, "example %q: needs text and a valid action", ex.Text)
		}
	}
}

// PhraseKey is how phrases are compared for duplicates: case and
// surrounding space do not make a phrase different.
func PhraseKey(p string) string { return strings.ToLower(strings.TrimSpace(p)) }

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// ParseCatalogue parses the scenario catalogue (scenarios.tsv): a header and
// one row per (id, raised action).
func ParseCatalogue(b []byte) ([]CatalogueRow, error) {
	var rows []CatalogueRow
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	for i, line := range lines {
		if i == 0 || strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			return nil, fmt.Errorf("line %d: %d fields, want 6", i+1, len(f))
		}
		def, err := ParseAction(f[3])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		raise, err := ParseAction(f[4])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		rows = append(rows, CatalogueRow{ID: f[0], Section: f[1], Title: f[2], DefaultAction: def, RaisesTo: raise, When: f[5]})
	}
	if len(rows) == 0 {
		return nil, errors.New("no rows")
	}
	return rows, nil
}

// IDs returns the distinct scenario ids of the catalogue, in order.
func (h *Handbook) IDs() []string {
	ids := make([]string, 0, len(h.Scenarios))
	for _, s := range h.Scenarios {
		ids = append(ids, s.ID)
	}
	return ids
}

// FileOf names the data file that holds a scenario, for error messages and
// admin tools.
func (h *Handbook) FileOf(id string) string { return path.Clean(h.fileOfID[id]) }
