package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/deskbot/deskbot/bots"
)

// consoleCitizen is the one fixed identity of the console, so a later run
// finds the tickets of an earlier one.
var consoleCitizen = bots.CitizenID{Channel: "console", ExternalID: "console"}

// consolePrinter prints the bot's replies, one line each.
type consolePrinter struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *consolePrinter) SendToCitizen(_ context.Context, _ bots.Delivery, m bots.Outbound) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	prefix := "desk> "
	if m.FromAgent != "" {
		prefix = "agent " + m.FromAgent + "> "
	}
	for _, line := range strings.Split(m.Text, "\n") {
		if _, err := fmt.Fprintln(p.w, prefix+line); err != nil {
			return err
		}
	}
	if len(m.Choices) > 0 {
		var labels []string
		for _, c := range m.Choices {
			labels = append(labels, "["+c.Label+"]")
		}
		fmt.Fprintln(p.w, prefix+strings.Join(labels, " "))
	}
	return nil
}

// consoleAgents prints hand-overs to the agents on stderr.
type consoleAgents struct {
	mu sync.Mutex
	w  io.Writer
}

func (c *consoleAgents) DeliverToAgents(_ context.Context, _ bots.Delivery, e bots.AgentEvent) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := e.Ticket
	switch e.Kind {
	case bots.EventNewTicket:
		fmt.Fprintf(c.w, "[agents] new %s ticket %s: %s (%s) rule=%s notify=%v location=%s\n", t.Action, t.ID, t.Title, t.Intent, t.Rule, t.Notify, t.Location)
		for _, s := range t.Signals {
			fmt.Fprintf(c.w, "[agents]   signal %s: %q\n", s.Signal, s.Text)
		}
		fmt.Fprintf(c.w, "[agents]   the citizen said: %s\n", strings.ReplaceAll(t.Summary, "\n", " / "))
		fmt.Fprintf(c.w, "[agents]   answer with: /claim %s, /reply %s <text>, /resolve %s\n", t.ID, t.ID, t.ID)
	default:
		fmt.Fprintf(c.w, "[agents] %s on ticket %s (%s): %s\n", e.Kind, t.ID, t.Action, e.Text)
	}
	return nil
}

// chat runs a console conversation: one line in, the desk's replies out.
// Lines starting with / act as the agent: /claim ID, /reply ID text,
// /resolve ID.
func (a *App) chat(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("chat takes no arguments, got %q", args)
	}
	log := slog.New(slog.NewTextHandler(a.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := a.openDesk(ctx, log)
	if err != nil {
		return err
	}
	defer d.store.Close()
	out := &consolePrinter{w: a.Stdout}
	ob := &bots.Outbox{Store: d.store, Citizens: map[string]bots.CitizenChannel{consoleCitizen.Channel: out}, Agents: &consoleAgents{w: a.Stderr}, Worker: "console", Logger: log}
	flush := func() error {
		for {
			n, err := ob.RunOnce(ctx)
			if err != nil || n == 0 {
				return err
			}
		}
	}
	if err := flush(); err != nil { // what an earlier run left unsent
		return err
	}
	sc := bufio.NewScanner(a.Stdin)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "/") {
			if err := a.agentCommand(ctx, d.engine, line); err != nil {
				fmt.Fprintln(a.Stderr, "[agents] "+err.Error())
			}
		} else {
			in := bots.Inbound{Citizen: consoleCitizen, ExternalID: consoleMessageID(n), Text: line}
			if err := d.engine.Handle(ctx, in); err != nil {
				return err
			}
		}
		if err := d.engine.Tick(ctx); err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
	}
	return sc.Err()
}

// consoleMessageID is unique per line and run: console lines are never
// redelivered, so any unique id will do.
func consoleMessageID(n int) string {
	id, _ := bots.NewTicketID()
	return "line-" + strconv.Itoa(n) + "-" + id
}

func (a *App) agentCommand(ctx context.Context, e *bots.Engine, line string) error {
	const agent = "console"
	f := strings.Fields(line)
	if len(f) < 2 {
		return fmt.Errorf("usage: /claim ID | /reply ID text | /resolve ID")
	}
	var err error
	switch f[0] {
	case "/claim":
		_, err = e.Claim(ctx, f[1], agent)
	case "/reply":
		_, err = e.Reply(ctx, f[1], agent, strings.Join(f[2:], " "))
	case "/resolve":
		_, err = e.Resolve(ctx, f[1], agent)
	default:
		return fmt.Errorf("unknown agent command %s", f[0])
	}
	return err
}
