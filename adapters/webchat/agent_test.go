package webchat_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/deskbot/deskbot/adapters/webchat"
	"github.com/deskbot/deskbot/bots"
)

// reportFight makes a dispatch ticket the way a citizen does, and returns
// the citizen's socket and the ticket id.
func reportFight(t *testing.T, r *rig) (*sock, string) {
	t.Helper()
	s, _ := r.browser().open()
	s.say("m1", "邻居跟我爸在楼道里打起来了", "具体地点")
	var id string
	for _, f := range s.say("m2", "幸福小区3号楼2单元", "事件编号") {
		if m := ticketInText.FindStringSubmatch(f.Text); m != nil {
			id = m[1]
		}
	}
	if id == "" {
		t.Fatal("no ticket id told to the citizen")
	}
	return s, id
}

func TestAgentSignIn(t *testing.T) {
	r := newRig(t)
	anon := r.anonymous()

	if res := anon.post("/agent/api/signin", map[string]string{"token": "guess", "name": "张警官"}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong token: %s, want 401", res.Status)
	}
	if res := anon.do(http.MethodPost, "/agent/api/signin", map[string]string{"token": token, "name": "张警官"}, nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF header: %s, want 403", res.Status)
	}
	if res := anon.post("/agent/api/signin", map[string]string{"token": token, "name": "  "}); res.StatusCode != http.StatusBadRequest {
		t.Errorf("no name: %s, want 400", res.Status)
	}
	if res := anon.get("/agent/api/me"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("me before sign-in: %s, want 401", res.Status)
	}

	res := anon.post("/agent/api/signin", map[string]string{"token": token, "name": "张警官"})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("right token: %s", res.Status)
	}
	var c *http.Cookie
	for _, k := range res.Cookies() {
		if k.Name == "deskbot_agent" {
			c = k
		}
	}
	if c == nil || !c.HttpOnly || c.Path != "/agent" || strings.Contains(c.Value, token) {
		t.Fatalf("agent cookie = %+v: want HttpOnly, Path=/agent, and never the token", c)
	}
	if got := decode[struct{ Name string }](t, anon.get("/agent/api/me")); got.Name != "张警官" {
		t.Errorf("me = %q", got.Name)
	}

	// A cookie changed by hand is not a sign-in.
	forged := r.anonymous()
	req, _ := http.NewRequest(http.MethodGet, r.srv.URL+"/agent/api/me", nil)
	payload, sig, _ := strings.Cut(c.Value, ".")
	req.AddCookie(&http.Cookie{Name: "deskbot_agent", Value: payload + "x." + sig})
	if res, err := forged.c.Do(req); err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged cookie: %v %v, want 401", res.Status, err)
	} else {
		res.Body.Close()
	}
}

func TestNoTokenConfiguredLetsNobodyIn(t *testing.T) {
	r := newRig(t, withConfig(func(c *webchat.Config) { c.AgentToken = "" }))
	if res := r.anonymous().post("/agent/api/signin", map[string]string{"token": "", "name": "x"}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("empty token: %s, want 401", res.Status)
	}
}

func TestAnAgentClaimsRepliesAndResolves(t *testing.T) {
	r := newRig(t)
	citizen, id := reportFight(t, r)
	zhang, li := r.signIn("张警官"), r.signIn("李警官")

	inbox := decode[struct {
		Agent   string
		Tickets []bots.TicketView
		Canned  []string
		Notify  map[string]string
	}](t, zhang.get("/agent/api/inbox"))
	if inbox.Agent != "张警官" || len(inbox.Tickets) != 1 || len(inbox.Canned) == 0 || inbox.Notify["duty_leader"] == "" {
		t.Fatalf("inbox = %+v", inbox)
	}
	v := inbox.Tickets[0]
	if v.Ticket.ID != id || v.Ticket.Action != "dispatch" || v.Ticket.Rule == "" || len(v.Ticket.Signals) == 0 ||
		!strings.Contains(v.Ticket.Location.Text, "幸福小区") || len(v.Transcript) < 4 {
		t.Errorf("ticket in the inbox = %+v", v)
	}

	if res := zhang.post("/agent/api/tickets/"+id+"/claim", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("claim: %s", res.Status)
	}
	claimed := citizen.until(func(f frame) bool { return f.Type == "message" && strings.Contains(f.Text, "已接手") })
	if last := claimed[len(claimed)-1]; !strings.Contains(last.Text, "张警官") {
		t.Errorf("citizen told %q", last.Text)
	}
	if res := li.post("/agent/api/tickets/"+id+"/claim", nil); res.StatusCode != http.StatusConflict {
		t.Errorf("a second agent's claim: %s, want 409", res.Status)
	}
	if res := zhang.post("/agent/api/tickets/"+id+"/claim", nil); res.StatusCode != http.StatusOK {
		t.Errorf("claiming one's own ticket again: %s, want 200", res.Status)
	}

	if res := zhang.post("/agent/api/tickets/"+id+"/reply", map[string]string{"text": "民警已在路上,请注意安全。"}); res.StatusCode != http.StatusOK {
		t.Fatalf("reply: %s", res.Status)
	}
	got := citizen.until(func(f frame) bool { return f.Type == "message" && f.FromAgent != "" })
	if last := got[len(got)-1]; last.FromAgent != "张警官" || last.Text != "民警已在路上,请注意安全。" {
		t.Errorf("citizen got %+v", last)
	}
	if res := zhang.post("/agent/api/tickets/"+id+"/reply", map[string]string{"text": " "}); res.StatusCode != http.StatusBadRequest {
		t.Errorf("empty reply: %s, want 400", res.Status)
	}

	if res := zhang.post("/agent/api/tickets/"+id+"/resolve", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("resolve: %s", res.Status)
	}
	rate := citizen.until(func(f frame) bool { return f.Type == "message" && len(f.Choices) > 0 })
	if c := rate[len(rate)-1].Choices; len(c) != 5 || c[0].Value != "1" || c[4].Value != "5" {
		t.Errorf("rating choices = %+v", c)
	}
	if res := zhang.post("/agent/api/tickets/"+id+"/resolve", nil); res.StatusCode != http.StatusConflict {
		t.Errorf("resolving twice: %s, want 409", res.Status)
	}
	if res := zhang.post("/agent/api/tickets/NOSUCH/claim", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown ticket: %s, want 404", res.Status)
	}

	// Every action is recorded with the agent's name.
	var actors []string
	for _, e := range r.store.AuditLog() {
		if strings.HasPrefix(e.Actor, "agent:") {
			actors = append(actors, e.Actor+" "+e.Event)
		}
	}
	if strings.Join(actors, ",") != "agent:张警官 claimed,agent:张警官 replied,agent:张警官 resolved" {
		t.Errorf("audit = %v", actors)
	}
}

func TestAgentActionsNeedSignInAndTheCSRFHeader(t *testing.T) {
	r := newRig(t)
	_, id := reportFight(t, r)
	zhang := r.signIn("张警官")
	path := "/agent/api/tickets/" + id + "/claim"
	if res := r.anonymous().post(path, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("not signed in: %s, want 401", res.Status)
	}
	if res := zhang.do(http.MethodPost, path, nil, nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("no X-Requested-With: %s, want 403", res.Status)
	}
	if res := zhang.do(http.MethodPost, path, nil, http.Header{"X-Requested-With": {"deskbot"}, "Origin": {"http://evil.example"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("foreign origin: %s, want 403", res.Status)
	}
	if res := zhang.do(http.MethodPost, path, nil, http.Header{"X-Requested-With": {"deskbot"}, "Origin": {r.srv.URL}}); res.StatusCode != http.StatusOK {
		t.Errorf("same origin: %s, want 200", res.Status)
	}
	big := map[string]string{"text": strings.Repeat("长", 8000)}
	if res := zhang.post("/agent/api/tickets/"+id+"/reply", big); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("24 KB reply: %s, want 413", res.Status)
	}
}

func TestTheInboxSocketCarriesEventsLive(t *testing.T) {
	r := newRig(t)
	zhang := r.signIn("张警官")
	if _, res, err := dial(t, wsURL(r.srv.URL, "/agent/ws"), nil, nil); err == nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("inbox socket without sign-in: %v, want 401", err)
	}
	inbox, _, err := dial(t, wsURL(r.srv.URL, "/agent/ws"), zhang.c.Jar, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, id := reportFight(t, r)
	got := inbox.until(func(f frame) bool { return f.Type == "event" && f.Event.Kind == bots.EventNewTicket })
	ev := got[len(got)-1]
	if ev.OutboxID == 0 || ev.Event.Ticket.ID != id || len(ev.Event.Transcript) == 0 {
		t.Errorf("new ticket event = %+v", ev)
	}
	zhang.post("/agent/api/tickets/"+id+"/claim", nil)
	changed := inbox.until(func(f frame) bool { return f.Type == "changed" })
	if c := changed[len(changed)-1]; c.TicketID != id || c.What != "claimed" || c.By != "张警官" {
		t.Errorf("changed = %+v", c)
	}
}

func TestGuessingTheTokenIsSlowedDown(t *testing.T) {
	r := newRig(t) // the clock stands still: no try comes back
	guess := r.anonymous()
	for i := range 5 {
		if res := guess.post("/agent/api/signin", map[string]string{"token": "guess", "name": "x"}); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: %s, want 401", i+1, res.Status)
		}
	}
	if res := guess.post("/agent/api/signin", map[string]string{"token": token, "name": "x"}); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("after five wrong tokens: %s, want 429", res.Status)
	}
}
