// Command deskbot runs the 110 service-desk bot and its tools. main only
// wires: configuration comes from the environment, the handbook from the
// embedded knowledge base, and each subcommand lives in its own file.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // DESKBOT_TZ works on machines without a zone database
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app := &App{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	if err := app.Run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "deskbot:", err)
		os.Exit(1)
	}
}

// App is the program with its outside world passed in, so tests run every
// subcommand in-process with their own input, output and environment.
type App struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

const usage = `usage: deskbot [command]

commands:
  serve            run the desk (the default with no command)
  chat             talk to the desk in the terminal: one line in, its replies out
  classify         read JSON Lines {"text": ...} on stdin, write each with its intent,
                   action, confidence, signals and matched phrases
  intents export   print every seed phrase as JSON Lines {"intent","text"}
  help             print this help
`

// Run dispatches to a subcommand.
func (a *App) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return a.serve(ctx, nil)
	}
	switch args[0] {
	case "serve":
		return a.serve(ctx, args[1:])
	case "chat":
		return a.chat(ctx, args[1:])
	case "intents":
		if len(args) < 2 || args[1] != "export" {
			return fmt.Errorf("usage: deskbot intents export")
		}
		return a.intentsExport(ctx, args[2:])
	case "classify":
		return a.classify(ctx, args[1:])
	case "help", "-h", "--help":
		_, err := io.WriteString(a.Stdout, usage)
		return err
	default:
		return fmt.Errorf("unknown command %q\n%s", args[0], usage)
	}
}
