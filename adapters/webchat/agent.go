package webchat

import (
	"context"
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/deskbot/deskbot/bots"
)

// The agents' side: the inbox page, its JSON API and its live socket.
//
// Frames to the inbox:
//
//	{"type":"event","outbox_id":9,"event":{…bots.AgentEvent…}}    from the engine, through the outbox
//	{"type":"changed","ticket_id":"AB12CD","what":"claimed","by":"张警官"}  an agent acted here

// inboxLimit is how many open tickets the inbox lists.
const inboxLimit = 200

// inboxFrame is a frame to the inbox page.
type inboxFrame struct {
	Type     string           `json:"type"`
	OutboxID int64            `json:"outbox_id,omitempty"`
	Event    *bots.AgentEvent `json:"event,omitempty"`
	TicketID string           `json:"ticket_id,omitempty"`
	What     string           `json:"what,omitempty"`
	By       string           `json:"by,omitempty"`
}

func (s *Server) agentPage(w http.ResponseWriter, r *http.Request) {
	s.servePage(w, r, "agent.html")
}

// signInRequest is the sign-in form.
type signInRequest struct {
	Token string `json:"token"`
	Name  string `json:"name"`
}

// me is who is signed in.
type me struct {
	Name string `json:"name"`
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	var req signInRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	ip := remoteIP(r)
	if s.failures.spent(ip) {
		s.writeError(w, r, bots.Errorf(codeRateLimited, "口令错误次数过多,请稍后再试"))
		return
	}
	// An empty configured token lets nobody in; the comparison takes the
	// same time whatever the guess.
	if s.cfg.AgentToken == "" || subtle.ConstantTimeCompare([]byte(req.Token), []byte(s.cfg.AgentToken)) != 1 {
		s.failures.allow(ip) // count the failure
		s.log.Warn("agent sign-in refused: wrong token", "remote", ip)
		s.writeError(w, r, bots.Errorf(codeUnauthorized, "口令不正确"))
		return
	}
	name, err := agentName(req.Name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.setAgentCookie(w, r, name)
	s.log.Info("agent signed in", "agent", name)
	writeJSON(w, http.StatusOK, me{Name: name})
}

// remoteIP is the client's address without the port (behind a proxy, the
// proxy's: all its clients share one allowance of wrong tokens).
func remoteIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	s.clearAgentCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
}

// agentName checks a display name: 1–32 characters, no control
// characters. It is recorded with every action.
func agentName(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || utf8.RuneCountInString(v) > 32 || strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return "", bots.Errorf(bots.EINVALID, "请填写姓名或工号(不超过32个字)")
	}
	return v, nil
}

// agentOnly passes the signed-in agent's name to h, or answers 401.
func (s *Server) agentOnly(h func(w http.ResponseWriter, r *http.Request, agent string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		agent, ok := s.agentOf(r)
		if !ok {
			s.writeError(w, r, bots.Errorf(codeUnauthorized, "请先登录"))
			return
		}
		h(w, r, agent)
	}
}

func (s *Server) me(w http.ResponseWriter, _ *http.Request, agent string) {
	writeJSON(w, http.StatusOK, me{Name: agent})
}

// inboxView is the inbox's whole state: open tickets, most serious first,
// with their transcripts, and what the page needs to show them.
type inboxView struct {
	Agent   string            `json:"agent"`
	Tickets []bots.TicketView `json:"tickets"`
	Canned  []string          `json:"canned"`
	Notify  map[string]string `json:"notify"`  // notify target -> who, e.g. duty_leader -> 值班领导
	Signals map[string]string `json:"signals"` // signal name -> what it means
}

func (s *Server) inbox(w http.ResponseWriter, r *http.Request, agent string) {
	list, err := s.engine.OpenTickets(r.Context(), inboxLimit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := inboxView{Agent: agent, Tickets: list, Canned: s.handbook.Canned, Notify: s.handbook.Notify, Signals: map[string]string{}}
	if v.Tickets == nil {
		v.Tickets = []bots.TicketView{}
	}
	for _, sg := range s.handbook.Signals {
		v.Signals[sg.Name] = sg.Description
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) ticket(w http.ResponseWriter, r *http.Request, _ string) {
	v, err := s.engine.TicketByID(r.Context(), strings.ToUpper(r.PathValue("id")))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// ticketAnswer is what an agent action returns.
type ticketAnswer struct {
	Ticket *bots.Ticket `json:"ticket"`
}

func (s *Server) claim(w http.ResponseWriter, r *http.Request, agent string) {
	s.act(w, r, agent, "claimed", func(ctx context.Context, id string) (*bots.Ticket, error) {
		return s.engine.Claim(ctx, id, agent)
	})
}

// replyRequest is an agent's reply.
type replyRequest struct {
	Text string `json:"text"`
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request, agent string) {
	var req replyRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.act(w, r, agent, "replied", func(ctx context.Context, id string) (*bots.Ticket, error) {
		return s.engine.Reply(ctx, id, agent, req.Text)
	})
}

func (s *Server) resolve(w http.ResponseWriter, r *http.Request, agent string) {
	s.act(w, r, agent, "resolved", func(ctx context.Context, id string) (*bots.Ticket, error) {
		return s.engine.Resolve(ctx, id, agent)
	})
}

// act runs one agent action on the ticket in the path and tells the open
// inboxes, so every agent's list changes without a reload. (The engine
// sends no agent event for an agent's own actions.)
func (s *Server) act(w http.ResponseWriter, r *http.Request, agent, what string, fn func(ctx context.Context, id string) (*bots.Ticket, error)) {
	tk, err := fn(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.Info("agent action", "agent", agent, "action", what, "ticket", tk.ID)
	s.agents.push(struct{}{}, outFrame{data: mustJSON(inboxFrame{Type: "changed", TicketID: tk.ID, What: what, By: agent})})
	writeJSON(w, http.StatusOK, ticketAnswer{Ticket: tk})
}

// agentSocket is the inbox's live feed: events from the engine and
// changes made by other agents. The page reads the tickets through the
// API; the socket only says when to.
func (s *Server) agentSocket(w http.ResponseWriter, r *http.Request) {
	agent, ok := s.agentOf(r)
	if !ok {
		s.writeError(w, r, bots.Errorf(codeUnauthorized, "请先登录"))
		return
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.cfg.AllowedOrigins})
	if err != nil {
		s.log.Info("inbox socket refused", "origin", r.Header.Get("Origin"), "err", err)
		return
	}
	conn.SetReadLimit(1 << 10)
	sock := newSocket(conn)
	s.agents.add(struct{}{}, sock)
	defer s.agents.remove(struct{}{}, sock)
	s.log.Debug("inbox connected", "agent", agent)
	// The page sends nothing; CloseRead answers pings and notices when the
	// page goes.
	ctx := conn.CloseRead(context.Background())
	written := make(chan struct{})
	go func() { defer close(written); sock.writeLoop() }()
	select {
	case <-ctx.Done():
		sock.close(websocket.StatusNormalClosure, "")
	case <-written:
	}
	<-written
}

// DeliverToAgents implements bots.AgentChannel: it pushes the event to
// every open inbox. With none open it returns nil: the ticket stays in
// the engine's open tickets, which an inbox lists when it opens.
func (s *Server) DeliverToAgents(_ context.Context, d bots.Delivery, e bots.AgentEvent) error {
	s.agents.push(struct{}{}, outFrame{data: mustJSON(inboxFrame{Type: "event", OutboxID: d.OutboxID, Event: &e})})
	return nil
}
