package webchat

import (
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/deskbot/deskbot/bots"
)

// csrfHeader must be on every POST to the agent API. A page of another
// site cannot add it without a CORS preflight, which this server never
// grants; a form cannot add it at all.
const csrfHeader = "X-Requested-With"

// csrf rejects a state-changing request that lacks the header or comes
// from another origin.
func (s *Server) csrf(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(csrfHeader) != "deskbot" {
			s.writeError(w, r, bots.Errorf(bots.EFORBIDDEN, "missing header %s: deskbot", csrfHeader))
			return
		}
		if !s.originAllowed(r) {
			s.writeError(w, r, bots.Errorf(bots.EFORBIDDEN, "origin %q not allowed", r.Header.Get("Origin")))
			return
		}
		next(w, r)
	}
}

// originAllowed applies the same rule as the WebSocket's Accept: no
// Origin (not a browser), the request's own host, or one of the allowed
// patterns.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, p := range s.cfg.AllowedOrigins {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, err := path.Match(strings.ToLower(p), strings.ToLower(target)); err == nil && ok {
			return true
		}
	}
	return false
}
