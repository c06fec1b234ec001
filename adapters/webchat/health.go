package webchat

import (
	"context"
	"net/http"
	"time"
)

// health is /healthz's answer.
type health struct {
	Status   string `json:"status"`
	Database string `json:"database"`
}

// healthz answers 200 when the process serves and the database answers a
// ping, 503 otherwise (a load balancer takes the instance out).
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.engine.Store.Ping(ctx); err != nil {
		s.log.Warn("health check: database unreachable", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, health{Status: "unavailable", Database: "unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, health{Status: "ok", Database: "ok"})
}
