// Package metrics counts what the desk does in Prometheus form: it
// implements bots.Metrics (messages in, matches, tickets opened, claimed
// and closed, handling time), counts messages out by wrapping the
// channels the outbox sends through, reads the outbox's depth and age at
// each scrape through a function the caller passes, and serves all of it
// at an http.Handler. Every name starts with deskbot_. It keeps its own
// registry (no global state), so tests and several desks in one process
// never share counters.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/deskbot/deskbot/bots"
)

// OutboxStats reports the outbox rows not yet sent and the age of the
// oldest, e.g. a closure over bots.Store.OutboxStats.
type OutboxStats func(ctx context.Context) (pending int, oldest time.Duration, err error)

// Metrics is the desk's counters on a registry of its own.
type Metrics struct {
	reg *prometheus.Registry

	messagesIn    *prometheus.CounterVec
	messagesOut   *prometheus.CounterVec
	sendErrors    *prometheus.CounterVec
	matches       *prometheus.CounterVec
	unknown       prometheus.Counter
	ticketsOpened *prometheus.CounterVec
	ticketsClosed *prometheus.CounterVec
	handling      *prometheus.HistogramVec
	timeToClaim   *prometheus.HistogramVec
}

var _ bots.Metrics = (*Metrics)(nil)

// unknownIntent is what the matcher calls a message it could not place
// (intents.Unknown; not imported, adapters depend on bots only).
const unknownIntent = "unknown"

// New returns the desk's metrics. outbox may be nil: then no outbox
// gauges are exported.
func New(outbox OutboxStats) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		messagesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deskbot_messages_in_total", Help: "Citizens' messages handled, by channel (redeliveries not counted).",
		}, []string{"channel"}),
		messagesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deskbot_messages_out_total", Help: "Messages the outbox delivered, by channel (\"agents\" for the agent channel).",
		}, []string{"channel"}),
		sendErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deskbot_send_errors_total", Help: "Failed delivery attempts (retried by the outbox), by channel.",
		}, []string{"channel"}),
		matches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deskbot_matches_total", Help: "Messages read by the matcher, by intent and action.",
		}, []string{"intent", "action"}),
		unknown: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "deskbot_unknown_total", Help: "Messages the matcher could not place; the unknown rate is this over deskbot_matches_total.",
		}),
		ticketsOpened: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deskbot_tickets_opened_total", Help: "Tickets opened, by action.",
		}, []string{"action"}),
		ticketsClosed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deskbot_tickets_closed_total", Help: "Tickets closed, by action and final state (resolved, withdrawn).",
		}, []string{"action", "state"}),
		handling: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "deskbot_handling_seconds", Help: "Time to handle one citizen message (read, decide, store), by channel.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"channel"}),
		timeToClaim: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "deskbot_time_to_claim_seconds", Help: "Time from a ticket's creation to an agent's claim, by action.",
			Buckets: []float64{5, 15, 30, 60, 120, 180, 300, 600, 1200, 1800, 3600},
		}, []string{"action"}),
	}
	m.reg.MustRegister(m.messagesIn, m.messagesOut, m.sendErrors, m.matches, m.unknown,
		m.ticketsOpened, m.ticketsClosed, m.handling, m.timeToClaim,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if outbox != nil {
		m.reg.MustRegister(newOutboxCollector(outbox))
	}
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Registry is the registry the metrics live on, for a caller that adds
// collectors of its own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// MessageIn implements bots.Metrics.
func (m *Metrics) MessageIn(channel string) { m.messagesIn.WithLabelValues(channel).Inc() }

// Matched implements bots.Metrics.
func (m *Metrics) Matched(intent string, action bots.Action) {
	m.matches.WithLabelValues(intent, string(action)).Inc()
	if intent == unknownIntent {
		m.unknown.Inc()
	}
}

// TicketOpened implements bots.Metrics.
func (m *Metrics) TicketOpened(action bots.Action) {
	m.ticketsOpened.WithLabelValues(string(action)).Inc()
}

// TicketClosed implements bots.Metrics.
func (m *Metrics) TicketClosed(action bots.Action, state bots.TicketState) {
	m.ticketsClosed.WithLabelValues(string(action), string(state)).Inc()
}

// TicketClaimed implements bots.Metrics.
func (m *Metrics) TicketClaimed(action bots.Action, waited time.Duration) {
	m.timeToClaim.WithLabelValues(string(action)).Observe(waited.Seconds())
}

// Handled implements bots.Metrics.
func (m *Metrics) Handled(channel string, took time.Duration) {
	m.handling.WithLabelValues(channel).Observe(took.Seconds())
}
