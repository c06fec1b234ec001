package intents

import (
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/deskbot/deskbot/knowledge"
)

func newMatcher(t testing.TB) (*knowledge.Handbook, *Matcher) {
	t.Helper()
	h, err := knowledge.Load(knowledge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(h, SeedPhrases(h), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return h, m
}

func TestNormalize(t *testing.T) {
	tt := newT2S()
	cases := map[string]string{
		"樓上裝修吵死了":          "楼上装修吵死了",
		"ＡＢＣ１２３":           "abc123",
		"救命!!!!有人落水??":     "救命,有人落水",
		"电梯😱😱卡住了":          "电梯,卡住了",
		"\u202e有人\u200d打架": "有人打架",
		"  \t\n":           "",
	}
	for in, want := range cases {
		if got := tt.normalizeString(in); got != want {
			t.Errorf("normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSignalsRespectNegationAndContrast(t *testing.T) {
	_, m := newMatcher(t)
	cases := []struct {
		text   string
		signal string
		want   bool
	}{
		{"他们在楼道里打起来了", "violence", true},
		{"我们没动手,就是吵了几句", "violence", false},
		{"不是打架,只是吵了几句", "violence", false},
		{"没想到他们真的打起来了", "violence", true},
		{"我没想自杀……但是安眠药攒了一瓶", "life_at_risk", true},
		{"我妈叫不醒了", "life_at_risk", true},
		{"他拿着菜刀站在门口", "weapon", true},
		{"放贷的说拿钱来换人", "hostage", true},
	}
	for _, c := range cases {
		got := m.Match(c.text).HasSignal(c.signal)
		if got != c.want {
			t.Errorf("%q: signal %s found=%v, want %v (signals %+v)", c.text, c.signal, got, c.want, m.Match(c.text).Signals)
		}
	}
}

// Offsets are runes into what the citizen wrote, even when the matcher
// normalised it first.
func TestSignalOffsetsPointIntoTheOriginal(t *testing.T) {
	_, m := newMatcher(t)
	text := "😡😡ＨＥＬＰ!!他們在樓下打起來了"
	res := m.Match(text)
	runes := []rune(text)
	if len(res.Signals) == 0 {
		t.Fatalf("no signal in %q", text)
	}
	for _, s := range res.Signals {
		if s.Start < 0 || s.End > len(runes) || s.Start >= s.End {
			t.Fatalf("bad span %+v", s)
		}
		if got := string(runes[s.Start:s.End]); got != s.Text {
			t.Errorf("span [%d,%d) is %q, hit says %q", s.Start, s.End, got, s.Text)
		}
	}
	for _, p := range res.Matched {
		if got := string(runes[p.Start:p.End]); got != p.Text {
			t.Errorf("phrase span [%d,%d) is %q, says %q", p.Start, p.End, got, p.Text)
		}
	}
}

func TestActionFollowsTheHandbook(t *testing.T) {
	_, m := newMatcher(t)
	cases := []struct {
		text   string
		intent string
		action knowledge.Action
	}{
		{"楼上邻居天天半夜把音响开得震天响", "noise.neighbor", knowledge.SelfHelp},
		{"欠我三万块钱一直不还,怎么办", "dispute.debt", knowledge.SelfHelp},
		{"要债的上门把我爸打了", "dispute.debt", knowledge.Dispatch},
		{"有人掉河里了", "help.drowning", knowledge.Urgent},
		{"被困在电梯里了", "help.elevator", knowledge.Dispatch},
		{"转人工", "desk.human", knowledge.Handoff},
	}
	for _, c := range cases {
		got := m.Match(c.text)
		if got.Intent != c.intent || got.Action != c.action {
			t.Errorf("%q: got %s/%s (rule %s), want %s/%s", c.text, got.Intent, got.Action, got.Rule, c.intent, c.action)
		}
	}
}

// A life at risk is urgent whatever the intent.
func TestLifeAtRiskIsUrgentWhateverTheIntent(t *testing.T) {
	_, m := newMatcher(t)
	res := m.Match("隔壁装修太吵了,吵得我不想活了,我要跳楼")
	if res.Action != knowledge.Urgent {
		t.Fatalf("got %s by %s, signals %+v", res.Action, res.Rule, res.Signals)
	}
	if !contains(res.Notify, knowledge.DutyLeader) {
		t.Errorf("urgent without the duty leader: %v", res.Notify)
	}
}

func TestNonsenseIsUnknown(t *testing.T) {
	_, m := newMatcher(t)
	for _, text := range []string{"", "。", "...?", "zzz", "\x00\xff\xfe", "🙂🙂🙂"} {
		if got := m.Match(text); got.Intent != Unknown || got.Action != knowledge.SelfHelp {
			t.Errorf("%q: got %s/%s conf %.2f", text, got.Intent, got.Action, got.Confidence)
		}
	}
}

func TestLongInputIsCut(t *testing.T) {
	_, m := newMatcher(t)
	text := "有人掉河里了" + strings.Repeat("啊", 5000)
	res := m.Match(text)
	if !res.Truncated {
		t.Error("5006 characters not reported as cut")
	}
	if res.Action != knowledge.Urgent {
		t.Errorf("the start of a long message still counts: got %s", res.Action)
	}
	if r := m.Match("有人掉河里了"); r.Truncated {
		t.Error("a short message reported as cut")
	}
}

func TestUnknownIntentInPhrasesIsAnError(t *testing.T) {
	h, _ := newMatcher(t)
	if _, err := New(h, []Phrase{{Intent: "no.such", Text: "x"}}, Options{}); err == nil {
		t.Fatal("accepted a phrase for an unknown intent")
	}
}

// Admins' phrases change what the matcher understands, and a new matcher
// can be swapped in while others are matching.
func TestLiveSwapWhileMatching(t *testing.T) {
	h, m := newMatcher(t)
	const slang = "瓦特了咕噜噜"
	if got := m.Match(slang).Intent; got == "help.elevator" {
		t.Fatalf("already matched before tuning")
	}
	live := NewLive(m)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					live.Match("电梯卡住了,我被困在里面")
				}
			}
		}()
	}
	tuned, err := New(h, append(SeedPhrases(h), Phrase{Intent: "help.elevator", Text: slang}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	live.Swap(tuned)
	close(stop)
	wg.Wait()
	if got := live.Match(slang).Intent; got != "help.elevator" {
		t.Errorf("after the swap %q matched %s", slang, got)
	}
}

func FuzzMatchNeverPanics(f *testing.F) {
	_, m := newMatcher(f)
	for _, s := range []string{"", "有人打架", "\xff\xfe\xfd", "\u202e\u200f救命", "😀😀😀", strings.Repeat("刀", 3000), "a\x00b\x01c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		res := m.Match(s)
		if !res.Action.Valid() {
			t.Fatalf("invalid action %q", res.Action)
		}
		n := utf8.RuneCountInString(s)
		for _, sg := range res.Signals {
			if sg.Start < 0 || sg.End > n || sg.Start > sg.End {
				t.Fatalf("signal span %+v out of %d runes", sg, n)
			}
		}
	})
}
