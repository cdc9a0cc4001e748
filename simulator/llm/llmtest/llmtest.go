// Package llmtest is a fake OpenAI-compatible server for tests: it speaks
// the Chat Completions protocol at /v1/chat/completions, as JSON or as
// server-sent events (`data: {...}\n\n` … `data: [DONE]\n\n`), and can be
// scripted per test: canned replies, a slow first token, a connection cut
// mid-stream, 429 with Retry-After, 5xx, malformed JSON, reasoning content.
// Every request is captured for assertions.
//
//	srv := llmtest.New(t, llmtest.WithReplies(llmtest.Reply{Text: "Where is my parcel?"}))
//	cfg := llm.Config{BaseURL: srv.URL(), Model: "fake"}
package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Reply scripts one response.
type Reply struct {
	// Text is the assistant content. Streamed in Chunks if set, else in
	// pieces of ChunkRunes runes (default 4).
	Text       string
	Chunks     []string
	ChunkRunes int
	// Reasoning is sent first as delta.reasoning_content (streaming) or
	// message.reasoning_content, like DeepSeek-R1, Qwen3 and vLLM do.
	Reasoning string

	// Status, when not 200, answers with an OpenAI error body (or Body).
	Status     int
	RetryAfter string // Retry-After header value, e.g. "1"
	// Body replaces the whole response body (with Status, default 200);
	// use it for malformed JSON.
	Body string

	// FirstTokenDelay waits before the first chunk (streaming) or before
	// answering; ChunkDelay between chunks. Both give up when the client
	// goes away.
	FirstTokenDelay time.Duration
	ChunkDelay      time.Duration
	// CutAfter > 0 drops the connection after that many content chunks,
	// with no finish_reason and no [DONE].
	CutAfter int
	// MalformedChunk > 0 sends that content chunk as broken JSON.
	MalformedChunk int
	// NoUsage leaves out the usage chunk even when the client asked for it.
	NoUsage bool
}

// Request is a captured request.
type Request struct {
	Header   http.Header
	Body     []byte
	Model    string
	Stream   bool
	Messages []Message
	// Temperature is nil when the client left the field out (go-openai
	// drops a zero temperature).
	Temperature    *float64
	MaxTokens      int
	ResponseFormat json.RawMessage
	IncludeUsage   bool
}

// Message is one chat message of a request.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// System returns the content of the request's system messages.
func (r Request) System() string { return r.join("system") }

// User returns the content of the request's user messages.
func (r Request) User() string { return r.join("user") }

func (r Request) join(role string) string {
	var parts []string
	for _, m := range r.Messages {
		if m.Role == role {
			parts = append(parts, m.Content)
		}
	}
	return strings.Join(parts, "\n")
}

// Server is a running fake provider.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	queue    []Reply
	def      Reply
	handler  func(Request) Reply
	requests []Request
	apiKey   string
}

// Option configures a Server.
type Option func(*Server)

// WithReplies queues replies, answered in order; then the default is used.
func WithReplies(r ...Reply) Option { return func(s *Server) { s.queue = append(s.queue, r...) } }

// WithDefault sets the reply used when the queue is empty.
func WithDefault(r Reply) Option { return func(s *Server) { s.def = r } }

// WithHandler decides each reply from the request (after the queue).
func WithHandler(f func(Request) Reply) Option { return func(s *Server) { s.handler = f } }

// WithAPIKey makes the server demand "Authorization: Bearer key" (401 otherwise).
func WithAPIKey(key string) Option { return func(s *Server) { s.apiKey = key } }

// New starts a server, closed when the test ends. Without options every
// request gets the reply "OK.".
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{def: Reply{Text: "OK."}}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.serve)
	s.srv = httptest.NewServer(mux)
	tb.Cleanup(s.Close)
	return s
}

// URL is the base URL to configure, ending in /v1.
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// Close shuts the server down (also done by the test's cleanup).
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Enqueue adds replies to the queue.
func (s *Server) Enqueue(r ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, r...)
}

// SetDefault replaces the default reply.
func (s *Server) SetDefault(r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.def = r
}

// SetHandler replaces the per-request handler (nil removes it).
func (s *Server) SetHandler(f func(Request) Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handler = f
}

// Requests returns the captured requests, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Last returns the latest captured request.
func (s *Server) Last() (Request, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		return Request{}, false
	}
	return s.requests[len(s.requests)-1], true
}

func (s *Server) next(req Request) Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
	if len(s.queue) > 0 {
		r := s.queue[0]
		s.queue = s.queue[1:]
		return r
	}
	if s.handler != nil {
		h := s.handler
		s.mu.Unlock()
		r := h(req)
		s.mu.Lock()
		return r
	}
	return s.def
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	req, err := parse(r.Header, body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "", "invalid_request_error", "could not parse request: "+err.Error())
		return
	}
	s.mu.Lock()
	key := s.apiKey
	s.mu.Unlock()
	if key != "" && r.Header.Get("Authorization") != "Bearer "+key {
		writeError(w, http.StatusUnauthorized, "", "invalid_request_error", "Incorrect API key provided.")
		return
	}
	rep := s.next(req)

	if rep.FirstTokenDelay > 0 && !sleep(r, rep.FirstTokenDelay) {
		return
	}
	if rep.Status != 0 && rep.Status != http.StatusOK {
		if rep.Body != "" {
			w.WriteHeader(rep.Status)
			_, _ = w.Write([]byte(rep.Body))
			return
		}
		writeError(w, rep.Status, rep.RetryAfter, errorType(rep.Status), http.StatusText(rep.Status))
		return
	}
	if rep.Body != "" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(rep.Body))
		return
	}
	if req.Stream {
		s.stream(w, r, req, rep)
		return
	}
	usage := usageOf(req, rep)
	msg := map[string]any{"role": "assistant", "content": rep.Text}
	if rep.Reasoning != "" {
		msg["reasoning_content"] = rep.Reasoning
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-fake", "object": "chat.completion", "created": time.Now().Unix(), "model": req.Model,
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": "stop"}},
		"usage":   usage,
	})
}

func (s *Server) stream(w http.ResponseWriter, r *http.Request, req Request, rep Reply) {
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	send := func(v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": time.Now().Unix(), "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}},
		}
	}
	send(chunk(map[string]any{"role": "assistant", "content": ""}, nil))
	if rep.Reasoning != "" {
		send(chunk(map[string]any{"reasoning_content": rep.Reasoning}, nil))
	}
	pieces := rep.Chunks
	if pieces == nil {
		pieces = split(rep.Text, rep.ChunkRunes)
	}
	for i, p := range pieces {
		if i > 0 && rep.ChunkDelay > 0 && !sleep(r, rep.ChunkDelay) {
			return
		}
		if rep.MalformedChunk == i+1 {
			fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-fake\",\"choices\":[{\"delta\":{\"content\":%q\n\n", p)
			if flusher != nil {
				flusher.Flush()
			}
			continue
		}
		send(chunk(map[string]any{"content": p}, nil))
		if rep.CutAfter > 0 && i+1 >= rep.CutAfter {
			// Abort the response: the client sees the chunked body end
			// without its terminator (unexpected EOF).
			panic(http.ErrAbortHandler)
		}
	}
	send(chunk(map[string]any{}, "stop"))
	if req.IncludeUsage && !rep.NoUsage {
		send(map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": time.Now().Unix(), "model": req.Model,
			"choices": []any{}, "usage": usageOf(req, rep),
		})
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	if flusher != nil {
		flusher.Flush()
	}
}

// usageOf counts roughly four bytes a token, like the real thing would.
func usageOf(req Request, rep Reply) map[string]int {
	prompt := 0
	for _, m := range req.Messages {
		prompt += len(m.Content)
	}
	p, c := max(1, prompt/4), max(1, len(rep.Text)/4)
	return map[string]int{"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
}

func split(text string, n int) []string {
	if n <= 0 {
		n = 4
	}
	var out []string
	for text != "" {
		i, k := 0, 0
		for i < len(text) && k < n {
			_, size := utf8.DecodeRuneInString(text[i:])
			i += size
			k++
		}
		out = append(out, text[:i])
		text = text[i:]
	}
	return out
}

func sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func errorType(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status >= 500:
		return "server_error"
	}
	return "invalid_request_error"
}

func writeError(w http.ResponseWriter, status int, retryAfter, typ, msg string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil},
	})
}

func parse(h http.Header, body []byte) (Request, error) {
	var raw struct {
		Model          string          `json:"model"`
		Stream         bool            `json:"stream"`
		Messages       []Message       `json:"messages"`
		Temperature    *float64        `json:"temperature"`
		MaxTokens      int             `json:"max_tokens"`
		MaxCompletion  int             `json:"max_completion_tokens"`
		ResponseFormat json.RawMessage `json:"response_format"`
		StreamOptions  *struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return Request{}, err
	}
	req := Request{
		Header: h.Clone(), Body: body, Model: raw.Model, Stream: raw.Stream, Messages: raw.Messages,
		Temperature: raw.Temperature, MaxTokens: max(raw.MaxTokens, raw.MaxCompletion), ResponseFormat: raw.ResponseFormat,
	}
	if raw.StreamOptions != nil {
		req.IncludeUsage = raw.StreamOptions.IncludeUsage
	}
	return req, nil
}
