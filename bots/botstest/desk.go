package botstest

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/deskbot/deskbot/bots"
	"github.com/deskbot/deskbot/intents"
	"github.com/deskbot/deskbot/knowledge"
)

// Clock is a clock tests move by hand.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Citizens records what is sent to citizens; Fail, when set, decides
// whether a send fails.
type Citizens struct {
	mu   sync.Mutex
	Sent []bots.Outbound
	Fail func(d bots.Delivery, m bots.Outbound) error
}

var _ bots.CitizenChannel = (*Citizens)(nil)

// SendToCitizen implements bots.CitizenChannel.
func (c *Citizens) SendToCitizen(_ context.Context, d bots.Delivery, m bots.Outbound) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Fail != nil {
		if err := c.Fail(d, m); err != nil {
			return err
		}
	}
	c.Sent = append(c.Sent, m)
	return nil
}

// To returns everything sent to one citizen.
func (c *Citizens) To(id bots.CitizenID) []bots.Outbound {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []bots.Outbound
	for _, m := range c.Sent {
		if m.Citizen == id {
			out = append(out, m)
		}
	}
	return out
}

// Agents records what the agent channel receives.
type Agents struct {
	mu     sync.Mutex
	Events []bots.AgentEvent
	Fail   func(d bots.Delivery, e bots.AgentEvent) error
}

var _ bots.AgentChannel = (*Agents)(nil)

// DeliverToAgents implements bots.AgentChannel.
func (a *Agents) DeliverToAgents(_ context.Context, d bots.Delivery, e bots.AgentEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.Fail != nil {
		if err := a.Fail(d, e); err != nil {
			return err
		}
	}
	a.Events = append(a.Events, e)
	return nil
}

// Of returns the events of one kind.
func (a *Agents) Of(kind bots.AgentEventKind) []bots.AgentEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []bots.AgentEvent
	for _, e := range a.Events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// Desk is a real engine and matcher on an in-memory store, with
// recording channels and a hand-moved clock.
type Desk struct {
	T        testing.TB
	Handbook *knowledge.Handbook
	Engine   *bots.Engine
	Store    *MemStore
	Outbox   *bots.Outbox
	Citizens *Citizens
	Agents   *Agents
	Clock    *Clock
	seq      int
}

// Brain is the handbook and matcher a Desk uses; build it once per test
// binary, it is immutable.
type Brain struct {
	Handbook *knowledge.Handbook
	Matcher  *intents.Matcher
}

// LoadBrain loads the embedded handbook and builds the matcher.
func LoadBrain(t testing.TB) Brain {
	t.Helper()
	h, err := knowledge.Load(knowledge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := intents.New(h, intents.SeedPhrases(h), intents.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return Brain{Handbook: h, Matcher: m}
}

// NewDesk returns a desk at 2026-11-27 09:00 Asia/Shanghai.
func NewDesk(t testing.TB, b Brain) *Desk {
	tz, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	d := &Desk{T: t, Handbook: b.Handbook, Store: NewMemStore(), Citizens: &Citizens{}, Agents: &Agents{}, Clock: NewClock(time.Date(2026, 11, 27, 9, 0, 0, 0, tz))}
	d.Engine = &bots.Engine{Store: d.Store, Matcher: b.Matcher, Handbook: b.Handbook, Now: d.Clock.Now, TZ: tz}
	d.Outbox = &bots.Outbox{Store: d.Store, Citizens: map[string]bots.CitizenChannel{"test": d.Citizens}, Agents: d.Agents, Worker: "test", Now: d.Clock.Now}
	return d
}

// Citizen returns a test citizen's identity.
func Citizen(name string) bots.CitizenID { return bots.CitizenID{Channel: "test", ExternalID: name} }

// Say delivers a citizen's message, sends what the outbox holds, and
// returns what the citizen received in answer.
func (d *Desk) Say(c bots.CitizenID, text string) []bots.Outbound {
	d.T.Helper()
	d.seq++
	return d.Send(bots.Inbound{Citizen: c, ExternalID: "m" + strconv.Itoa(d.seq), Text: text})
}

// Send delivers an inbound message as given and returns the answers.
func (d *Desk) Send(in bots.Inbound) []bots.Outbound {
	d.T.Helper()
	before := len(d.Citizens.To(in.Citizen))
	if err := d.Engine.Handle(context.Background(), in); err != nil {
		d.T.Fatalf("handle %q: %v", in.Text, err)
	}
	d.Flush()
	return d.Citizens.To(in.Citizen)[before:]
}

// Flush sends everything due in the outbox.
func (d *Desk) Flush() {
	d.T.Helper()
	for {
		n, err := d.Outbox.RunOnce(context.Background())
		if err != nil {
			d.T.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}
