package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The console chat goes through a self-help case, a dispatched case with
// the location question and an urgent case; a second run, as the same
// console citizen, finds the ticket's status.
func TestChatFromAPipeAndASecondRunFindsTheTicket(t *testing.T) {
	env := map[string]string{"DESKBOT_SQLITE_PATH": filepath.Join(t.TempDir(), "chat.db")}
	out, agents, err := run(t, env, strings.Join([]string{
		"你好",
		"老板拖欠工资三个月了,怎么办",
		"邻居跟我爸在楼道里打起来了",
		"在幸福小区3号楼2单元",
		"他们已经被劝开了,不用了",
		"有人跳河了,就在大桥下面",
	}, "\n"), "chat")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"您好", "12333", "请问事发的具体地点在哪里", "事件编号", "已按您的要求撤销", "立即直接拨打110"} {
		if !strings.Contains(out, want) {
			t.Errorf("the chat lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(agents, "new dispatch ticket") || !strings.Contains(agents, "new urgent ticket") {
		t.Errorf("hand-overs not printed to stderr:\n%s", agents)
	}
	ids := regexp.MustCompile(`事件编号([23456789A-HJ-NP-Z]{6})`).FindAllStringSubmatch(out, -1)
	if len(ids) < 2 {
		t.Fatalf("expected two ticket ids in:\n%s", out)
	}
	urgentID := ids[len(ids)-1][1]

	out2, _, err := run(t, env, "我的事件"+urgentID+"现在怎么样了\n", "chat")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out2, urgentID) || !strings.Contains(out2, "还在处理中") {
		t.Errorf("a second run does not find the ticket:\n%s", out2)
	}
}

// Lines starting with / act as the agent, so the whole procedure can be
// tried in one terminal: claim, reply, resolve, rating.
func TestChatAgentCommands(t *testing.T) {
	env := map[string]string{"DESKBOT_SQLITE_PATH": filepath.Join(t.TempDir(), "chat.db")}
	out, _, err := run(t, env, "转人工\n", "chat")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`事件编号([23456789A-HJ-NP-Z]{6})`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no ticket:\n%s", out)
	}
	id := m[1]
	out, errs, err := run(t, env, "/claim "+id+"\n/reply "+id+" 您好,我来处理\n/resolve "+id+"\n5\n", "chat")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"agent console> 您好,我来处理", "请您为这次服务打个分", "谢谢您的评价"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s\n%s", want, out, errs)
		}
	}
}
