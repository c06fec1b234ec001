package webchat_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/deskbot/deskbot/knowledge/shared"
)

// The browser tests drive the real pages in headless Chromium against the
// real engine, the in-memory store and the real outbox worker.

const chromiumPath = "/usr/bin/chromium"

// shotsDir is where the screenshots are copied for people to look at.
const shotsDir = "/tmp/deskbot-shots"

// headless starts Chromium with a fresh profile and returns the context
// of its first tab.
func headless(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		shared.Missing(t, "Chromium is not installed at "+chromiumPath+" (apt-get install -y chromium)")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 900),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser and lives as long as ctx: no timeout
	// on it (see chromedp.Run).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// page runs steps on one tab with a deadline and names the tab in errors.
type page struct {
	t    *testing.T
	name string
	ctx  context.Context
	dir  string
}

// front brings the tab to the front: a background tab may not paint, so
// its screenshots and animation-frame polls would wait.
var front = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	_, err := cdp.Call(ctx, t, cdppage.BringToFront, cdp.Empty{})
	return err
})

func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	for i, step := range append([]chromedp.Action[chromedp.Void]{front}, steps...) {
		if _, err := chromedp.Run(ctx, step); err != nil {
			p.t.Fatalf("%s: %s (step %d): %v", p.name, what, i, err)
		}
	}
}

func (p *page) text(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("%s: text of %s: %v", p.name, sel, err)
	}
	return s
}

func (p *page) eval(expr string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		p.t.Fatalf("%s: %s: %v", p.name, expr, err)
	}
	return s
}

// shot saves a full screenshot under the test's folder and in shotsDir.
func (p *page) shot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, front); err != nil {
		p.t.Fatalf("%s: bring to front: %v", p.name, err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("%s: screenshot: %v", p.name, err)
	}
	if err := os.WriteFile(filepath.Join(p.dir, name), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	if err := os.MkdirAll(shotsDir, 0o755); err == nil {
		_ = os.WriteFile(filepath.Join(shotsDir, name), png, 0o644)
	}
}

// until waits for a JavaScript condition (polled on animation frames, no
// sleeping).
func until(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool]("!!("+expr+")")(ctx, t)
		return chromedp.Void{}, err
	}
}

// has is a condition: some element matching sel has want in its text.
func has(sel, want string) string {
	return fmt.Sprintf(`[...document.querySelectorAll(%s)].some(e => e.textContent.includes(%s))`, strconv.Quote(sel), strconv.Quote(want))
}

func viewport(w, h int64, mobile bool) chromedp.Action[chromedp.Void] {
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(2)}
	if mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	return chromedp.EmulateViewport(w, h, opts...)
}

func grant(t *testing.T, ctx context.Context, origin string, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: n}, Setting: "granted", Origin: origin,
		}); err != nil {
			t.Fatalf("grant %s: %v", n, err)
		}
	}
}

func TestBrowserCitizenAndAgentHandleACase(t *testing.T) {
	r := newRig(t, realClock())
	ctx := headless(t)
	dir := t.TempDir()
	grant(t, ctx, r.srv.URL, "geolocation", "notifications")
	lat, lon, acc := 31.2304, 121.4737, 20.0
	if _, err := chromedp.Call(ctx, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{Latitude: &lat, Longitude: &lon, Accuracy: &acc}); err != nil {
		t.Fatal(err)
	}
	citizen := &page{t: t, name: "citizen", ctx: ctx, dir: dir}
	agentCtx, closeAgent := chromedp.NewContext(ctx) // a second tab
	defer closeAgent()
	// The tab lives as long as the context of its first Run: no timeout.
	if err := chromedp.Do(agentCtx); err != nil {
		t.Fatal(err)
	}
	desk := &page{t: t, name: "agent", ctx: agentCtx, dir: dir}

	// A citizen reports a fight, is asked where, and gets a ticket id.
	citizen.do("open the chat",
		viewport(390, 844, true),
		chromedp.Navigate(r.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#welcome")),
		until(`document.getElementById('status').dataset.state === 'online'`),
	)
	citizen.shot("citizen-0-welcome.png")
	citizen.do("report a fight",
		chromedp.SendKeys(chromedp.CSS("#text"), "邻居跟我爸在楼道里打起来了"),
		chromedp.Click(chromedp.CSS("#send")),
		until(has(".row.bot .bubble", "具体地点")),
		chromedp.WaitVisible(chromedp.CSS(".choices.live .choice.locate")),
	)
	citizen.do("say where",
		chromedp.SendKeys(chromedp.CSS("#text"), "幸福小区3号楼2单元"),
		chromedp.Click(chromedp.CSS("#send")),
		chromedp.WaitVisible(chromedp.CSS("#ticket-id")),
		until(has(".row.bot .bubble", "事件编号")),
	)
	id := citizen.text("#ticket-id")
	if len(id) != 6 {
		t.Fatalf("ticket id shown = %q", id)
	}
	citizen.shot("citizen-1-ticket.png")

	// An agent signs in, sees the ticket with its facts, claims it and
	// replies.
	desk.do("open the inbox",
		viewport(1366, 900, false),
		chromedp.Navigate(r.srv.URL+"/agent"),
		chromedp.WaitVisible(chromedp.CSS("#signin-form")),
	)
	desk.shot("agent-0-signin.png")
	card := fmt.Sprintf(`#tickets li[data-id=%q]`, id)
	v, err := r.engine.TicketByID(context.Background(), id)
	if err != nil || v.Ticket.Rule == "" {
		t.Fatalf("ticket %s: %+v, %v", id, v.Ticket, err)
	}
	desk.do("sign in and open the ticket",
		chromedp.SendKeys(chromedp.CSS("#name"), "张警官"),
		chromedp.SendKeys(chromedp.CSS("#token"), token),
		chromedp.Click(chromedp.CSS("#signin-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(card)),
		until(`document.getElementById('status').dataset.state === 'online'`),
		chromedp.Click(chromedp.CSS(card)),
		chromedp.WaitVisible(chromedp.CSS("#view")),
		until(has("#d-facts dd", "幸福小区3号楼2单元")),
		until(has("#d-facts dd", v.Ticket.Rule)), // the rule that fired
		until(has("#d-transcript .line.citizen", "打起来了")),
		until(`document.querySelectorAll('#canned .chip').length > 0`),
	)
	const reply = "您好,民警已在赶往现场的路上,请注意安全。"
	desk.do("claim and reply",
		chromedp.Click(chromedp.CSS("#claim")),
		until(has("#d-state", "已接手 · 张警官")),
		chromedp.SendKeys(chromedp.CSS("#reply-text"), reply),
		chromedp.Click(chromedp.CSS("#reply")),
		until(has("#d-transcript .line.agent", reply)),
	)
	desk.shot("agent-1-claimed.png")

	// The reply appears on the citizen's page.
	citizen.do("see the agent's reply",
		until(has(".row.agent .bubble", reply)),
		until(has(".row.agent .who", "张警官")),
	)
	citizen.shot("citizen-2-reply.png")

	// The agent resolves it (two clicks) and the citizen is asked for a
	// rating with buttons 1–5.
	desk.do("resolve",
		chromedp.Click(chromedp.CSS("#resolve")),
		until(`document.getElementById('resolve').classList.contains('armed')`),
		chromedp.Click(chromedp.CSS("#resolve")),
		until(fmt.Sprintf(`!document.querySelector(%q)`, card)),
	)
	citizen.do("get the rating question",
		until(has(".row.bot .bubble", "打个分")),
		chromedp.WaitVisible(chromedp.CSS(".choices.live .choice")),
	)
	if got := citizen.eval(`[...document.querySelectorAll('.choices.live .choice')].map(b => b.textContent).join(',')`); got != "1,2,3,4,5" {
		t.Errorf("rating buttons = %q", got)
	}
	citizen.shot("citizen-3-rating.png")
	citizen.do("rate 5",
		chromedp.Click(chromedp.CSS(".choices.live .choice:nth-child(5)")),
		until(has(".row.bot .bubble", "谢谢您的评价")),
	)
	if got := r.store.Rating(id); got != 5 {
		t.Errorf("rating stored = %d, want 5", got)
	}

	// An urgent report raises the inbox's alert.
	citizen.do("report someone in the river",
		chromedp.SendKeys(chromedp.CSS("#text"), "有人掉河里了"),
		chromedp.Click(chromedp.CSS("#send")),
		until(has(".row.bot .bubble", "119")),
		chromedp.WaitVisible(chromedp.CSS(".choices.live .choice.locate")),
	)
	desk.do("see the urgent alert",
		chromedp.WaitVisible(chromedp.CSS("#alert")),
		until(`document.body.classList.contains('alarm')`),
		until(has("#alert-text", "紧急事件")),
		until(`document.querySelector('#tickets li.ticket.urgent.unclaimed') !== null`),
		until(`document.title.startsWith('(1)')`), // the reminder is on
	)
	desk.shot("agent-2-urgent.png")

	// The citizen shares the position; the agent sees it on the ticket.
	citizen.do("share the position",
		chromedp.Click(chromedp.CSS(".choices.live .choice.locate")),
		until(has(".row.citizen .bubble", "31.23040, 121.47370")),
		until(`document.querySelector('.row.citizen:last-of-type.sending') === null`),
	)
	citizen.shot("citizen-4-urgent.png")
	desk.do("open the urgent ticket and claim it",
		chromedp.Click(chromedp.CSS("#alert-go")),
		until(has("#d-facts dd", "31.23040, 121.47370")),
		until(has("#d-facts dd", "值班领导")),
		chromedp.Click(chromedp.CSS("#claim")),
		chromedp.WaitNotVisible(chromedp.CSS("#alert")),
	)

	// Citizen text is shown as text, never run as HTML, on both pages.
	const evil = `<img src=x onerror="document.title='pwned'">看这里`
	citizen.do("send markup",
		chromedp.SendKeys(chromedp.CSS("#text"), evil),
		chromedp.Click(chromedp.CSS("#send")),
		until(has(".row.citizen .bubble", evil)),
	)
	desk.do("see the markup as text",
		until(has("#d-transcript .line.citizen", evil)),
	)
	for _, p := range []*page{citizen, desk} {
		if got := p.eval(`document.title + '|' + document.querySelectorAll('.log img:not([src^="/static"]), .transcript img').length`); strings.Contains(got, "pwned") || !strings.HasSuffix(got, "|0") {
			t.Errorf("%s page ran citizen markup: %q", p.name, got)
		}
	}
	desk.shot("agent-3-transcript.png")
	t.Logf("screenshots in %s and %s", dir, shotsDir)
}

func TestBrowserInboxOnAPhone(t *testing.T) {
	r := newRig(t, realClock())
	ctx := headless(t)
	s, _ := r.browser().open()
	s.say("m1", "有人掉河里了", "119")
	desk := &page{t: t, name: "agent", ctx: ctx, dir: t.TempDir()}
	desk.do("sign in on a phone",
		viewport(390, 844, true),
		chromedp.Navigate(r.srv.URL+"/agent"),
		chromedp.WaitVisible(chromedp.CSS("#signin-form")),
		chromedp.SendKeys(chromedp.CSS("#name"), "王警官"),
		chromedp.SendKeys(chromedp.CSS("#token"), token),
		chromedp.Click(chromedp.CSS("#signin-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#alert")),
		chromedp.WaitVisible(chromedp.CSS("#tickets li.ticket.urgent")),
	)
	desk.shot("agent-phone-0-list.png")
	desk.do("open the ticket",
		chromedp.Click(chromedp.CSS("#tickets li.ticket.urgent")),
		chromedp.WaitVisible(chromedp.CSS("#view")),
		chromedp.WaitVisible(chromedp.CSS("#back")),
	)
	desk.shot("agent-phone-1-ticket.png")
}
