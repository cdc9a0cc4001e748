package llmtest_test

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/sparring-gym/sparring/simulator/llm/llmtest"
)

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url+"/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// The stream is real SSE framing: data lines, a blank line after each, a
// usage chunk with empty choices when asked for, then data: [DONE].
func TestSSEFraming(t *testing.T) {
	srv := llmtest.New(t, llmtest.WithReplies(llmtest.Reply{Text: "你好, world", ChunkRunes: 3, Reasoning: "think"}))
	if !strings.HasSuffix(srv.URL(), "/v1") {
		t.Fatalf("URL() = %q, want a /v1 base", srv.URL())
	}
	resp := post(t, srv.URL(), `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`)
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type = %q", ct)
	}
	body, _ := io.ReadAll(resp.Body)
	events := strings.Split(strings.TrimSuffix(string(body), "\n\n"), "\n\n")
	for _, e := range events {
		if !strings.HasPrefix(e, "data: ") || strings.Contains(e, "\n") {
			t.Errorf("bad event %q", e)
		}
	}
	if last := events[len(events)-1]; last != "data: [DONE]" {
		t.Errorf("last event %q", last)
	}
	if usage := events[len(events)-2]; !strings.Contains(usage, `"choices":[]`) || !strings.Contains(usage, `"completion_tokens"`) {
		t.Errorf("usage chunk %q", usage)
	}
	if !strings.Contains(string(body), `"reasoning_content":"think"`) || !strings.Contains(string(body), `"finish_reason":"stop"`) {
		t.Errorf("body lacks reasoning or finish_reason:\n%s", body)
	}
	req, _ := srv.Last()
	if !req.Stream || !req.IncludeUsage || req.Temperature != nil || req.User() != "hi" {
		t.Errorf("captured %+v", req)
	}
}

// go-openai reads it like the real thing, streaming and not.
func TestWithGoOpenAI(t *testing.T) {
	srv := llmtest.New(t, llmtest.WithDefault(llmtest.Reply{Text: "Where is my parcel?"}), llmtest.WithAPIKey("k"))
	cfg := openai.DefaultConfig("k")
	cfg.BaseURL = srv.URL()
	c := openai.NewClientWithConfig(cfg)
	req := openai.ChatCompletionRequest{Model: "m", Temperature: 0.5, Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hi"}}}
	resp, err := c.CreateChatCompletion(t.Context(), req)
	if err != nil || resp.Choices[0].Message.Content != "Where is my parcel?" || resp.Usage.TotalTokens == 0 {
		t.Fatalf("non-streaming: %+v %v", resp, err)
	}
	req.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	s, err := c.CreateChatCompletionStream(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var text strings.Builder
	usage := false
	for {
		r, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.Usage != nil {
			usage = true
		}
		if len(r.Choices) > 0 {
			text.WriteString(r.Choices[0].Delta.Content)
		}
	}
	if text.String() != "Where is my parcel?" || !usage {
		t.Errorf("streamed %q, usage %v", text.String(), usage)
	}
	if r, _ := srv.Last(); r.Temperature == nil || *r.Temperature != 0.5 {
		t.Errorf("temperature not captured: %+v", r.Temperature)
	}

	bad := openai.DefaultConfig("wrong")
	bad.BaseURL = srv.URL()
	_, err = openai.NewClientWithConfig(bad).CreateChatCompletion(t.Context(), req)
	if apiErr, ok := errors.AsType[*openai.APIError](err); !ok || apiErr.HTTPStatusCode != 401 {
		t.Errorf("wrong key: %v", err)
	}
}

func TestFailureModes(t *testing.T) {
	srv := llmtest.New(t, llmtest.WithReplies(
		llmtest.Reply{Status: 429, RetryAfter: "2"},
		llmtest.Reply{Status: 503},
		llmtest.Reply{Body: "{not json"},
		llmtest.Reply{Text: "one two three four five", ChunkRunes: 2, CutAfter: 2},
		llmtest.Reply{Text: "late", FirstTokenDelay: 200 * time.Millisecond},
	))
	body := `{"model":"m","stream":true,"messages":[]}`

	r := post(t, srv.URL(), body)
	if r.StatusCode != 429 || r.Header.Get("Retry-After") != "2" {
		t.Errorf("429: %d %q", r.StatusCode, r.Header.Get("Retry-After"))
	}
	if b, _ := io.ReadAll(r.Body); !strings.Contains(string(b), `"rate_limit_error"`) {
		t.Errorf("429 body %s", b)
	}
	if r := post(t, srv.URL(), body); r.StatusCode != 503 {
		t.Errorf("503: %d", r.StatusCode)
	}
	if b, _ := io.ReadAll(post(t, srv.URL(), body).Body); string(b) != "{not json" {
		t.Errorf("malformed body %q", b)
	}

	r = post(t, srv.URL(), body)
	sc := bufio.NewScanner(r.Body)
	n := 0
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			n++
		}
	}
	if err := sc.Err(); err == nil || n != 3 { // role chunk + 2 content chunks, then cut
		t.Errorf("cut stream: %d events, err %v; want 3 and an unexpected EOF", n, err)
	}

	start := time.Now()
	post(t, srv.URL(), body)
	if time.Since(start) < 200*time.Millisecond {
		t.Error("first token not delayed")
	}
	if got := len(srv.Requests()); got != 5 {
		t.Errorf("captured %d requests", got)
	}
}
