package webchat

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/deskbot/deskbot/bots"
	"github.com/deskbot/deskbot/knowledge"
)

// Config is what the web desk needs from its operator.
type Config struct {
	// Addr is where Run listens, e.g. ":8080".
	Addr string
	// AgentToken is the shared secret agents sign in with. Empty means no
	// agent can sign in.
	AgentToken string
	// AllowedOrigins are further origins allowed to open the WebSockets and
	// post to the agent API, as host patterns ("desk.example.org") or with a
	// scheme ("https://*.example.org"); the page's own host is always
	// allowed.
	AllowedOrigins []string
	// Logger receives the adapter's log; nil discards it. Citizens' words
	// are never logged.
	Logger *slog.Logger
	// Now is the clock of rate limits and sign-in expiry; nil means
	// time.Now.
	Now func() time.Time

	// MessageRate and MessageBurst limit each citizen session; zero values
	// mean 1 message a second with a burst of 5.
	MessageRate  rate.Limit
	MessageBurst int
	// MaxMessageBytes caps one WebSocket frame from a citizen; zero means
	// 4 KB. A larger frame closes the socket (status 1009).
	MaxMessageBytes int64
	// AgentSessionTTL is how long an agent's sign-in lasts; zero means 12h.
	AgentSessionTTL time.Duration
}

// Defaults of Config's limits.
const (
	DefaultMessageRate     = rate.Limit(1)
	DefaultMessageBurst    = 5
	DefaultMaxMessageBytes = 4 << 10
	DefaultAgentSessionTTL = 12 * time.Hour
	maxPostBytes           = 16 << 10 // agent API bodies
	// One address may send this many times a session's rate: households
	// and offices share an address, but a script that opens a new session
	// for every message is still held back.
	perAddressFactor = 5

	// A token is guessed at most this fast from one address: five tries,
	// then one a minute.
	signInFailureRate  = rate.Limit(1.0 / 60)
	signInFailureBurst = 5
)

// Option adjusts a Server.
type Option func(*Server)

// WithMetrics serves h at /metrics (the metrics adapter's handler; cmd
// wires it, so this package does not know Prometheus).
func WithMetrics(h http.Handler) Option { return func(s *Server) { s.metrics = h } }

// Server is the web desk. It implements bots.CitizenChannel for the
// channel "webchat" and bots.AgentChannel for the web inbox.
type Server struct {
	cfg      Config
	engine   *bots.Engine
	handbook *knowledge.Handbook
	log      *slog.Logger
	metrics  http.Handler
	static   fs.FS

	signKey  []byte       // HMAC key of agent cookies, made at start
	limits   *limiters    // citizens' messages, by session
	ipLimits *limiters    // citizens' messages, by address: new sessions do not reset it
	failures *limiters    // wrong sign-in tokens, by remote IP
	citizens *hub[string] // open chat sockets by session id
	agents   *hub[struct{}]
}

var (
	_ bots.CitizenChannel = (*Server)(nil)
	_ bots.AgentChannel   = (*Server)(nil)
)

// Channel is the citizen channel name the web chat registers under.
const Channel = "webchat"

// New returns the web desk for engine. It does no network work: Run
// listens.
func New(cfg Config, engine *bots.Engine, handbook *knowledge.Handbook, opts ...Option) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MessageRate == 0 {
		cfg.MessageRate = DefaultMessageRate
	}
	if cfg.MessageBurst <= 0 {
		cfg.MessageBurst = DefaultMessageBurst
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.AgentSessionTTL <= 0 {
		cfg.AgentSessionTTL = DefaultAgentSessionTTL
	}
	if handbook == nil {
		handbook = engine.Handbook
	}
	key := make([]byte, 32)
	rand.Read(key) // never fails (crypto/rand, Go 1.24+)
	s := &Server{
		cfg:      cfg,
		engine:   engine,
		handbook: handbook,
		log:      cfg.Logger,
		static:   staticFS(),
		signKey:  key,
		limits:   newLimiters(cfg.MessageRate, cfg.MessageBurst, cfg.Now),
		ipLimits: newLimiters(cfg.MessageRate*perAddressFactor, cfg.MessageBurst*perAddressFactor, cfg.Now),
		failures: newLimiters(signInFailureRate, signInFailureBurst, cfg.Now),
		citizens: newHub[string](),
		agents:   newHub[struct{}](),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Handler returns the web desk's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	static := http.FileServerFS(s.static)

	// The citizen.
	mux.HandleFunc("GET /{$}", s.chatPage)
	mux.HandleFunc("GET /ws", s.citizenSocket)

	// The agents.
	mux.HandleFunc("GET /agent", s.agentPage)
	mux.HandleFunc("GET /agent/{$}", s.agentPage)
	mux.HandleFunc("POST /agent/api/signin", s.csrf(s.signIn))
	mux.HandleFunc("POST /agent/api/signout", s.csrf(s.signOut))
	mux.HandleFunc("GET /agent/api/me", s.agentOnly(s.me))
	mux.HandleFunc("GET /agent/api/inbox", s.agentOnly(s.inbox))
	mux.HandleFunc("GET /agent/api/tickets/{id}", s.agentOnly(s.ticket))
	mux.HandleFunc("POST /agent/api/tickets/{id}/claim", s.csrf(s.agentOnly(s.claim)))
	mux.HandleFunc("POST /agent/api/tickets/{id}/reply", s.csrf(s.agentOnly(s.reply)))
	mux.HandleFunc("POST /agent/api/tickets/{id}/resolve", s.csrf(s.agentOnly(s.resolve)))
	mux.HandleFunc("GET /agent/ws", s.agentSocket)

	// Both, and the operator.
	mux.Handle("GET /static/", http.StripPrefix("/static/", static))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if s.metrics == nil {
			http.NotFound(w, r)
			return
		}
		s.metrics.ServeHTTP(w, r)
	})
	return securityHeaders(mux)
}

// securityHeaders keeps the pages from being framed, sniffed or made to
// run anything but their own scripts.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		// ws: and wss: to this host are spelled out: older browsers do not
		// count them as 'self'.
		connect := "'self'"
		if plainHost(r.Host) {
			connect += " ws://" + r.Host + " wss://" + r.Host
		}
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src "+connect+"; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		next.ServeHTTP(w, r)
	})
}

// plainHost reports whether a Host header is only a host and port, safe
// to repeat in a header.
func plainHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)) {
			return false
		}
	}
	return true
}

// Run listens on Config.Addr and serves until ctx ends, then shuts down
// gracefully.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends: then it stops accepting, closes the
// open sockets (the pages reconnect elsewhere or later) and waits up to
// ten seconds for requests in flight.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	// Hijacked WebSocket connections are not Shutdown's to close.
	srv.RegisterOnShutdown(func() {
		s.citizens.closeAll()
		s.agents.closeAll()
	})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("web desk: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("web desk shutdown: %w", err)
	}
	return nil
}

func (s *Server) now() time.Time { return s.cfg.Now() }
