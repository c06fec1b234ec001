package bots

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/deskbot/deskbot/intents"
	"github.com/deskbot/deskbot/knowledge"
)

// turn is one event being handled inside one transaction: it collects
// what the desk says and tells agents.
type turn struct {
	e        *Engine
	tx       Tx
	conv     *Conversation
	now      time.Time
	enqueued bool
	opened   []Action // tickets opened, for metrics after the commit
	claimed  bool
	closed   []*Ticket // tickets closed, for metrics after the commit
	read     *reading  // what the matcher read, for metrics after the commit
}

func (t *turn) text(key string) string { return t.e.Handbook.Text(key) }

// say sends the citizen a message and stores it.
func (t *turn) say(out Outbound) error {
	out.Citizen = t.conv.Citizen
	if err := t.tx.RecordOutbound(t.conv.ID, out, t.now); err != nil {
		return fmt.Errorf("record outbound: %w", err)
	}
	payload, err := json.Marshal(out)
	if err != nil {
		return err
	}
	t.enqueued = true
	return t.tx.Enqueue(OutboxItem{Kind: ToCitizen, Channel: t.conv.Citizen.Channel, Payload: payload, NextAttemptAt: t.now, CreatedAt: t.now})
}

func (t *turn) sayText(texts ...string) error {
	var parts []string
	for _, s := range texts {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	return t.say(Outbound{Text: strings.Join(parts, "\n")})
}

// tellAgents hands an event to the agent channel through the outbox.
func (t *turn) tellAgents(kind AgentEventKind, tk *Ticket, text string, withTranscript bool) error {
	ev := AgentEvent{Kind: kind, Ticket: *tk, Text: text, At: t.now}
	if withTranscript {
		lines, err := t.tx.Transcript(tk.ConversationID)
		if err != nil {
			return fmt.Errorf("transcript: %w", err)
		}
		ev.Transcript = lines
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	t.enqueued = true
	return t.tx.Enqueue(OutboxItem{Kind: ToAgents, Channel: "agents", Payload: payload, NextAttemptAt: t.now, CreatedAt: t.now})
}

func (t *turn) audit(ticketID, actor, event, detail string) error {
	return t.tx.Audit(AuditEntry{At: t.now, TicketID: ticketID, Actor: actor, Event: event, Detail: detail})
}

// reading is what the desk takes from a message: the matcher's result and
// the location, if one was given.
type reading struct {
	m    intents.Match
	loc  Location
	text string
}

// citizenSaid follows the handbook's procedure for one message.
func (t *turn) citizenSaid(in Inbound) error {
	c := t.conv
	if c.ThrottledUntil != nil && t.now.Before(*c.ThrottledUntil) {
		return nil // stored, not answered: the sender was warned and is throttled
	}
	r := reading{m: t.e.Matcher.Match(in.Text), text: in.Text}
	t.read = &r
	r.loc = locationIn(in, t.e.Handbook.Keywords["place_suffixes"])
	fresh := c.StartedAt.Equal(t.now) && c.LastIntent == "" && c.TicketID == ""

	switch c.State {
	case ConvWithAgent:
		return t.withAgent(r)
	case ConvAwaitingRate:
		if n, ok := rating(in.Text); ok {
			return t.rate(n)
		}
		c.State, c.TicketID = ConvActive, ""
	case ConvAwaitingWhere:
		return t.awaitingWhere(r)
	}

	if id := findTicketID(in.Text); id != "" || r.m.Intent == "desk.status" {
		return t.status(id)
	}
	if c.LastIntent != "" && hasAny(in.Text, t.e.Handbook.Keywords["why"]) && r.m.Action.Rank() < knowledge.Dispatch.Rank() {
		return t.why(c.LastIntent)
	}
	if fresh {
		if err := t.sayText(t.text("greeting")); err != nil {
			return err
		}
		if r.m.Intent == "desk.greeting" || (r.m.Intent == intents.Unknown && r.m.Action == knowledge.SelfHelp) {
			c.LastIntent = "desk.greeting"
			return nil // a greeting, or nothing yet to answer: the greeting asks what happened
		}
	}
	if hasAny(in.Text, t.e.Handbook.Keywords["human"]) && r.m.Action.Rank() < knowledge.Dispatch.Rank() {
		r.m.Intent, r.m.Action, r.m.Rule = "desk.human", knowledge.Handoff, "desk.human/default"
	}
	switch r.m.Intent {
	case intents.Unknown:
		if r.m.Action == knowledge.SelfHelp {
			return t.notUnderstood()
		}
	case "desk.greeting":
		c.Misunderstood = 0
		return t.sayText(t.text("greeting"))
	case "desk.thanks":
		c.Misunderstood, c.State, c.Settled = 0, ConvClosed, true
		return t.sayText(t.text("closing"))
	case "abuse.nuisance":
		return t.nuisance(r)
	}
	c.Misunderstood = 0
	c.LastIntent = r.m.Intent
	return t.act(r)
}

// act does what the action calls for.
func (t *turn) act(r reading) error {
	switch r.m.Action {
	case knowledge.Urgent:
		return t.urgent(r)
	case knowledge.Dispatch:
		return t.dispatch(r, 0)
	case knowledge.Handoff:
		return t.handoff(r)
	default:
		return t.selfHelp(r.m)
	}
}

func (t *turn) scenario(id string) *knowledge.Scenario {
	if s, ok := t.e.Handbook.Scenario(id); ok {
		return s
	}
	return nil
}

// selfHelp answers with the scenario's reply and its referral contacts.
func (t *turn) selfHelp(m intents.Match) error {
	s := t.scenario(m.Intent)
	if s == nil {
		return t.notUnderstood()
	}
	reply := s.Reply
	if m.RuleReply != "" {
		reply = m.RuleReply
	}
	return t.sayText(reply, t.contacts(s))
}

// contacts lists a scenario's referrals with their numbers.
func (t *turn) contacts(s *knowledge.Scenario) string {
	var lines []string
	for _, k := range s.Referrals {
		ref, ok := t.e.Handbook.Referral(k)
		if !ok {
			continue
		}
		line := "· " + ref.Name
		if ref.Phone != "" {
			line += " " + ref.Phone
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return ""
	}
	return t.text("contacts_intro") + "\n" + strings.Join(lines, "\n")
}

// why gives the law in force behind the last answer.
func (t *turn) why(intent string) error {
	s := t.scenario(intent)
	if s == nil || len(s.Laws) == 0 {
		return t.sayText(t.text("no_law"))
	}
	var lines []string
	for _, k := range s.Laws {
		l, ok := t.e.Handbook.Laws[k]
		if !ok {
			continue
		}
		lines = append(lines, fmt.Sprintf("《%s》%s:%s", strings.TrimPrefix(l.Title, ""), l.Article, l.Summary))
	}
	return t.sayText(t.text("why_intro"), strings.Join(lines, "\n"))
}

func (t *turn) notUnderstood() error {
	t.conv.Misunderstood++
	if t.conv.Misunderstood >= 2 {
		t.conv.Misunderstood = 0
		return t.say(Outbound{Text: t.text("offer_human"), Choices: humanChoice(t.e.Handbook)})
	}
	return t.sayText(t.text("not_understood"))
}

func humanChoice(h *knowledge.Handbook) []Choice {
	label := "转人工"
	if ws := h.Keywords["human"]; len(ws) > 0 {
		label = ws[0]
	}
	return []Choice{{Label: label, Value: label}}
}

// handoff hands a ticket to a person without sending officers.
func (t *turn) handoff(r reading) error {
	s := t.scenario(r.m.Intent)
	reply := t.text("handover")
	if s != nil && s.ID != "desk.human" {
		reply = s.Reply
	}
	if r.m.RuleReply != "" {
		reply = r.m.RuleReply
	}
	tk, err := t.openTicket(pendingOf(r), r.loc)
	if err != nil {
		return err
	}
	return t.sayText(reply, strings.ReplaceAll(t.text("ticket_created"), "{id}", tk.ID))
}

// handoverText is what the desk says when officers are sent.
func (t *turn) handoverText(p *Pending, ruleReply string) string {
	if ruleReply != "" {
		return ruleReply
	}
	if s := t.scenario(p.Intent); s != nil {
		if s.DefaultAction.Rank() >= knowledge.Dispatch.Rank() || s.Handover == "" {
			return s.Reply
		}
		return s.Handover
	}
	return t.text("handover")
}

// dispatch sends officers once the desk knows where; until then it asks,
// at most twice, then goes on with the location unknown.
func (t *turn) dispatch(r reading, _ int) error {
	p := pendingOf(r)
	if r.loc.Known() {
		return t.ticketWithHandover(p, r.loc, r.m.RuleReply)
	}
	p.Asked = 1
	t.conv.Pending, t.conv.State = p, ConvAwaitingWhere
	ask := t.text("ask_location")
	if !hasAny(r.text, t.e.Handbook.Keywords["injury_said"]) {
		ask += "\n" + t.text("ask_injured")
	}
	return t.say(Outbound{Text: ask, AskLocation: true})
}

// awaitingWhere handles the answer to "where?".
func (t *turn) awaitingWhere(r reading) error {
	p := t.conv.Pending
	if p == nil {
		t.conv.State = ConvActive
		return t.act(r)
	}
	if hasAny(r.text, t.e.Handbook.Keywords["withdraw"]) && !r.loc.Known() {
		t.conv.Pending, t.conv.State = nil, ConvActive
		return t.sayText(t.text("pending_cancelled"))
	}
	p.Summary = strings.TrimSpace(p.Summary + "\n" + r.text)
	p.Signals = append(p.Signals, signalsOf(r.m)...)
	if r.m.Action == knowledge.Urgent {
		// Life at risk while we waited: hand over now, ask in parallel.
		p.Action, p.Rule, p.Notify = knowledge.Urgent, r.m.Rule, r.m.Notify
		if r.m.Intent != intents.Unknown {
			p.Intent = r.m.Intent
		}
		return t.urgentTicket(p, r.loc, r.m.RuleReply)
	}
	if r.loc.Known() {
		return t.ticketWithHandover(p, r.loc, "")
	}
	if p.Asked >= maxAsks {
		loc := Location{Unknown: true}
		if err := t.sayText(t.text("location_unknown")); err != nil {
			return err
		}
		return t.ticketWithHandover(p, loc, "")
	}
	p.Asked++
	return t.say(Outbound{Text: t.text("ask_location_again"), AskLocation: true})
}

func (t *turn) ticketWithHandover(p *Pending, loc Location, ruleReply string) error {
	tk, err := t.openTicket(p, loc)
	if err != nil {
		return err
	}
	return t.sayText(t.handoverText(p, ruleReply), t.locationNoted(loc), strings.ReplaceAll(t.text("ticket_created"), "{id}", tk.ID))
}

// locationNoted tells the citizen the desk has the place already: the
// handbook's hand-over texts ask where, and the citizen may have said it.
func (t *turn) locationNoted(loc Location) string {
	if !loc.Known() {
		return ""
	}
	return strings.ReplaceAll(t.text("location_noted"), "{location}", loc.String())
}

// urgent hands over at once, without waiting for the location.
func (t *turn) urgent(r reading) error {
	return t.urgentTicket(pendingOf(r), r.loc, r.m.RuleReply)
}

func (t *turn) urgentTicket(p *Pending, loc Location, ruleReply string) error {
	tk, err := t.openTicket(p, loc)
	if err != nil {
		return err
	}
	msgs := []string{t.text("urgent_call_now"), t.handoverText(p, ruleReply), strings.ReplaceAll(t.text("ticket_created"), "{id}", tk.ID)}
	if !loc.Known() {
		t.conv.NeedsLocation = true
		return t.say(Outbound{Text: strings.Join(msgs, "\n") + "\n" + t.text("urgent_ask_location"), AskLocation: true, TicketID: tk.ID})
	}
	msgs = append(msgs[:2], t.locationNoted(loc), msgs[2])
	return t.say(Outbound{Text: strings.Join(msgs, "\n"), TicketID: tk.ID})
}

func pendingOf(r reading) *Pending {
	return &Pending{Intent: r.m.Intent, Action: r.m.Action, Rule: r.m.Rule, Signals: signalsOf(r.m), Notify: r.m.Notify, Summary: r.text}
}

func signalsOf(m intents.Match) []Signal {
	var out []Signal
	for _, s := range m.Signals {
		out = append(out, Signal{Signal: s.Signal, Text: s.Text})
	}
	return out
}

// openTicket creates the ticket, hands it to the agents and moves the
// conversation to them.
func (t *turn) openTicket(p *Pending, loc Location) (*Ticket, error) {
	tk := &Ticket{
		Citizen: t.conv.Citizen, ConversationID: t.conv.ID, Intent: p.Intent, Action: p.Action,
		Rule: p.Rule, Signals: p.Signals, Notify: p.Notify, Summary: p.Summary, Location: loc,
		State: TicketOpen, CreatedAt: t.now,
	}
	if p.Action == knowledge.Urgent && !containsStr(tk.Notify, knowledge.DutyLeader) {
		tk.Notify = append(tk.Notify, knowledge.DutyLeader)
	}
	if s := t.scenario(p.Intent); s != nil {
		tk.Title = s.Title
	}
	var err error
	for try := 0; try < 8; try++ {
		if tk.ID, err = NewTicketID(); err != nil {
			return nil, err
		}
		if err = t.tx.CreateTicket(tk); ErrorCode(err) != ECONFLICT {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("create ticket: %w", err)
	}
	if err := t.audit(tk.ID, "bot", "created", fmt.Sprintf("action=%s rule=%s", tk.Action, tk.Rule)); err != nil {
		return nil, err
	}
	t.conv.Pending, t.conv.State, t.conv.TicketID, t.conv.Settled = nil, ConvWithAgent, tk.ID, true
	t.opened = append(t.opened, tk.Action)
	return tk, t.tellAgents(EventNewTicket, tk, "", true)
}

// withAgent: the bot does not answer; the citizen's words go to the agent.
// Withdrawal, status questions and new danger are the exceptions.
func (t *turn) withAgent(r reading) error {
	tk, err := t.tx.Ticket(t.conv.TicketID)
	if err != nil || tk.State.Closed() {
		t.conv.State, t.conv.TicketID = ConvActive, ""
		return t.act(r)
	}
	if hasAny(r.text, t.e.Handbook.Keywords["withdraw"]) && r.m.Action.Rank() < knowledge.Dispatch.Rank() {
		return t.withdraw(tk)
	}
	if id := findTicketID(r.text); id != "" {
		return t.status(id)
	}
	if t.conv.NeedsLocation && r.loc.Known() {
		tk.Location, t.conv.NeedsLocation = r.loc, false
		if err := t.tx.SaveTicket(tk); err != nil {
			return err
		}
		if err := t.tellAgents(EventLocation, tk, r.text, false); err != nil {
			return err
		}
	}
	// New danger raises the ticket: signals that raise the action, or a
	// confident reading of a more serious scenario. A weak reading alone
	// does not (a short aside read as another scenario must alarm nobody).
	danger := !strings.HasSuffix(r.m.Rule, "/default") || r.m.Confidence >= raiseConfidence || r.m.HasSignal("life_at_risk")
	if r.m.Action.Rank() > tk.Action.Rank() && danger {
		tk.Action, tk.Rule = r.m.Action, r.m.Rule
		tk.Signals = append(tk.Signals, signalsOf(r.m)...)
		for _, n := range r.m.Notify {
			if !containsStr(tk.Notify, n) {
				tk.Notify = append(tk.Notify, n)
			}
		}
		if err := t.tx.SaveTicket(tk); err != nil {
			return err
		}
		if err := t.audit(tk.ID, "bot", "escalated", fmt.Sprintf("action=%s rule=%s", tk.Action, tk.Rule)); err != nil {
			return err
		}
		if err := t.tellAgents(EventEscalated, tk, r.text, false); err != nil {
			return err
		}
		if tk.Action == knowledge.Urgent {
			return t.sayText(t.text("escalated"), t.text("urgent_call_now"))
		}
		return nil
	}
	return t.tellAgents(EventCitizenSaid, tk, r.text, false)
}

func (t *turn) withdraw(tk *Ticket) error {
	at := t.now
	tk.State, tk.ClosedAt, tk.ClosedBy = TicketWithdrawn, &at, "citizen"
	if err := t.tx.SaveTicket(tk); err != nil {
		return err
	}
	if err := t.audit(tk.ID, "citizen", "withdrawn", ""); err != nil {
		return err
	}
	t.closed = append(t.closed, tk)
	t.conv.State, t.conv.TicketID, t.conv.NeedsLocation = ConvActive, "", false
	if err := t.tellAgents(EventWithdrawn, tk, "", false); err != nil {
		return err
	}
	return t.sayText(strings.ReplaceAll(t.text("withdrawn"), "{id}", tk.ID))
}

// status answers 第七条 5: only about the asking citizen's own tickets.
func (t *turn) status(id string) error {
	var tk *Ticket
	if id == "" {
		list, err := t.tx.TicketsOf(t.conv.Citizen, 1)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return t.sayText(t.text("status_ask_id"))
		}
		tk = list[0]
	} else {
		got, err := t.tx.Ticket(id)
		if err != nil && ErrorCode(err) != ENOTFOUND {
			return err
		}
		if got == nil || got.Citizen != t.conv.Citizen {
			// Someone else's ticket is answered as not found: its existence
			// is not ours to tell.
			return t.sayText(strings.ReplaceAll(t.text("status_not_found"), "{id}", id))
		}
		tk = got
	}
	key := "status_in_progress"
	switch tk.State {
	case TicketResolved:
		key = "status_resolved"
	case TicketWithdrawn:
		key = "status_withdrawn"
	}
	when := tk.CreatedAt.In(t.e.tz()).Format("2006年1月2日15:04")
	return t.sayText(strings.NewReplacer("{id}", tk.ID, "{time}", when).Replace(t.text(key)))
}

func (t *turn) rate(n int) error {
	id := t.conv.TicketID
	t.conv.State, t.conv.TicketID = ConvActive, ""
	if err := t.tx.SaveRating(id, n, t.now); err != nil {
		return fmt.Errorf("save rating: %w", err)
	}
	if err := t.audit(id, "citizen", "rated", strconv.Itoa(n)); err != nil {
		return err
	}
	if tk, err := t.tx.Ticket(id); err == nil {
		tk.Rating = n
		if err := t.tellAgents(EventRated, tk, strconv.Itoa(n), false); err != nil {
			return err
		}
	}
	return t.sayText(t.text("rating_thanks"))
}

// nuisance: a warning first; repeated abuse is raised as the catalogue
// says (dispatch, flagged) and the sender is throttled.
func (t *turn) nuisance(r reading) error {
	c := t.conv
	c.NuisanceCount++
	if c.NuisanceCount < t.limit() && r.m.Action.Rank() < knowledge.Dispatch.Rank() {
		return t.sayText(t.text("nuisance_warning"))
	}
	p := pendingOf(r)
	if p.Action.Rank() < knowledge.Dispatch.Rank() {
		p.Action, p.Rule = knowledge.Dispatch, "abuse.nuisance/repeated"
	}
	tk, err := t.openTicket(p, r.loc)
	if err != nil {
		return err
	}
	tk.Nuisance = true
	if err := t.tx.SaveTicket(tk); err != nil {
		return err
	}
	until := t.now.Add(durOr(t.e.ThrottleFor, DefaultThrottleFor))
	c.ThrottledUntil = &until
	c.State, c.TicketID = ConvActive, "" // nothing to relay to a throttled sender
	return t.sayText(t.text("nuisance_warning"), t.text("throttled"))
}

func (t *turn) limit() int {
	if t.e.NuisanceLimit > 0 {
		return t.e.NuisanceLimit
	}
	return DefaultNuisanceLimit
}

// rating reads a 1–5 answer: "5", "5分", "５".
func rating(s string) (int, bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "分"))
	s = strings.Map(func(r rune) rune {
		if r >= '０' && r <= '９' {
			return r - '０' + '0'
		}
		return r
	}, s)
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 5 {
		return 0, false
	}
	return n, true
}

func hasAny(s string, words []string) bool {
	for _, w := range words {
		if w != "" && strings.Contains(s, w) {
			return true
		}
	}
	return false
}

func containsStr(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
