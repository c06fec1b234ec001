package webchat_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/deskbot/deskbot/adapters/webchat"
	"github.com/deskbot/deskbot/bots"
)

const greeting = "这里是110网上服务台"

var ticketInText = regexp.MustCompile(`事件编号([0-9A-Z]{6})`)

func TestChatPageIsServedWithASessionCookie(t *testing.T) {
	r := newRig(t)
	res, err := http.Get(r.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %s %s", res.Status, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{"110 网上服务台", "不受理紧急报警", `href="tel:110"`, "119", "120", "/static/chat.js"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("chat page lacks %q", want)
		}
	}
	var session *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "deskbot_chat" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || len(session.Value) < 26 {
		t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Lax, 128 random bits", session)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}
	for path, ctype := range map[string]string{"/static/chat.js": "javascript", "/static/desk.css": "text/css", "/agent": "text/html"} {
		res, err := http.Get(r.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Type"), ctype) {
			t.Errorf("GET %s = %s %s", path, res.Status, res.Header.Get("Content-Type"))
		}
	}
}

func TestCitizenIsGreetedOverTheSocket(t *testing.T) {
	r := newRig(t)
	s, hello := r.browser().open()
	if len(hello.History) != 0 {
		t.Fatalf("a new session has history: %+v", hello.lines(t))
	}
	got := messages(s.say("m1", "你好", greeting))
	if len(got) != 1 || got[0].OutboxID == 0 || got[0].FromAgent != "" {
		t.Errorf("greeting frames = %+v, want one desk message with its outbox id", got)
	}
}

func TestReconnectShowsTheConversationAgain(t *testing.T) {
	r := newRig(t)
	b := r.browser()
	s, _ := b.open()
	s.say("m1", "邻居装修太吵了", "") // any desk message
	s.c.Close(websocket.StatusNormalClosure, "reload")

	_, hello := b.open()
	lines := hello.lines(t)
	if len(lines) < 2 || lines[0].From != "citizen" || lines[0].Text != "邻居装修太吵了" || lines[1].From != "bot" || !strings.Contains(lines[1].Text, greeting) {
		t.Fatalf("history after reconnect = %+v", lines)
	}
	if _, other := r.browser().open(); len(other.History) != 0 {
		t.Errorf("another browser sees %d lines of this conversation", len(other.History))
	}
}

func TestARedeliveredMessageIsHandledOnce(t *testing.T) {
	r := newRig(t)
	b := r.browser()
	s, _ := b.open()
	s.say("m-1", "邻居装修太吵了", greeting)
	s.c.Close(websocket.StatusNormalClosure, "network lost before the ack")

	// The page sends the unacknowledged message again with the same id.
	s2, _ := b.open()
	s2.sendRaw(map[string]string{"type": "message", "id": "m-1", "text": "邻居装修太吵了"})
	if f := s2.until(func(f frame) bool { return f.Type == "ack" || f.Type == "error" }); f[len(f)-1].Type != "ack" {
		t.Fatalf("resend answered %+v", f)
	}
	if n := r.store.InboundCount(); n != 1 {
		t.Errorf("%d inbound messages stored, want 1", n)
	}
	// The same id from another session is that session's own message.
	s3, _ := r.browser().open()
	s3.say("m-1", "你好", greeting)
	if n := r.store.InboundCount(); n != 2 {
		t.Errorf("%d inbound messages stored, want 2", n)
	}
}

func TestACitizenWritingTooFastIsAskedToWait(t *testing.T) {
	// The rig's clock stands still, so the bucket never refills: exactly
	// the burst gets through.
	r := newRig(t, withConfig(func(c *webchat.Config) { c.MessageBurst = 3 }))
	s, _ := r.browser().open()
	var errs []frame
	for i, id := range []string{"a", "b", "c", "d"} {
		s.sendRaw(map[string]string{"type": "message", "id": id, "text": "你好" + strings.Repeat("!", i)})
		for _, f := range s.until(func(f frame) bool { return (f.Type == "ack" || f.Type == "error") && f.ID == id }) {
			if f.Type == "error" {
				errs = append(errs, f)
			}
		}
	}
	if len(errs) != 1 || errs[0].ID != "d" || errs[0].Code != "rate_limited" || !strings.Contains(errs[0].Text, "请稍后再") {
		t.Fatalf("errors = %+v, want one polite rate_limited for d", errs)
	}
	if n := r.store.InboundCount(); n != 3 {
		t.Errorf("%d messages handled, want 3 (the one over the limit is not)", n)
	}
}

func TestAnOversizedMessageClosesTheSocket(t *testing.T) {
	r := newRig(t)
	s, _ := r.browser().open()
	s.sendRaw(map[string]string{"type": "message", "id": "big", "text": strings.Repeat("吵", 2000)}) // 6 KB
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, _, err := s.c.Read(ctx)
		if err == nil {
			continue
		}
		if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
			t.Fatalf("read error %v, want close status 1009", err)
		}
		break
	}
	if n := r.store.InboundCount(); n != 0 {
		t.Errorf("%d messages handled, want 0", n)
	}
}

func TestMalformedFramesAreRefused(t *testing.T) {
	r := newRig(t)
	s, _ := r.browser().open()
	for _, f := range []map[string]any{
		{"type": "message", "id": "", "text": "你好"},
		{"type": "message", "id": "x y", "text": "你好"},
		{"type": "message", "id": "ok", "text": "   "},
		{"type": "shout", "id": "ok2", "text": "你好"},
		{"type": "location", "id": "loc", "lat": 123.0, "lon": 0},
	} {
		s.sendRaw(f)
		if got := s.read(); got.Type != "error" || got.Code != bots.EINVALID {
			t.Errorf("%v answered %+v, want an invalid error", f, got)
		}
	}
	if n := r.store.InboundCount(); n != 0 {
		t.Errorf("%d messages handled, want 0", n)
	}
}

func TestTheSocketChecksTheOrigin(t *testing.T) {
	r := newRig(t, withConfig(func(c *webchat.Config) { c.AllowedOrigins = []string{"desk.example.org"} }))
	_, res, err := dial(t, wsURL(r.srv.URL, "/ws"), nil, http.Header{"Origin": {"http://evil.example"}})
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: err=%v res=%v, want 403", err, res)
	}
	for _, origin := range []string{r.srv.URL, "https://desk.example.org"} {
		if _, _, err := dial(t, wsURL(r.srv.URL, "/ws"), nil, http.Header{"Origin": {origin}}); err != nil {
			t.Errorf("origin %s refused: %v", origin, err)
		}
	}
}

func TestAskedWhereTheCitizenSharesAPosition(t *testing.T) {
	r := newRig(t)
	s, _ := r.browser().open()
	asked := messages(s.say("m1", "邻居跟我爸在楼道里打起来了", "具体地点"))
	if !asked[len(asked)-1].AskLocation {
		t.Fatalf("the question of where does not ask for a location: %+v", asked)
	}
	s.sendRaw(map[string]any{"type": "location", "id": "m2", "lat": 31.2304, "lon": 121.4737})
	var id string
	s.until(func(f frame) bool {
		if m := ticketInText.FindStringSubmatch(f.Text); m != nil {
			id = m[1]
		}
		return id != ""
	})
	v, err := r.engine.TicketByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if loc := v.Ticket.Location; !loc.HasCoords || loc.Lat != 31.2304 || loc.Lon != 121.4737 || v.Ticket.Action != "dispatch" {
		t.Errorf("ticket %s: action %s, location %+v", id, v.Ticket.Action, loc)
	}
}

func TestSendToCitizenWithNobodyConnected(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	err := r.web.SendToCitizen(ctx, bots.Delivery{OutboxID: 1, Attempt: 1}, bots.Outbound{Citizen: bots.CitizenID{Channel: webchat.Channel, ExternalID: "GONE"}, Text: "你好"})
	if err != nil {
		t.Errorf("no open page: %v, want nil (the page reads the history)", err)
	}
	err = r.web.SendToCitizen(ctx, bots.Delivery{OutboxID: 2, Attempt: 1}, bots.Outbound{Citizen: bots.CitizenID{Channel: "telegram", ExternalID: "1"}, Text: "你好"})
	var perm *bots.PermanentError
	if !errors.As(err, &perm) {
		t.Errorf("message for another channel: %v, want a permanent error", err)
	}
	if err := r.web.DeliverToAgents(ctx, bots.Delivery{OutboxID: 3, Attempt: 1}, bots.AgentEvent{Kind: bots.EventNewTicket}); err != nil {
		t.Errorf("no open inbox: %v, want nil", err)
	}
}

func TestEveryOpenPageOfASessionGetsTheAnswer(t *testing.T) {
	r := newRig(t)
	b := r.browser()
	phone, _ := b.open()
	laptop, _ := b.open()
	phone.say("m1", "你好", greeting)
	got := laptop.until(func(f frame) bool { return f.Type == "message" })
	if !strings.Contains(got[len(got)-1].Text, greeting) {
		t.Errorf("second page got %+v", got)
	}
}

func TestThePagesNeverInsertDataAsHTML(t *testing.T) {
	for _, name := range []string{"chat.js", "agent.js"} {
		b, err := webchat.StaticFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s uses %s: citizen text must be set with textContent", name, bad)
			}
		}
	}
}

func TestASessionOpensAFewPagesNotAThousand(t *testing.T) {
	r := newRig(t)
	b := r.browser()
	for range 8 {
		b.open()
	}
	_, res, err := dial(t, wsURL(r.srv.URL, "/ws"), b.jar, nil)
	if err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("ninth page: %v, want 429", err)
	}
}

// The desk's last question keeps its buttons after a reload: a citizen
// asked for a rating can still press 1–5.
func TestReloadKeepsTheLastQuestionsButtons(t *testing.T) {
	r := newRig(t)
	b := r.browser()
	s, _ := b.open()
	s.say("m1", "你好", "")
	s.say("m2", "呃呃呃", "")
	s.say("m3", "zzz", "") // the second in a row not understood: a person is offered, with a button
	s.c.Close(websocket.StatusNormalClosure, "reload")
	_, hello := b.open()
	lines := hello.lines(t)
	last := lines[len(lines)-1]
	if last.From != "bot" || len(last.Choices) != 1 {
		t.Fatalf("last line after reload = %+v", last)
	}
}

// A script that opens a new session for every message is still held
// back: one address may send five times a session's burst.
func TestNewSessionsDoNotResetTheAddressLimit(t *testing.T) {
	r := newRig(t, withConfig(func(c *webchat.Config) { c.MessageBurst = 2 }))
	limited := 0
	for i := 0; i < 12; i++ {
		s, _ := r.browser().open() // a new cookie: a new session
		id := "m" + strings.Repeat("x", i+1)
		s.sendRaw(map[string]string{"type": "message", "id": id, "text": "你好"})
		for _, f := range s.until(func(f frame) bool { return (f.Type == "ack" || f.Type == "error") && f.ID == id }) {
			if f.Type == "error" && f.Code == "rate_limited" {
				limited++
			}
		}
	}
	if limited != 2 {
		t.Fatalf("%d of 12 single-message sessions from one address limited, want 2 (burst 2×5)", limited)
	}
}
