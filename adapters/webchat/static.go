package webchat

import (
	"embed"
	"io/fs"
	"net/http"
)

// The pages: plain HTML, CSS and JavaScript, no build step, nothing from
// another site.
//
//go:embed static
var embedded embed.FS

func staticFS() fs.FS {
	sub, err := fs.Sub(embedded, "static")
	if err != nil {
		panic(err) // the directory is embedded above: cannot happen
	}
	return sub
}

// servePage writes one embedded HTML page. Pages are not cached, so a new
// release is seen at the next load.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request, name string) {
	b, err := fs.ReadFile(s.static, name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}
