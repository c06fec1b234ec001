package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestClassifyWritesOneLinePerInputLineInOrder(t *testing.T) {
	in := strings.Join([]string{
		`{"text":"有人掉河里了,快来人","id":1,"intent":"gold","confidence":"x"}`,
		`not json`,
		`{"id":3}`,
		`{"text":5}`,
		`{"text":"<b>楼上装修吵死了</b>","source":"web"}`,
		``,
		`{"text":"樓上裝修吵死了"}`,
	}, "\n")
	out, _, err := run(t, nil, in, "classify")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 7 {
		t.Fatalf("%d output lines for 7 input lines:\n%s", len(lines), out)
	}
	var rows []map[string]any
	for _, l := range lines {
		var r map[string]any
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("output line is not JSON: %q", l)
		}
		rows = append(rows, r)
	}
	first := rows[0]
	if first["text"] != "有人掉河里了,快来人" || first["id"] != float64(1) {
		t.Errorf("text or copied key changed: %v", first)
	}
	if first["intent"] != "help.drowning" || first["action"] != "urgent" {
		t.Errorf("drowning read as %v/%v", first["intent"], first["action"])
	}
	if _, ok := first["confidence"].(float64); !ok {
		t.Errorf("confidence not replaced by a number: %v", first["confidence"])
	}
	for _, k := range []string{"signals", "matched"} {
		if _, ok := first[k].([]any); !ok {
			t.Errorf("%s is not a list: %v", k, first[k])
		}
	}
	for i := 1; i <= 3; i++ {
		if _, ok := rows[i]["error"].(string); !ok {
			t.Errorf("line %d has no error: %v", i+1, rows[i])
		}
	}
	if rows[2]["id"] != float64(3) {
		t.Errorf("keys of a line without text not copied: %v", rows[2])
	}
	if rows[4]["text"] != "<b>楼上装修吵死了</b>" || rows[4]["source"] != "web" || !strings.Contains(lines[4], "<b>") {
		t.Errorf("text not echoed unchanged: %s", lines[4])
	}
	if rows[6]["intent"] != rows[4]["intent"] {
		t.Errorf("Traditional and Simplified read differently: %v vs %v", rows[6]["intent"], rows[4]["intent"])
	}
	for _, r := range rows {
		if a, ok := r["action"].(string); ok && a != "self_help" && a != "handoff" && a != "dispatch" && a != "urgent" {
			t.Errorf("bad action %q", a)
		}
	}
}

func TestClassifySignalOffsetsAreRunes(t *testing.T) {
	out, _, err := run(t, nil, `{"text":"😡😡他们在楼下打起来了"}`+"\n", "classify")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Text    string
		Signals []struct {
			Signal, Text string
			Start, End   int
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	runes := []rune(r.Text)
	if len(r.Signals) == 0 {
		t.Fatalf("no signals: %s", out)
	}
	for _, s := range r.Signals {
		if string(runes[s.Start:s.End]) != s.Text {
			t.Errorf("signal %+v does not point at its text", s)
		}
	}
}
