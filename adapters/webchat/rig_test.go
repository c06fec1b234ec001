package webchat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/deskbot/deskbot/adapters/webchat"
	"github.com/deskbot/deskbot/bots"
	"github.com/deskbot/deskbot/bots/botstest"
)

// The brain (handbook and matcher) is immutable: build it once per test
// binary, as the engine's tests do.
var (
	brainOnce sync.Once
	brain     botstest.Brain
)

const token = "test-token-7f3a"

// rig is the real engine on an in-memory store, the web desk in front of
// it on an httptest server, and the real outbox worker sending through
// the web desk, woken by the engine's OnEnqueue.
type rig struct {
	t      *testing.T
	store  *botstest.MemStore
	engine *bots.Engine
	web    *webchat.Server
	srv    *httptest.Server
}

type rigOption func(*webchat.Config, *[]webchat.Option, *bots.Engine)

// withConfig adjusts the web desk's configuration.
func withConfig(f func(*webchat.Config)) rigOption {
	return func(c *webchat.Config, _ *[]webchat.Option, _ *bots.Engine) { f(c) }
}

// withStore puts a wrapper around the in-memory store.
func withStore(wrap func(bots.Store) bots.Store) rigOption {
	return func(_ *webchat.Config, _ *[]webchat.Option, e *bots.Engine) { e.Store = wrap(e.Store) }
}

// withOption passes an option to webchat.New.
func withOption(o webchat.Option) rigOption {
	return func(_ *webchat.Config, opts *[]webchat.Option, _ *bots.Engine) { *opts = append(*opts, o) }
}

// realClock runs everything on time.Now (browser tests, where the pages
// show times).
func realClock() rigOption {
	return func(c *webchat.Config, _ *[]webchat.Option, e *bots.Engine) { c.Now, e.Now = time.Now, time.Now }
}

func newRig(t *testing.T, opts ...rigOption) *rig {
	t.Helper()
	brainOnce.Do(func() { brain = botstest.LoadBrain(t) })
	mem := botstest.NewMemStore()
	clock := botstest.NewClock(time.Date(2026, 11, 27, 9, 0, 0, 0, time.FixedZone("CST", 8*3600)))
	engine := &bots.Engine{Store: mem, Matcher: brain.Matcher, Handbook: brain.Handbook, Now: clock.Now}
	cfg := webchat.Config{AgentToken: token, Now: clock.Now}
	var wopts []webchat.Option
	for _, o := range opts {
		o(&cfg, &wopts, engine)
	}
	web := webchat.New(cfg, engine, brain.Handbook, wopts...)
	ob := &bots.Outbox{Store: mem, Citizens: map[string]bots.CitizenChannel{webchat.Channel: web}, Agents: web, Worker: "test", Now: engine.Now}
	engine.OnEnqueue = ob.Kick
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ob.Run(ctx) }()
	srv := httptest.NewServer(web.Handler())
	t.Cleanup(func() {
		srv.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("outbox: %v", err)
		}
	})
	return &rig{t: t, store: mem, engine: engine, web: web, srv: srv}
}

// frame is any frame the server sends, chat or inbox.
type frame struct {
	Type        string            `json:"type"`
	History     []json.RawMessage `json:"history"`
	OutboxID    int64             `json:"outbox_id"`
	Text        string            `json:"text"`
	Choices     []bots.Choice     `json:"choices"`
	AskLocation bool              `json:"ask_location"`
	FromAgent   string            `json:"from_agent"`
	TicketID    string            `json:"ticket_id"`
	ID          string            `json:"id"`
	Code        string            `json:"code"`
	Event       *bots.AgentEvent  `json:"event"`
	What        string            `json:"what"`
	By          string            `json:"by"`
}

type historyLine struct {
	From    string        `json:"from"`
	Agent   string        `json:"agent"`
	Text    string        `json:"text"`
	Choices []bots.Choice `json:"choices"`
}

func (f frame) lines(t *testing.T) []historyLine {
	t.Helper()
	var out []historyLine
	for _, raw := range f.History {
		var l historyLine
		if err := json.Unmarshal(raw, &l); err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

// browser is a citizen's browser: a cookie jar, so a second socket is the
// same session.
type browser struct {
	t   *testing.T
	r   *rig
	jar http.CookieJar
}

func (r *rig) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		r.t.Fatal(err)
	}
	return &browser{t: r.t, r: r, jar: jar}
}

// sock is an open chat or inbox WebSocket.
type sock struct {
	t *testing.T
	c *websocket.Conn
}

func wsURL(base, path string) string { return "ws" + strings.TrimPrefix(base, "http") + path }

func dial(t *testing.T, url string, jar http.CookieJar, header http.Header) (*sock, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: &http.Client{Jar: jar}, HTTPHeader: header})
	if err != nil {
		return nil, resp, err
	}
	s := &sock{t: t, c: c}
	t.Cleanup(func() { c.CloseNow() })
	return s, resp, nil
}

// open connects the chat socket and returns it with the hello frame.
func (b *browser) open() (*sock, frame) {
	b.t.Helper()
	s, _, err := dial(b.t, wsURL(b.r.srv.URL, "/ws"), b.jar, nil)
	if err != nil {
		b.t.Fatalf("dial chat: %v", err)
	}
	hello := s.read()
	if hello.Type != "hello" {
		b.t.Fatalf("first frame %+v, want hello", hello)
	}
	return s, hello
}

func (s *sock) read() frame {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, data, err := s.c.Read(ctx)
	if err != nil {
		s.t.Fatalf("read: %v", err)
	}
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		s.t.Fatalf("frame %s: %v", data, err)
	}
	return f
}

// until reads frames until one satisfies done, and returns all read.
func (s *sock) until(done func(frame) bool) []frame {
	s.t.Helper()
	var got []frame
	for {
		f := s.read()
		got = append(got, f)
		if done(f) {
			return got
		}
	}
}

func (s *sock) sendRaw(v any) {
	s.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.c.Write(ctx, websocket.MessageText, b); err != nil {
		s.t.Fatalf("write: %v", err)
	}
}

// say sends a message and returns the frames up to and including the
// desk's message that contains want (the ack may come before or after).
func (s *sock) say(id, text, want string) []frame {
	s.t.Helper()
	s.sendRaw(map[string]string{"type": "message", "id": id, "text": text})
	acked, found := false, false
	return s.until(func(f frame) bool {
		switch {
		case f.Type == "ack" && f.ID == id:
			acked = true
		case f.Type == "error":
			s.t.Fatalf("error frame for %q: %+v", text, f)
		case f.Type == "message" && strings.Contains(f.Text, want):
			found = true
		}
		return acked && found
	})
}

func messages(frames []frame) []frame {
	var out []frame
	for _, f := range frames {
		if f.Type == "message" {
			out = append(out, f)
		}
	}
	return out
}

// agent is a signed-in agent's HTTP client.
type agent struct {
	t    *testing.T
	r    *rig
	name string
	c    *http.Client
}

func (r *rig) signIn(name string) *agent {
	r.t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		r.t.Fatal(err)
	}
	a := &agent{t: r.t, r: r, name: name, c: &http.Client{Jar: jar}}
	if res := a.post("/agent/api/signin", map[string]string{"token": token, "name": name}); res.StatusCode != http.StatusOK {
		r.t.Fatalf("sign in: %s", res.Status)
	}
	return a
}

func (r *rig) anonymous() *agent {
	jar, _ := cookiejar.New(nil)
	return &agent{t: r.t, r: r, c: &http.Client{Jar: jar}}
}

// post sends JSON with the CSRF header and returns the response, its body
// read into res.Body's place (see decode).
func (a *agent) post(path string, body any) *http.Response {
	a.t.Helper()
	return a.do(http.MethodPost, path, body, http.Header{"X-Requested-With": {"deskbot"}})
}

func (a *agent) get(path string) *http.Response {
	a.t.Helper()
	return a.do(http.MethodGet, path, nil, nil)
}

func (a *agent) do(method, path string, body any, h http.Header) *http.Response {
	a.t.Helper()
	var buf bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&buf).Encode(body); err != nil {
			a.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, a.r.srv.URL+path, &buf)
	if err != nil {
		a.t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := a.c.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() { res.Body.Close() })
	return res
}

func decode[T any](t *testing.T, res *http.Response) T {
	t.Helper()
	var v T
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", res.Request.URL.Path, err)
	}
	return v
}
