package webchat

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/deskbot/deskbot/bots"
)

// Error codes of this adapter, beside the engine's (bots.ENOTFOUND…).
const (
	codeUnauthorized = "unauthorized" // no or a bad agent sign-in
	codeTooLarge     = "too_large"    // a request body over the limit
	codeRateLimited  = "rate_limited" // a citizen writing too fast
)

// statusOf is the one place where the desk's error codes become HTTP
// statuses.
func statusOf(err error) int {
	switch bots.ErrorCode(err) {
	case "":
		return http.StatusOK
	case bots.ENOTFOUND:
		return http.StatusNotFound
	case bots.ECONFLICT:
		return http.StatusConflict
	case bots.EINVALID:
		return http.StatusBadRequest
	case bots.EFORBIDDEN:
		return http.StatusForbidden
	case codeUnauthorized:
		return http.StatusUnauthorized
	case codeTooLarge:
		return http.StatusRequestEntityTooLarge
	case codeRateLimited:
		return http.StatusTooManyRequests
	default:
		return http.StatusInternalServerError
	}
}

// errorBody is what the API answers on an error.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// writeError answers with err's status. An internal error is logged and
// its message is not shown: it may hold details of the database.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg := statusOf(err), bots.ErrorCode(err), err.Error()
	if status == http.StatusInternalServerError {
		s.log.Error("web request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		code, msg = bots.EINTERNAL, "内部错误,请稍后再试"
	}
	writeJSON(w, status, errorBody{Error: msg, Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decodeJSON reads a request body of at most maxPostBytes into v.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxPostBytes)
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return bots.Errorf(codeTooLarge, "request body over %d bytes", tooBig.Limit)
		}
		return bots.Errorf(bots.EINVALID, "request body is not the JSON expected: %v", err)
	}
	return nil
}
