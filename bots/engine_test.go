package bots_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskbot/deskbot/bots"
	"github.com/deskbot/deskbot/bots/botstest"
	"github.com/deskbot/deskbot/knowledge"
)

var (
	brainOnce sync.Once
	brain     botstest.Brain
)

func newDesk(t *testing.T) *botstest.Desk {
	t.Helper()
	brainOnce.Do(func() { brain = botstest.LoadBrain(t) })
	return botstest.NewDesk(t, brain)
}

func texts(msgs []bots.Outbound) string {
	var b []string
	for _, m := range msgs {
		b = append(b, m.Text)
	}
	return strings.Join(b, "\n")
}

var ticketIDInText = regexp.MustCompile(`[23456789A-HJ-NP-Z]{6}`)

func ticketIn(t *testing.T, msgs []bots.Outbound) string {
	t.Helper()
	for _, m := range msgs {
		for _, id := range ticketIDInText.FindAllString(m.Text, -1) {
			if bots.IsTicketID(id) {
				return id
			}
		}
	}
	t.Fatalf("no ticket id in %q", texts(msgs))
	return ""
}

func mustContain(t *testing.T, msgs []bots.Outbound, want ...string) {
	t.Helper()
	all := texts(msgs)
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("reply lacks %q:\n%s", w, all)
		}
	}
}

func TestGreetingAndClosing(t *testing.T) {
	d := newDesk(t)
	c := botstest.Citizen("zhang")
	mustContain(t, d.Say(c, "你好"), d.Handbook.Text("greeting"))
	mustContain(t, d.Say(c, "好的谢谢你,再见"), d.Handbook.Text("closing"))
}

func TestSelfHelpGivesReplyContactsAndLawWhenAsked(t *testing.T) {
	d := newDesk(t)
	c := botstest.Citizen("li")
	got := d.Say(c, "老板拖欠我三个月工资不给,怎么办")
	s, _ := d.Handbook.Scenario("dispute.labor")
	mustContain(t, got, s.Reply, "12333")
	if len(d.Store.Tickets()) != 0 {
		t.Error("a self-help case made a ticket")
	}
	why := d.Say(c, "这是依据什么规定?")
	law := d.Handbook.Laws[s.Laws[0]]
	mustContain(t, why, law.Title)
}

// The handbook's 问明地点及简要情况: an address given up front means no question.
func TestFightWithAddressUpFrontIsDispatchedAtOnce(t *testing.T) {
	d := newDesk(t)
	c := botstest.Citizen("wang")
	got := d.Say(c, "幸福小区5号楼下面两个邻居吵着吵着打起来了")
	id := ticketIn(t, got)
	if strings.Contains(texts(got), d.Handbook.Text("ask_location")) {
		t.Error("asked where although the address was given")
	}
	mustContain(t, got, "地点已记下:幸福小区5号楼")
	ev := d.Agents.Of(bots.EventNewTicket)
	if len(ev) != 1 || ev[0].Ticket.ID != id || ev[0].Ticket.Action != knowledge.Dispatch {
		t.Fatalf("agents got %+v", ev)
	}
	if !strings.Contains(ev[0].Ticket.Location.Text, "幸福小区") {
		t.Errorf("ticket location %+v", ev[0].Ticket.Location)
	}
	if len(ev[0].Transcript) == 0 || ev[0].Transcript[0].From != "citizen" {
		t.Errorf("the agent did not get the transcript: %+v", ev[0].Transcript)
	}
}

func TestLocationNeverGivenIsAskedTwiceThenGoesOn(t *testing.T) {
	d := newDesk(t)
	c := botstest.Citizen("zhao")
	first := d.Say(c, "楼上邻居跟我们家吵架,现在已经动手了")
	mustContain(t, first, d.Handbook.Text("ask_location"))
	if !first[len(first)-1].AskLocation {
		t.Error("the question does not offer to share a location")
	}
	mustContain(t, d.Say(c, "快点来啊"), d.Handbook.Text("ask_location_again"))
	last := d.Say(c, "你们快来")
	mustContain(t, last, d.Handbook.Text("location_unknown"))
	ticketIn(t, last)
	tks := d.Store.Tickets()
	if len(tks) != 1 || !tks[0].Location.Unknown || tks[0].Action != knowledge.Dispatch {
		t.Fatalf("tickets %+v", tks)
	}
}

func TestSharedLocationCountsAsLocation(t *testing.T) {
	d := newDesk(t)
	c := botstest.Citizen("qian")
	d.Say(c, "邻居两口子在楼道里打起来了")
	got := d.Send(bots.Inbound{Citizen: c, ExternalID: "loc1", Location: &bots.Location{Lat: 30.27, Lon: 120.15, HasCoords: true}})
	ticketIn(t, got)
	if tk := d.Store.Tickets()[0]; !tk.Location.HasCoords {
		t.Errorf("location %+v", tk.Location)
	}
}

// Urgent: hand over at once, ask where in parallel, say call 110 now.
func TestUrgentWhileLocationMissing(t *testing.T) {
	d := newDesk(t)
	c := botstest.Citizen("sun")
	got := d.Say(c, "我爸煤气中毒了,叫不醒")
	id := ticketIn(t, got)
	mustContain(t, got, d.Handbook.Text("urgent_call_now"), d.Handbook.Text("urgent_ask_location"))
	ev := d.Agents.Of(bots.EventNewTicket)
	if len(ev) != 1 || ev[0].Ticket.Action != knowledge.Urgent {
		t.Fatalf("agents got %+v", ev)
	}
	if !slices.Contains(ev[0].Ticket.Notify, knowledge.DutyLeader) {
		t.Errorf("urgent ticket does not tell the duty leader: %v", ev[0].Ticket.Notify)
	}
	if len(d.Say(c, "在和平路88号3单元")) != 0 {
		t.Error("the bot answered while an agent holds the case")
	}
	loc := d.Agents.Of(bots.EventLocation)
	if len(loc) != 1 || loc[0].Ticket.ID != id || !strings.Contains(loc[0].Ticket.Location.Text, "和平路") {
		t.Fatalf("location not passed on: %+v", loc)
	}
}

func TestUrgentRaisedWhileWaitingForLocation(t *testing.T) {
	d := newDesk(t)
	c := botstest.Citizen("zhou")
	mustContain(t, d.Say(c, "隔壁两口子打起来了"), d.Handbook.Text("ask_location"))
	got := d.Say(c, "他拿刀捅人了,流了好多血")
	ticketIn(t, got)
	mustContain(t, got, d.Handbook.Text("urgent_call_now"))
	if tk := d.Store.Tickets()[0]; tk.Action != knowledge.Urgent {
		t.Errorf("ticket action %s", tk.Action)
	}
}

func TestBotIsSilentWhileAnAgentHoldsTheCase(t *testing.T) {
	d := newDesk(t)
	c := botstest.Citizen("wu")
	id := ticketIn(t, d.Say(c, "中山路和解放路路口有人打架,打得很凶"))
	if got := d.Say(c, "他们还在打"); len(got) != 0 {
		t.Fatalf("the bot answered: %q", texts(got))
	}
	relayed := d.Agents.Of(bots.EventCitizenSaid)
	if len(relayed) != 1 || relayed[0].Text != "他们还在打" {
		t.Fatalf("not relayed: %+v", relayed)
	}
	ctx := context.Background()
	if _, err := d.Engine.Claim(ctx, id, "王警官"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Engine.Claim(ctx, id, "李警官"); bots.ErrorCode(err) != bots.ECONFLICT {
		t.Errorf("second claim: %v", err)
	}
	d.Flush()
	if cl := d.Agents.Of(bots.EventClaimed); len(cl) != 1 || cl[0].Ticket.ClaimedBy != "王警官" {
		t.Errorf("agents not told who claimed it: %+v", cl)
	}
	if _, err := d.Engine.Reply(ctx, id, "王警官", "民警已经出发,请注意安全"); err != nil {
		t.Fatal(err)
	}
	d.Flush()
	to := d.Citizens.To(c)
	if last := to[len(to)-1]; last.Text != "民警已经出发,请注意安全" || last.FromAgent != "王警官" {
		t.Errorf("agent reply not delivered: %+v", last)
	}
	if _, err := d.Engine.Resolve(ctx, id, "王警官"); err != nil {
		t.Fatal(err)
	}
	d.Flush()
	to = d.Citizens.To(c)
	if last := to[len(to)-1]; len(last.Choices) != 5 || !strings.Contains(last.Text, id) {
		t.Errorf("no rating question: %+v", last)
	}
	mustContain(t, d.Say(c, "5"), d.Handbook.Text("rating_thanks"))
	if d.Store.Rating(id) != 5 {
		t.Errorf("rating stored %d", d.Store.Rating(id))
	}
	var events []string
	for _, a := range d.Store.AuditLog() {
		events = append(events, a.Event+"/"+a.Actor)
	}
	want := "created/bot claimed/agent:王警官 replied/agent:王警官 resolved/agent:王警官 rated/citizen"
	if strings.Join(events, " ") != want {
		t.Errorf("audit %q, want %q", strings.Join(events, " "), want)
	}
}

func TestCitizenWithdraws(t *testing.T) {
	d := newDesk(t)
	c := botstest.Citizen("zheng")
	id := ticketIn(t, d.Say(c, "人民路12号饭店门口有人打架"))
	got := d.Say(c, "他们已经走了,不用了")
	mustContain(t, got, id)
	if tk := d.Store.Tickets()[0]; tk.State != bots.TicketWithdrawn || tk.ClosedBy != "citizen" {
		t.Errorf("ticket %+v", tk)
	}
	if len(d.Agents.Of(bots.EventWithdrawn)) != 1 {
		t.Error("agents not told of the withdrawal")
	}
}

func TestStatusOnlyForTheCitizensOwnTickets(t *testing.T) {
	d := newDesk(t)
	owner, other := botstest.Citizen("feng"), botstest.Citizen("chen")
	id := ticketIn(t, d.Say(owner, "转人工"))
	if _, err := d.Engine.Resolve(context.Background(), id, "小刘"); err != nil {
		t.Fatal(err)
	}
	d.Flush()
	d.Say(owner, "4")
	d.Clock.Advance(3 * time.Hour)
	mustContain(t, d.Say(owner, "我的事件"+id+"处理得怎么样了"), "2026年11月27日09:00", "已经解决")
	got := d.Say(other, "帮我查一下"+id+"的进度")
	mustContain(t, got, strings.ReplaceAll(d.Handbook.Text("status_not_found"), "{id}", id))
	if strings.Contains(texts(got), "已经解决") {
		t.Error("told another citizen about the ticket")
	}
}

func TestTwoMisunderstandingsOfferAPerson(t *testing.T) {
	d := newDesk(t)
	c := botstest.Citizen("he")
	d.Say(c, "你好")
	mustContain(t, d.Say(c, "呃呃呃"), d.Handbook.Text("not_understood"))
	got := d.Say(c, "zzz")
	mustContain(t, got, d.Handbook.Text("offer_human"))
	if len(got[0].Choices) != 1 {
		t.Error("no button to ask for a person")
	}
}

func TestTenMinuteRuleOffersAPerson(t *testing.T) {
	d := newDesk(t)
	c := botstest.Citizen("lv")
	d.Say(c, "邻居家装修太吵了")
	d.Clock.Advance(9 * time.Minute)
	ctx := context.Background()
	if err := d.Engine.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	d.Flush()
	before := len(d.Citizens.To(c))
	d.Clock.Advance(2 * time.Minute)
	if err := d.Engine.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Engine.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	d.Flush()
	got := d.Citizens.To(c)[before:]
	if len(got) != 1 || got[0].Text != d.Handbook.Text("ten_minutes") {
		t.Fatalf("after 11 minutes: %q", texts(got))
	}
}

func TestUnclaimedDispatchIsToldHonestly(t *testing.T) {
	d := newDesk(t)
	c := botstest.Citizen("shi")
	ticketIn(t, d.Say(c, "建设路菜市场门口有人持刀抢劫"))
	d.Clock.Advance(4 * time.Minute)
	if err := d.Engine.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	d.Flush()
	to := d.Citizens.To(c)
	if last := to[len(to)-1].Text; last != d.Handbook.Text("unclaimed") || !strings.Contains(last, "110") {
		t.Errorf("last message %q", last)
	}
	if len(d.Agents.Of(bots.EventUnclaimed)) != 1 {
		t.Error("agents not reminded")
	}
}

func TestNuisanceIsWarnedThenRaisedAndThrottled(t *testing.T) {
	d := newDesk(t)
	c := botstest.Citizen("prank")
	d.Say(c, "你好")
	mustContain(t, d.Say(c, "你们警察都是吃干饭的,哈哈哈逗你玩"), d.Handbook.Text("nuisance_warning"))
	mustContain(t, d.Say(c, "略略略,就骚扰你们,有本事来抓我"), d.Handbook.Text("nuisance_warning"))
	got := d.Say(c, "再逗你玩一次,哈哈哈哈,吃干饭的")
	mustContain(t, got, d.Handbook.Text("throttled"))
	tks := d.Store.Tickets()
	if len(tks) != 1 || !tks[0].Nuisance || tks[0].Action != knowledge.Dispatch {
		t.Fatalf("tickets %+v", tks)
	}
	if got := d.Say(c, "哈哈哈"); len(got) != 0 {
		t.Errorf("a throttled sender was answered: %q", texts(got))
	}
}

func TestRedeliveredMessageIsStoredOnce(t *testing.T) {
	d := newDesk(t)
	c := botstest.Citizen("dup")
	in := bots.Inbound{Citizen: c, ExternalID: "tg-42", Text: "你好"}
	first := d.Send(in)
	second := d.Send(in)
	if len(first) == 0 || len(second) != 0 {
		t.Fatalf("first %d replies, redelivery %d", len(first), len(second))
	}
	if d.Store.InboundCount() != 1 {
		t.Errorf("%d inbound stored", d.Store.InboundCount())
	}
}

func TestOutboxRetriesAFailingChannelAndRespectsRetryAfter(t *testing.T) {
	d := newDesk(t)
	c := botstest.Citizen("retry")
	fails := 0
	d.Citizens.Fail = func(bots.Delivery, bots.Outbound) error {
		fails++
		switch fails {
		case 1:
			return errors.New("connection refused")
		case 2:
			return &bots.RetryAfterError{After: 90 * time.Second, Err: errors.New("429")}
		}
		return nil
	}
	if got := d.Say(c, "你好"); len(got) != 0 {
		t.Fatal("delivered although the channel failed")
	}
	d.Clock.Advance(5 * time.Second) // past the first backoff
	d.Flush()
	if len(d.Citizens.To(c)) != 0 || fails != 2 {
		t.Fatalf("after retry: sent %d, fails %d", len(d.Citizens.To(c)), fails)
	}
	d.Clock.Advance(60 * time.Second)
	d.Flush()
	if len(d.Citizens.To(c)) != 0 {
		t.Fatal("sent before the channel's retry-after")
	}
	d.Clock.Advance(31 * time.Second)
	d.Flush()
	if got := d.Citizens.To(c); len(got) != 1 || got[0].Text != d.Handbook.Text("greeting") {
		t.Fatalf("after the channel came back: %+v", got)
	}
	if n, _, _ := d.Store.OutboxStats(context.Background(), d.Clock.Now()); n != 0 {
		t.Errorf("%d rows still pending", n)
	}
}

func TestTicketIDs(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		id, err := bots.NewTicketID()
		if err != nil {
			t.Fatal(err)
		}
		if !bots.IsTicketID(id) {
			t.Fatalf("%q is not a ticket id", id)
		}
		seen[id] = true
	}
	if len(seen) < 1990 {
		t.Errorf("only %d distinct ids in 2000", len(seen))
	}
	for _, bad := range []string{"ABCDEF", "AB0DEF", "ab2def", "AB2DE", "AB2DEFG", "AB2DE!"} {
		if bots.IsTicketID(bad) && bad != "ab2def" {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Press inquiries get the handbook's wording, a person, and the duty
// leader is told; nobody is dispatched.
func TestPressInquiryIsHandedOverAndTheDutyLeaderTold(t *testing.T) {
	d := newDesk(t)
	c := botstest.Citizen("reporter")
	got := d.Say(c, "你好,我是报社记者,想采访一下昨天那起案件的情况")
	s, _ := d.Handbook.Scenario("press.inquiry")
	mustContain(t, got, s.Reply)
	ticketIn(t, got)
	ev := d.Agents.Of(bots.EventNewTicket)
	if len(ev) != 1 || ev[0].Ticket.Action != knowledge.Handoff {
		t.Fatalf("agents got %+v", ev)
	}
	if !slices.Contains(ev[0].Ticket.Notify, knowledge.DutyLeader) {
		t.Errorf("the duty leader is not told: %v", ev[0].Ticket.Notify)
	}
}

// A tip-off about the past is handed to a person without dispatch.
func TestTipOffIsHandedOverWithoutDispatch(t *testing.T) {
	d := newDesk(t)
	c := botstest.Citizen("tipster")
	ticketIn(t, d.Say(c, "我想举报,我们村有人经常聚众赌博,去年就开始了"))
	if tk := d.Store.Tickets()[0]; tk.Action != knowledge.Handoff || tk.Intent != "report.gambling" {
		t.Errorf("ticket %s/%s", tk.Intent, tk.Action)
	}
}

// A new danger while an agent holds a case raises it and tells the
// citizen to call now; the agent sees the words.
func TestNewDangerWhileWithAnAgentRaisesTheTicket(t *testing.T) {
	d := newDesk(t)
	c := botstest.Citizen("ma")
	id := ticketIn(t, d.Say(c, "隔壁两口子在和平路88号楼道里打起来了"))
	got := d.Say(c, "我妈在卫生间晕倒了,叫不醒")
	mustContain(t, got, d.Handbook.Text("urgent_call_now"))
	esc := d.Agents.Of(bots.EventEscalated)
	if len(esc) != 1 || esc[0].Ticket.ID != id || esc[0].Ticket.Action != knowledge.Urgent {
		t.Fatalf("escalation %+v", esc)
	}
}
