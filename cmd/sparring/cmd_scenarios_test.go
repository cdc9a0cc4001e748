package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScenariosList(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"scenarios", "list"}, func(string) string { return "" }, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, want := range []string{"p01-lost-manuscript-en", "p14-abusive-caller-zh", "d01-finance-office", "丢失的书稿", "The lost manuscript", "(5 drills)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("list lacks %q", want)
		}
	}
	rows := 0
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "p") && strings.Contains(l, "-") {
			rows++
		}
	}
	if rows < 28 {
		t.Errorf("%d seed-case rows, want ≥ 28", rows)
	}
}

func TestScenariosValidate(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile("../../scenarios/data/p03-day-five-return-en.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(good), "persona: refund-seeker", "persona: nobody", 1)
	goodPath, badPath := filepath.Join(dir, "good.yaml"), filepath.Join(dir, "bad.yaml")
	os.WriteFile(goodPath, good, 0o600)
	os.WriteFile(badPath, []byte(bad), 0o600)

	var out, errOut bytes.Buffer
	err = run(context.Background(), []string{"scenarios", "validate", goodPath, badPath, "../../personas/data/angry-complainer.yaml"},
		func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "1 of 3 files invalid") {
		t.Fatalf("err = %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want one line per file (one message for the broken one):\n%s", out.String())
	}
	if !strings.Contains(lines[0], "good.yaml: ok (scenario)") || !strings.Contains(lines[2], "angry-complainer.yaml: ok (persona)") {
		t.Errorf("ok lines:\n%s", out.String())
	}
	if !strings.HasPrefix(lines[1], badPath+":6: persona: no persona \"nobody\"") {
		t.Errorf("broken file line = %q", lines[1])
	}
}
