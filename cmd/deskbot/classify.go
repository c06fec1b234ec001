package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"

	"github.com/deskbot/deskbot/intents"
)

// classify reads JSON Lines {"text": ...} and writes one line per input
// line, in order: the input's other keys copied through, then intent,
// action, confidence, signals and matched phrases. A line that is not a
// JSON object with a string text gets an "error" key and the run goes on.
func (a *App) classify(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("classify takes no arguments (it reads JSON Lines on stdin), got %q", args)
	}
	h, err := a.loadHandbook()
	if err != nil {
		return err
	}
	m, err := intents.New(h, intents.SeedPhrases(h), intents.Options{})
	if err != nil {
		return err
	}
	in := bufio.NewReaderSize(a.Stdin, 64<<10)
	out := bufio.NewWriterSize(a.Stdout, 64<<10)
	for {
		if err := ctx.Err(); err != nil {
			out.Flush()
			return err
		}
		line, err := in.ReadBytes('\n')
		if len(line) > 0 {
			if werr := writeClassified(out, m, line); werr != nil {
				return fmt.Errorf("write: %w", werr)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			out.Flush()
			return fmt.Errorf("read stdin: %w", err)
		}
	}
	return out.Flush()
}

type classified struct {
	Intent     string                  `json:"intent"`
	Action     string                  `json:"action"`
	Confidence float64                 `json:"confidence"`
	Signals    []intents.SignalHit     `json:"signals"`
	Matched    []intents.MatchedPhrase `json:"matched"`
}

// outputKeys are replaced when the input has keys of the same name.
var outputKeys = []string{"intent", "action", "confidence", "signals", "matched", "error"}

func writeClassified(w *bufio.Writer, m *intents.Matcher, line []byte) error {
	// A blank line (or only the line ending) is still a line: answer it.
	var obj map[string]json.RawMessage
	var text string
	errMsg := ""
	if err := json.Unmarshal(line, &obj); err != nil || obj == nil {
		errMsg = "not a JSON object"
		if err != nil {
			errMsg = "invalid JSON: " + err.Error()
		}
		obj = map[string]json.RawMessage{}
	} else if raw, ok := obj["text"]; !ok {
		errMsg = `no "text" key`
	} else if err := json.Unmarshal(raw, &text); err != nil {
		errMsg = `"text" is not a string`
	}
	for _, k := range outputKeys {
		delete(obj, k)
	}
	if errMsg != "" {
		obj["error"], _ = json.Marshal(errMsg)
		return writeObject(w, obj)
	}
	res := m.Match(text)
	c := classified{Intent: res.Intent, Action: string(res.Action), Confidence: res.Confidence, Signals: res.Signals, Matched: res.Matched}
	b, err := marshal(c)
	if err != nil {
		return err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	for k, v := range fields {
		obj[k] = v
	}
	return writeObject(w, obj)
}

// writeObject writes obj on one line: text first, the copied input keys
// next in name order, and the matcher's keys last, so lines read well.
func writeObject(w *bufio.Writer, obj map[string]json.RawMessage) error {
	var copied []string
	for k := range obj {
		if k != "text" && !slices.Contains(outputKeys, k) {
			copied = append(copied, k)
		}
	}
	sort.Strings(copied)
	keys := make([]string, 0, len(obj))
	if _, ok := obj["text"]; ok {
		keys = append(keys, "text")
	}
	keys = append(keys, copied...)
	for _, k := range outputKeys {
		if _, ok := obj[k]; ok {
			keys = append(keys, k)
		}
	}
	w.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			w.WriteByte(',')
		}
		kb, err := marshal(k)
		if err != nil {
			return err
		}
		w.Write(kb)
		w.WriteByte(':')
		w.Write(obj[k])
	}
	_, err := w.WriteString("}\n")
	return err
}

// marshal encodes v without escaping <, > and &: citizens' text stays
// readable in the output.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
