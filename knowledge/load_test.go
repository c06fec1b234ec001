package knowledge

import (
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/deskbot/deskbot/knowledge/shared"
	"go.yaml.in/yaml/v3"
)

func loadEmbedded(t testing.TB) *Handbook {
	t.Helper()
	h, err := Load(Options{})
	if err != nil {
		t.Fatalf("the embedded handbook does not load:\n%v", err)
	}
	return h
}

func TestEmbeddedHandbookLoads(t *testing.T) {
	h := loadEmbedded(t)
	if len(h.Scenarios) != 46 {
		t.Errorf("got %d scenarios, want 46", len(h.Scenarios))
	}
}

// The embedded catalogue must be the project's catalogue: every part of the
// code uses these ids.
func TestCatalogueMatchesSharedSpec(t *testing.T) {
	p := shared.Need(t, "spec/scenarios.tsv")
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := fs.ReadFile(Files(), "catalogue.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("knowledge/data/catalogue.tsv differs from %s: copy it again", p)
	}
	rows, err := ParseCatalogue(want)
	if err != nil {
		t.Fatal(err)
	}
	h := loadEmbedded(t)
	for _, row := range rows {
		s, ok := h.Scenario(row.ID)
		if !ok {
			t.Errorf("%s: missing", row.ID)
			continue
		}
		if s.DefaultAction != row.DefaultAction {
			t.Errorf("%s: default action %s, catalogue %s", row.ID, s.DefaultAction, row.DefaultAction)
		}
	}
}

func TestEveryScenarioIsComplete(t *testing.T) {
	h := loadEmbedded(t)
	for _, s := range h.Scenarios {
		if s.Title == "" || s.Section == "" {
			t.Errorf("%s: title or section missing", s.ID)
		}
		if strings.TrimSpace(s.Reply) == "" {
			t.Errorf("%s: no reply", s.ID)
		}
		if len(s.Phrases) < MinPhrases {
			t.Errorf("%s: %d phrases", s.ID, len(s.Phrases))
		}
		// Scenarios that are not the desk's own small talk refer the citizen
		// somewhere or cite a law: a reply alone is not the handbook's handling.
		if !strings.HasPrefix(s.ID, "desk.") && len(s.Referrals)+len(s.Laws) == 0 && s.DefaultAction == SelfHelp {
			t.Errorf("%s: a self-help scenario with neither referrals nor laws", s.ID)
		}
		for _, k := range s.Referrals {
			r, ok := h.Referral(k)
			if !ok || r.Name == "" {
				t.Errorf("%s: referral %q does not resolve", s.ID, k)
			}
		}
		for _, k := range s.Laws {
			if l, ok := h.Laws[k]; !ok || l.Origin == "" {
				t.Errorf("%s: law %q does not resolve to a law with its handbook origin", s.ID, k)
			}
		}
	}
}

func TestCatalogueActionsAreReachable(t *testing.T) {
	h := loadEmbedded(t)
	for _, row := range h.Catalogue {
		s, _ := h.Scenario(row.ID)
		if row.RaisesTo == row.DefaultAction {
			continue
		}
		if !s.reaches(row.RaisesTo) {
			t.Errorf("%s: no rule reaches %s (%s)", row.ID, row.RaisesTo, row.When)
		}
	}
}

// Urgent always tells the duty leader, as the handbook's 报值班领导 does.
func TestUrgentRulesTellTheDutyLeader(t *testing.T) {
	h := loadEmbedded(t)
	for _, s := range h.Scenarios {
		for _, r := range s.Rules {
			if r.Action == Urgent && !contains(r.Notify, DutyLeader) {
				t.Errorf("%s rule %s: urgent without the duty leader", s.ID, r.Name)
			}
		}
	}
	press, _ := h.Scenario("press.inquiry")
	if !contains(press.Notify, DutyLeader) {
		t.Error("press.inquiry: the handbook says press inquiries are reported to the duty leader")
	}
}

func TestRepliesUseNoTabooPhrasing(t *testing.T) {
	h := loadEmbedded(t)
	check := func(where, text string) {
		for _, tb := range h.Taboo {
			if strings.Contains(text, tb.Text) {
				t.Errorf("%s uses the %s %q: %s", where, tb.Kind, tb.Text, text)
			}
		}
	}
	for _, s := range h.Scenarios {
		check(s.ID+" reply", s.Reply)
		check(s.ID+" handover", s.Handover)
		for _, r := range s.Rules {
			check(s.ID+" rule "+r.Name, r.Reply)
		}
	}
	for k, v := range h.Service {
		check("service text "+k, v)
	}
	for i, c := range h.Canned {
		check("canned reply "+string(rune('1'+i)), c)
	}
}

func TestDirectoryOverrideChangesANumber(t *testing.T) {
	h0 := loadEmbedded(t)
	if h0.Directory["labor_bureau"].Phone != "12333" {
		t.Fatalf("labor_bureau default phone %q", h0.Directory["labor_bureau"].Phone)
	}
	h, err := Load(Options{DirectoryOverride: []byte("directory:\n  - key: labor_bureau\n    phone: \"0571-12333\"\n  - key: police_station\n    name: 北山派出所\n")})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Directory["labor_bureau"]; got.Phone != "0571-12333" || got.Name != h0.Directory["labor_bureau"].Name {
		t.Errorf("labor_bureau after override: %+v", got)
	}
	if got := h.Directory["police_station"].Name; got != "北山派出所" {
		t.Errorf("police_station name after override: %q", got)
	}
	_, err = Load(Options{OverrideName: "city.yaml", DirectoryOverride: []byte("directory:\n  - key: no_such_office\n    phone: \"1\"\n")})
	if err == nil || !strings.Contains(err.Error(), "city.yaml: no_such_office: unknown directory key") {
		t.Errorf("override with an unknown key: %v", err)
	}
}

// copyData copies the embedded data into a map the test can break.
func copyData(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(Files(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Files(), p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// editScenario rewrites one scenario file through edit.
func editScenario(t *testing.T, m fstest.MapFS, id string, edit func(s *Scenario)) {
	t.Helper()
	name := "scenarios/" + id + ".yaml"
	var list []*Scenario
	if err := yaml.Unmarshal(m[name].Data, &list); err != nil {
		t.Fatal(err)
	}
	edit(list[0])
	b, err := yaml.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	m[name] = &fstest.MapFile{Data: b}
}

func TestLoaderRejectsBrokenFiles(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(t *testing.T, m fstest.MapFS)
		want   string
	}{
		{"unknown directory key", func(t *testing.T, m fstest.MapFS) {
			editScenario(t, m, "dispute.labor", func(s *Scenario) { s.Referrals = append(s.Referrals, "labour_office") })
		}, `scenarios/dispute.labor.yaml: dispute.labor: referral "labour_office": unknown directory key`},
		{"duplicate id", func(t *testing.T, m fstest.MapFS) {
			m["scenarios/zz.copy.yaml"] = &fstest.MapFile{Data: m["scenarios/help.elevator.yaml"].Data}
		}, "scenarios/zz.copy.yaml: help.elevator: duplicate id (also in scenarios/help.elevator.yaml)"},
		{"catalogue id missing", func(t *testing.T, m fstest.MapFS) {
			delete(m, "scenarios/incident.odor.yaml")
		}, "scenarios/: incident.odor: catalogue id missing"},
		{"empty reply", func(t *testing.T, m fstest.MapFS) {
			editScenario(t, m, "noise.car_alarm", func(s *Scenario) { s.Reply = "  " })
		}, "scenarios/noise.car_alarm.yaml: noise.car_alarm: empty reply"},
		{"rule naming an unknown signal", func(t *testing.T, m fstest.MapFS) {
			editScenario(t, m, "dispute.neighbor", func(s *Scenario) { s.Rules[0].Any = []string{"fisticuffs"} })
		}, `unknown signal "fisticuffs"`},
		{"phrase over the cap", func(t *testing.T, m fstest.MapFS) {
			editScenario(t, m, "help.lockout", func(s *Scenario) {
				s.Phrases = append(s.Phrases, strings.Repeat("钥匙", 16))
			})
		}, "is 32 characters, the cap is 30"},
		{"phrase used by two scenarios", func(t *testing.T, m fstest.MapFS) {
			h := loadEmbedded(t)
			taken, _ := h.Scenario("noise.neighbor")
			editScenario(t, m, "noise.construction", func(s *Scenario) { s.Phrases = append(s.Phrases, taken.Phrases[0]) })
		}, "is also used by noise."},
		{"unknown field", func(t *testing.T, m fstest.MapFS) {
			m["directory.yaml"].Data = append(m["directory.yaml"].Data, []byte("    phnoe: \"1\"\n")...)
		}, "directory.yaml: yaml: "},
		{"default action differs from the catalogue", func(t *testing.T, m fstest.MapFS) {
			editScenario(t, m, "help.drowning", func(s *Scenario) { s.DefaultAction = SelfHelp })
		}, `help.drowning: default_action "self_help", catalogue says "urgent"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := copyData(t)
			c.break_(t, m)
			_, err := LoadFS(m, Options{})
			if err == nil {
				t.Fatal("loaded a broken handbook")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error does not say %q:\n%v", c.want, err)
			}
		})
	}
}
