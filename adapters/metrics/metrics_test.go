package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/deskbot/deskbot/adapters/metrics"
	"github.com/deskbot/deskbot/bots"
	"github.com/deskbot/deskbot/bots/botstest"
)

func scrape(t *testing.T, m *metrics.Metrics) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Code, rec.Body.String()
}

func mustHave(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
}

// desk is the real engine and outbox on the in-memory store, counting
// into m.
func desk(t *testing.T, m *metrics.Metrics) *botstest.Desk {
	t.Helper()
	d := botstest.NewDesk(t, botstest.LoadBrain(t))
	d.Engine.Metrics = m
	d.Outbox.Citizens = map[string]bots.CitizenChannel{"test": m.Citizens("test", d.Citizens)}
	d.Outbox.Agents = m.Agents(d.Agents)
	return d
}

func TestTheDeskIsCounted(t *testing.T) {
	m := metrics.New(nil)
	d := desk(t, m)
	citizen := botstest.Citizen("alice")
	d.Say(citizen, "邻居跟我爸在楼道里打起来了")
	d.Say(citizen, "幸福小区3号楼2单元")
	tickets := d.Store.Tickets()
	if len(tickets) != 1 {
		t.Fatalf("%d tickets", len(tickets))
	}
	d.Clock.Advance(90 * time.Second)
	ctx := context.Background()
	if _, err := d.Engine.Claim(ctx, tickets[0].ID, "张警官"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Engine.Resolve(ctx, tickets[0].ID, "张警官"); err != nil {
		t.Fatal(err)
	}
	d.Flush()

	code, body := scrape(t, m)
	if code != http.StatusOK {
		t.Fatalf("scrape: %d", code)
	}
	mustHave(t, body,
		`deskbot_messages_in_total{channel="test"} 2`,
		`deskbot_messages_out_total{channel="agents"} 3`, // the new ticket, claimed, resolved
		`deskbot_matches_total{action="dispatch",intent="dispute.neighbor"}`,
		`deskbot_tickets_opened_total{action="dispatch"} 1`,
		`deskbot_tickets_closed_total{action="dispatch",state="resolved"} 1`,
		`deskbot_time_to_claim_seconds_sum{action="dispatch"} 90`,
		`deskbot_time_to_claim_seconds_count{action="dispatch"} 1`,
		`deskbot_handling_seconds_count{channel="test"} 2`,
		`go_goroutines`,
	)
	if !strings.Contains(body, `deskbot_messages_out_total{channel="test"} `) {
		t.Error("messages to the citizen are not counted")
	}
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "# HELP ") && !strings.HasPrefix(line, "# HELP deskbot_") && !strings.HasPrefix(line, "# HELP go_") && !strings.HasPrefix(line, "# HELP process_") {
			t.Errorf("a metric outside deskbot_ (and the runtime's): %s", line)
		}
	}
}

func TestUnknownMessagesAreCounted(t *testing.T) {
	m := metrics.New(nil)
	m.Matched("unknown", "self_help")
	m.Matched("noise.neighbor", "self_help")
	_, body := scrape(t, m)
	mustHave(t, body, "deskbot_unknown_total 1", `deskbot_matches_total{action="self_help",intent="unknown"} 1`)
}

func TestFailedSendsAreCountedApart(t *testing.T) {
	m := metrics.New(nil)
	boom := errors.New("telegram is down")
	ch := m.Citizens("telegram", citizenFunc(func() error { return boom }))
	if err := ch.SendToCitizen(context.Background(), bots.Delivery{OutboxID: 1}, bots.Outbound{}); !errors.Is(err, boom) {
		t.Fatalf("the wrapper changed the error: %v", err)
	}
	_, body := scrape(t, m)
	mustHave(t, body, `deskbot_send_errors_total{channel="telegram"} 1`)
	if strings.Contains(body, `deskbot_messages_out_total{channel="telegram"}`) {
		t.Error("a failed send counted as sent")
	}
}

type citizenFunc func() error

func (f citizenFunc) SendToCitizen(context.Context, bots.Delivery, bots.Outbound) error { return f() }

func TestOutboxDepthAndAgeAreReadAtScrape(t *testing.T) {
	calls := 0
	m := metrics.New(func(context.Context) (int, time.Duration, error) {
		calls++
		return 3, 90 * time.Second, nil
	})
	_, body := scrape(t, m)
	mustHave(t, body, "deskbot_outbox_pending 3", "deskbot_outbox_oldest_age_seconds 90")
	if calls != 1 {
		t.Errorf("stats read %d times per scrape", calls)
	}

	down := metrics.New(func(context.Context) (int, time.Duration, error) { return 0, 0, errors.New("database down") })
	down.MessageIn("webchat")
	code, body := scrape(t, down)
	if code != http.StatusOK || !strings.Contains(body, `deskbot_messages_in_total{channel="webchat"} 1`) || strings.Contains(body, "deskbot_outbox_pending ") {
		t.Errorf("with the database down: %d\n%s", code, body)
	}
}

func TestEachMetricsHasItsOwnRegistry(t *testing.T) {
	a, b := metrics.New(nil), metrics.New(nil) // a global registry would panic here
	a.MessageIn("webchat")
	if _, body := scrape(t, b); strings.Contains(body, `deskbot_messages_in_total{channel="webchat"}`) {
		t.Error("counts leak between two Metrics")
	}
}
