package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// outboxCollector asks for the outbox's depth and age at each scrape, so
// the numbers are the database's, not a guess of this process.
type outboxCollector struct {
	stats   OutboxStats
	pending *prometheus.Desc
	oldest  *prometheus.Desc
}

// scrapeTimeout bounds the database query a scrape makes.
const scrapeTimeout = 2 * time.Second

func newOutboxCollector(stats OutboxStats) *outboxCollector {
	return &outboxCollector{
		stats:   stats,
		pending: prometheus.NewDesc("deskbot_outbox_pending", "Outbox rows not yet sent.", nil, nil),
		oldest:  prometheus.NewDesc("deskbot_outbox_oldest_age_seconds", "Age of the oldest outbox row not yet sent (0 when none).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pending
	ch <- c.oldest
}

// Collect implements prometheus.Collector. A failing query is reported
// as a scrape error for these two metrics; the others are still served.
func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	n, age, err := c.stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.pending, err)
		ch <- prometheus.NewInvalidMetric(c.oldest, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age.Seconds())
}
