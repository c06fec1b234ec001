package webchat

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// An agent's sign-in is a cookie holding the display name and an expiry,
// signed with HMAC-SHA256 under a key made at start: never the token. A
// restart signs everyone out, which is the price of keeping no state.

const agentCookie = "deskbot_agent"

// agentClaims is what the agent cookie says.
type agentClaims struct {
	Name    string `json:"n"`
	Expires int64  `json:"e"` // Unix seconds
}

func (s *Server) sign(payload string) string {
	m := hmac.New(sha256.New, s.signKey)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Server) setAgentCookie(w http.ResponseWriter, r *http.Request, name string) {
	exp := s.now().Add(s.cfg.AgentSessionTTL)
	b, _ := json.Marshal(agentClaims{Name: name, Expires: exp.Unix()})
	payload := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{
		// MaxAge, not Expires: the browser's clock need not be ours.
		Name: agentCookie, Value: payload + "." + s.sign(payload), Path: "/agent",
		MaxAge: int(s.cfg.AgentSessionTTL.Seconds()), HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
}

func (s *Server) clearAgentCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: agentCookie, Value: "", Path: "/agent", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

// agentOf returns the signed-in agent's name, if the request carries a
// valid, unexpired cookie signed by this server.
func (s *Server) agentOf(r *http.Request) (string, bool) {
	c, err := r.Cookie(agentCookie)
	if err != nil {
		return "", false
	}
	payload, sig, ok := strings.Cut(c.Value, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(s.sign(payload))) {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", false
	}
	var cl agentClaims
	if err := json.Unmarshal(b, &cl); err != nil || cl.Name == "" || !s.now().Before(time.Unix(cl.Expires, 0)) {
		return "", false
	}
	return cl.Name, true
}
