// Package webchat is the desk on the web: the citizen's chat page at /, the
// agents' live inbox at /agent, /healthz and /metrics, all over net/http.
//
// It owns the browser side of the desk and nothing of the procedure: a
// citizen's message goes to bots.Engine.Handle, an agent's claim, reply
// or resolve to the Engine's agent actions, and what the desk says comes
// back through the outbox, which calls this package as the
// bots.CitizenChannel "webchat" (SendToCitizen pushes to the citizen's
// open sockets) and as the bots.AgentChannel (DeliverToAgents broadcasts to
// the open inboxes). Both return nil when nobody is connected: the message
// is stored, and a page that connects later reads it from the engine.
//
// The pages are static files embedded in the binary (plain HTML, CSS and
// JavaScript, no build step). Citizen text is only ever set with
// textContent. A citizen is a random session id in an HttpOnly cookie; an
// agent signs in with the desk's token and a display name and gets a
// cookie signed with HMAC-SHA256 under a key made at start (never the
// token itself).
package webchat
