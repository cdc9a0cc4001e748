package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator"
)

func TestPlayTerminalSession(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		input string
		want  []string
	}{
		{
			name: "english coach session ends by /end with a scorecard",
			args: []string{"play", "p03-day-five-return-en", "--seed", "1"},
			input: "Good afternoon Mr Chen, I'm Lin from customer care. I can see your Nova 12, order PH-88213. What's made you want to return it?\n" +
				"I understand it stings. Phones without a fault can't be refunded after three days, but what I can do is run a free battery test and give you a ¥50 accessory voucher. Would that help?\n" +
				"/end\n",
			want: []string{"== The day-five phone return", "Customer: Mr Chen Hao", "anger", "[coach]", "== Ended:", "== Score"},
		},
		{
			name:  "chinese exam session ends at end of input",
			args:  []string{"play", "p05-broadband-date-zh", "--mode", "exam", "--seed", "3"},
			input: "刘阿姨您好，我是宽带客服小林。我看到您三天前办的订单 BB-50731。\n",
			want:  []string{"== 宽带到底哪天通？", "客户：刘芳阿姨", "愤怒", "== 结束：", "== 得分"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, func(string) string { return "" }, strings.NewReader(tt.input), &out, &errOut)
			if err != nil {
				t.Fatalf("run: %v\n%s", err, errOut.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if strings.Contains(tt.name, "exam") && strings.Contains(out.String(), "[教练]") {
				t.Errorf("exam mode showed coach feedback")
			}
		})
	}
}

func TestPlayUnknownScenario(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"play", "nope"}, func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "scenarios list") {
		t.Fatalf("err = %v", err)
	}
}

// TestPlayEveryScenario: a trainee can finish a session of any scenario, in
// any of its languages, in the terminal.
func TestPlayEveryScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("plays every scenario")
	}
	lib, err := scenarios.BuiltinLibrary()
	if err != nil {
		t.Fatal(err)
	}
	list, _ := lib.Scenarios(context.Background())
	for _, sc := range list {
		for _, lang := range sc.Langs {
			t.Run(sc.ID+"/"+string(lang), func(t *testing.T) {
				input := sc.Playbook.Open.In(lang) + "\n" + sc.Playbook.Close.In(lang) + "\n/end\n"
				var out, errOut bytes.Buffer
				args := []string{"play", sc.ID, "--lang", string(lang), "--seed", "7"}
				if err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(input), &out, &errOut); err != nil {
					t.Fatalf("run: %v\n%s", err, errOut.String())
				}
				want := map[simulator.Lang]string{simulator.LangEN: "== Score", simulator.LangZH: "== 得分"}[lang]
				if !strings.Contains(out.String(), want) {
					t.Errorf("no scorecard:\n%s", out.String())
				}
			})
		}
	}
}
