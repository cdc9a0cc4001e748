package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sparring-gym/sparring/web/webtest"
)

// TestNoSecretsInLogs plays a session at debug log level with every kind of
// secret configured, then searches everything the server wrote: no session
// token, trainer token or API key may appear (session ids may).
func TestNoSecretsInLogs(t *testing.T) {
	const (
		trainerToken = "trainer-secret-7f3a9c0e1d2b4a68"
		apiKey       = "sk-test-apikey-5c1e8f2a9b7d3e40"
	)
	s := startServer(t, map[string]string{
		"SPARRING_LOG_LEVEL":      "debug",
		"SPARRING_TRAINER_TOKENS": trainerToken,
		"SPARRING_LLM_BASE_URL":   "http://127.0.0.1:9/v1", // nothing listens: the model is "down"
		"SPARRING_LLM_MODEL":      "test-model",
		"SPARRING_LLM_API_KEY":    apiKey,
	})
	ws := "ws" + strings.TrimPrefix(s.url, "http") + "/ws"
	c := webtest.Dial(t, ws, nil)
	session, _ := c.Start("p01-lost-manuscript-en", nil)
	token := session.Str("token")
	if token == "" {
		t.Fatal("no token in the session frame")
	}
	c.Reply("r1", trainerLines["en"][true][0])
	// A wrong token, and the llm engine (its calls fail and fall back).
	c2 := webtest.Dial(t, ws, nil)
	c2.Send(map[string]any{"type": "resume", "session": session.Str("session"), "token": token + "x", "after": 0})
	if f := c2.Expect("error"); f.Str("code") != "bad_token" {
		t.Fatalf("wrong token answered %v", f)
	}
	c2.Send(map[string]any{"type": "resume", "session": session.Str("session"), "token": token, "after": 0})
	c2.Expect("session")
	c3 := webtest.Dial(t, ws, nil)
	c3.Start("p01-lost-manuscript-en", map[string]any{"engine": "llm"})
	c3.Reply("l1", trainerLines["en"][true][0])
	if code := getStatusAuth(t, s.url+"/api/sessions", trainerToken); code != 200 {
		t.Logf("GET /api/sessions with the trainer token: HTTP %d", code)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	logs := s.stdout.String()
	if !strings.Contains(logs, session.Str("session")) {
		t.Fatalf("the debug log does not mention the session at all; the test would prove nothing:\n%s", logs)
	}
	for name, secret := range map[string]string{"session token": token, "trainer token": trainerToken, "API key": apiKey} {
		if strings.Contains(logs, secret) {
			t.Errorf("the %s appears in the logs", name)
		}
	}
}

func getStatusAuth(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
