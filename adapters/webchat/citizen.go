package webchat

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/deskbot/deskbot/bots"
)

// The citizen's side: the chat page, its session cookie and its socket.
//
// Frames from the page:
//
//	{"type":"message","id":"<client id>","text":"…"}
//	{"type":"location","id":"<client id>","lat":31.2,"lon":121.4}
//
// Frames to the page:
//
//	{"type":"hello","history":[{"from":"bot","text":"…","at":"…"}…]}
//	{"type":"message","outbox_id":7,"text":"…","choices":[…],"ask_location":true,"from_agent":"…","ticket_id":"…"}
//	{"type":"ack","id":"<client id>"}                         the message is stored and handled
//	{"type":"error","id":"<client id>","code":"rate_limited","text":"…"}

const sessionCookie = "deskbot_chat"

// maxSocketsPerSession bounds the chat pages one session keeps open (a
// phone and a laptop, a few tabs).
const maxSocketsPerSession = 8

// clientFrame is a frame from the chat page.
type clientFrame struct {
	Type string   `json:"type"`
	ID   string   `json:"id"`
	Text string   `json:"text"`
	Lat  *float64 `json:"lat"`
	Lon  *float64 `json:"lon"`
}

// historyLine is a line of the conversation shown again after a reload.
type historyLine struct {
	From        string        `json:"from"`            // citizen, bot or agent
	Agent       string        `json:"agent,omitempty"` // the agent's name
	Text        string        `json:"text"`
	At          time.Time     `json:"at"`
	Choices     []bots.Choice `json:"choices,omitempty"` // offered again if this is the last line
	AskLocation bool          `json:"ask_location,omitempty"`
	Located     bool          `json:"located,omitempty"` // the citizen shared a position here
}

// chatFrame is a frame to the chat page.
type chatFrame struct {
	Type        string        `json:"type"`
	History     []historyLine `json:"history,omitempty"`
	OutboxID    int64         `json:"outbox_id,omitempty"`
	Text        string        `json:"text,omitempty"`
	Choices     []bots.Choice `json:"choices,omitempty"`
	AskLocation bool          `json:"ask_location,omitempty"`
	FromAgent   string        `json:"from_agent,omitempty"`
	TicketID    string        `json:"ticket_id,omitempty"`
	ID          string        `json:"id,omitempty"`
	Code        string        `json:"code,omitempty"`
}

func (s *Server) chatPage(w http.ResponseWriter, r *http.Request) {
	s.session(w, r)
	s.servePage(w, r, "index.html")
}

// session returns the citizen's session id, making one (and setting the
// cookie on w) when the request has none. The id is 128 random bits: it
// is the citizen's identity on this channel, so it is never guessable.
func (s *Server) session(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(sessionCookie); err == nil && validSessionID(c.Value) {
		return c.Value
	}
	id := rand.Text()
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: id, Path: "/", MaxAge: 30 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil,
	})
	return id
}

// validSessionID accepts what rand.Text makes: 26 base32 characters.
func validSessionID(v string) bool {
	if len(v) != 26 {
		return false
	}
	for _, c := range v {
		if !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// validClientID accepts the page's message ids: 1–64 letters, digits,
// '-' and '_'.
func validClientID(v string) bool {
	if len(v) == 0 || len(v) > 64 {
		return false
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// citizenSocket serves one chat page's WebSocket: it sends the history,
// then handles the page's messages one by one while the outbox pushes the
// desk's answers.
func (s *Server) citizenSocket(w http.ResponseWriter, r *http.Request) {
	sid := s.session(w, r) // a new cookie rides on the upgrade response
	ip := remoteIP(r)
	if s.citizens.count(sid) >= maxSocketsPerSession {
		s.writeError(w, r, bots.Errorf(codeRateLimited, "too many open chat pages"))
		return
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.cfg.AllowedOrigins})
	if err != nil {
		s.log.Info("chat socket refused", "origin", r.Header.Get("Origin"), "err", err)
		return
	}
	conn.SetReadLimit(s.cfg.MaxMessageBytes)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sock := newSocket(conn)
	citizen := bots.CitizenID{Channel: Channel, ExternalID: sid}

	// Registered before the history is read: a message committed in
	// between is pushed, not lost.
	s.citizens.add(sid, sock)
	defer s.citizens.remove(sid, sock)
	lines, err := s.engine.History(ctx, citizen)
	if err != nil {
		s.log.Error("chat history", "err", err)
		conn.Close(websocket.StatusInternalError, "history unavailable")
		return
	}
	hello, expected := historyFrame(lines)
	sock.expect(expected)
	if err := sock.write(mustJSON(hello)); err != nil {
		conn.CloseNow()
		return
	}
	written := make(chan struct{})
	go func() { defer close(written); sock.writeLoop() }()
	defer func() { <-written }()
	defer sock.close(websocket.StatusNormalClosure, "")

	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			// Includes a frame over the limit: the library has closed the
			// socket with status 1009.
			return
		}
		if typ != websocket.MessageText {
			sock.close(websocket.StatusUnsupportedData, "text frames only")
			return
		}
		s.citizenFrame(ctx, sock, citizen, ip, data)
	}
}

// citizenFrame handles one frame from the page and answers with an ack
// or an error.
func (s *Server) citizenFrame(ctx context.Context, sock *socket, citizen bots.CitizenID, ip string, data []byte) {
	var f clientFrame
	if err := json.Unmarshal(data, &f); err != nil || !validClientID(f.ID) || (f.Type != "message" && f.Type != "location") {
		sock.push(outFrame{data: mustJSON(chatFrame{Type: "error", ID: f.ID, Code: bots.EINVALID})})
		return
	}
	sock.stopExpecting()
	if !s.limits.allow(citizen.ExternalID) || !s.ipLimits.allow(ip) {
		sock.push(outFrame{data: mustJSON(chatFrame{Type: "error", ID: f.ID, Code: codeRateLimited, Text: s.throttledText()})})
		return
	}
	// The engine recognises a redelivery by (channel, external id); the
	// page chooses the id, so it is scoped to the session: one page cannot
	// make another's message look like a redelivery.
	in := bots.Inbound{Citizen: citizen, ExternalID: citizen.ExternalID + "/" + f.ID, Text: f.Text}
	if f.Type == "location" {
		loc, err := position(f)
		if err != nil {
			sock.push(outFrame{data: mustJSON(chatFrame{Type: "error", ID: f.ID, Code: bots.ErrorCode(err)})})
			return
		}
		// No text: words beside a position would be read as a new report.
		in.Text, in.Location = "", loc
	} else if strings.TrimSpace(f.Text) == "" {
		sock.push(outFrame{data: mustJSON(chatFrame{Type: "error", ID: f.ID, Code: bots.EINVALID})})
		return
	}
	if err := s.engine.Handle(ctx, in); err != nil {
		if !errors.Is(err, context.Canceled) {
			s.log.Error("chat message not handled", "err", err)
		}
		sock.push(outFrame{data: mustJSON(chatFrame{Type: "error", ID: f.ID, Code: bots.ErrorCode(err)})})
		return
	}
	sock.push(outFrame{data: mustJSON(chatFrame{Type: "ack", ID: f.ID})})
}

// position reads a shared position from a location frame.
func position(f clientFrame) (*bots.Location, error) {
	if f.Lat == nil || f.Lon == nil || math.IsNaN(*f.Lat) || math.IsNaN(*f.Lon) ||
		math.Abs(*f.Lat) > 90 || math.Abs(*f.Lon) > 180 {
		return nil, bots.Errorf(bots.EINVALID, "a location needs lat in [-90, 90] and lon in [-180, 180]")
	}
	return &bots.Location{Lat: *f.Lat, Lon: *f.Lon, HasCoords: true}, nil
}

// throttledText is the handbook's polite "please wait" for a citizen
// over the rate limit.
func (s *Server) throttledText() string {
	if t := s.handbook.Text("throttled"); t != "" {
		return t
	}
	return "请稍后再发。"
}

// historyFrame turns the transcript into the hello frame, and returns the
// desk's lines after the citizen's last message: the ones the outbox may
// still be pushing (see socket.expect).
func historyFrame(lines []bots.Line) (chatFrame, []outFrame) {
	hello := chatFrame{Type: "hello", History: make([]historyLine, 0, len(lines))}
	var tail []outFrame
	for _, l := range lines {
		h := historyLine{From: l.From, Text: l.Text, At: l.At, Choices: l.Choices, AskLocation: l.AskLocation, Located: l.Location != nil}
		if name, ok := strings.CutPrefix(l.From, "agent:"); ok {
			h.From, h.Agent = "agent", name
		}
		hello.History = append(hello.History, h)
		if l.From == "citizen" {
			tail = tail[:0]
		} else {
			tail = append(tail, outFrame{from: l.From, text: l.Text})
		}
	}
	return hello, tail
}

// SendToCitizen implements bots.CitizenChannel: it pushes the message to
// every open chat page of the citizen's session. With none open it returns
// nil: the message is stored, and the page shows it from the history when
// it connects.
func (s *Server) SendToCitizen(_ context.Context, d bots.Delivery, m bots.Outbound) error {
	if m.Citizen.Channel != Channel {
		return &bots.PermanentError{Err: errors.New("webchat: message for channel " + m.Citizen.Channel)}
	}
	from := "bot"
	if m.FromAgent != "" {
		from = "agent:" + m.FromAgent
	}
	f := chatFrame{Type: "message", OutboxID: d.OutboxID, Text: m.Text, Choices: m.Choices,
		AskLocation: m.AskLocation, FromAgent: m.FromAgent, TicketID: m.TicketID}
	s.citizens.push(m.Citizen.ExternalID, outFrame{data: mustJSON(f), from: from, text: m.Text})
	return nil
}

// mustJSON marshals a frame of this package's own types, which cannot
// fail.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
