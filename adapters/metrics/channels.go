package metrics

import (
	"context"

	"github.com/deskbot/deskbot/bots"
)

// The engine's Metrics sees messages come in; messages go out through the
// outbox, which calls the channels. These wrappers count what a channel
// accepted (and what failed), so messages out are counted by channel
// without the channels knowing about metrics.

// Citizens wraps the citizen channel registered under name.
func (m *Metrics) Citizens(name string, ch bots.CitizenChannel) bots.CitizenChannel {
	return &countedCitizens{m: m, name: name, next: ch}
}

// Agents wraps the agent channel; its messages count under "agents".
func (m *Metrics) Agents(ch bots.AgentChannel) bots.AgentChannel {
	return &countedAgents{m: m, next: ch}
}

type countedCitizens struct {
	m    *Metrics
	name string
	next bots.CitizenChannel
}

func (c *countedCitizens) SendToCitizen(ctx context.Context, d bots.Delivery, o bots.Outbound) error {
	err := c.next.SendToCitizen(ctx, d, o)
	c.m.sent(c.name, err)
	return err
}

type countedAgents struct {
	m    *Metrics
	next bots.AgentChannel
}

func (c *countedAgents) DeliverToAgents(ctx context.Context, d bots.Delivery, e bots.AgentEvent) error {
	err := c.next.DeliverToAgents(ctx, d, e)
	c.m.sent("agents", err)
	return err
}

func (m *Metrics) sent(channel string, err error) {
	if err != nil {
		m.sendErrors.WithLabelValues(channel).Inc()
		return
	}
	m.messagesOut.WithLabelValues(channel).Inc()
}
