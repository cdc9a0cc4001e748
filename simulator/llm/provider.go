package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	openai "github.com/sashabaranov/go-openai"
	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"
)

// Error kinds, used as metric labels and fallback reasons.
const (
	kindRateLimited = "rate_limited" // 429
	kindServer      = "server"       // 5xx
	kindClient      = "client"       // other 4xx: key, model name, request shape
	kindNetwork     = "network"      // connection refused or reset, stream cut
	kindTimeout     = "timeout"      // the per-call deadline passed
	kindCanceled    = "canceled"     // the caller went away
	kindDecode      = "decode"       // malformed JSON from the provider
	kindRoleBreak   = "role_break"   // the line broke the customer's role
	kindEmpty       = "empty"        // nothing usable came back
	kindBreakerOpen = "breaker_open" // not called: the provider is considered down
	kindLimiter     = "limiter"      // waiting for a slot or a token outlived the deadline
	kindBadAnswer   = "bad_answer"   // valid protocol, unusable content; asked once more
)

// callError is a failed call with its kind.
type callError struct {
	kind       string
	retryAfter time.Duration
	err        error
}

func (e *callError) Error() string { return fmt.Sprintf("llm %s: %v", e.kind, e.err) }
func (e *callError) Unwrap() error { return e.err }

// errKind returns the kind of a failed call, for fallbacks and metrics.
func errKind(err error) string {
	if ce, ok := errors.AsType[*callError](err); ok {
		return ce.kind
	}
	return "other"
}

// provider is one OpenAI-compatible endpoint with its guards: per-call
// deadline, retries, circuit breaker, concurrency cap, rate limit, metrics.
type provider struct {
	cfg       Config
	use       string // customer | judge, the metrics label
	client    *openai.Client
	sem       *semaphore.Weighted
	limiter   *rate.Limiter
	breaker   *breaker
	m         *metrics
	logger    *slog.Logger
	reasoning bool // o1/o3/o4/gpt-5 family: no temperature, max_completion_tokens
}

func newProvider(cfg Config, use string, logger *slog.Logger, reg prometheus.Registerer) (*provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	// Time to first byte is bounded by the per-call ctx; no http.Client
	// timeout, which would also cut long streams.
	tr := &headerTransport{base: base, azure: isAzureHost(cfg.BaseURL), key: cfg.APIKey}

	var oc openai.ClientConfig
	if tr.azure && !strings.Contains(cfg.BaseURL, "/openai/v1") {
		// Classic deployment-scoped Azure endpoint. The library's default
		// api-version (2023-05-15) predates structured outputs.
		oc = openai.DefaultAzureConfig(cfg.APIKey, cfg.BaseURL)
		oc.APIVersion = "2024-10-21"
		oc.AzureModelMapperFunc = func(model string) string { return model } // Model is the deployment name
	} else {
		oc = openai.DefaultConfig(cfg.APIKey)
		oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	}
	oc.HTTPClient = &http.Client{Transport: tr}

	limit := rate.Inf
	if cfg.RatePerSecond > 0 {
		limit = rate.Limit(cfg.RatePerSecond)
	}
	p := &provider{
		cfg:       cfg,
		use:       use,
		client:    openai.NewClientWithConfig(oc),
		sem:       semaphore.NewWeighted(int64(cfg.MaxConcurrency)),
		limiter:   rate.NewLimiter(limit, max(cfg.Burst, 1)),
		m:         m,
		logger:    logger.With("llm", use, "model", cfg.Model),
		reasoning: isReasoningModel(cfg.Model),
	}
	gauge := m.breaker.WithLabelValues(use)
	p.breaker = newBreaker(cfg.BreakerFailures, cfg.BreakerCooldown, time.Now, func(s breakerState) {
		gauge.Set(float64(s))
		if s != breakerClosed || p.breaker != nil {
			p.logger.Info("llm circuit breaker", "state", s.String())
		}
	})
	return p, nil
}

// isReasoningModel mirrors go-openai's client-side checks (ENGINEERING.md
// §B.2): these models reject max_tokens and a temperature other than 1.
func isReasoningModel(model string) bool {
	for _, p := range []string{"o1", "o3", "o4", "gpt-5", "gpt-6"} {
		if strings.HasPrefix(model, p) {
			return true
		}
	}
	return false
}

func isAzureHost(base string) bool {
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return strings.HasSuffix(h, ".openai.azure.com") || strings.HasSuffix(h, ".cognitiveservices.azure.com") ||
		strings.HasSuffix(h, ".services.ai.azure.com")
}

// request fills the sampling fields every call shares.
func (p *provider) request(msgs []openai.ChatCompletionMessage, maxTokens int) openai.ChatCompletionRequest {
	req := openai.ChatCompletionRequest{Model: p.cfg.Model, Messages: msgs}
	if p.reasoning {
		req.MaxCompletionTokens = maxTokens
		return req
	}
	req.MaxTokens = maxTokens
	req.Temperature = p.cfg.Temperature
	if req.Temperature == 0 {
		// go-openai omits a zero temperature; this rounds to 0 on any server.
		req.Temperature = math.SmallestNonzeroFloat32
	}
	return req
}

// call runs attempt under the breaker, the per-call deadline and the retry
// policy. committed reports whether output already reached the trainee;
// once it has, nothing is retried.
func (p *provider) call(ctx context.Context, attempt func(ctx context.Context) error, committed func() bool) error {
	if !p.breaker.allow() {
		p.m.errors.WithLabelValues(p.use, kindBreakerOpen).Inc()
		return &callError{kind: kindBreakerOpen, err: errors.New("circuit breaker open: provider failing")}
	}
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()

	var err error
	for i := 0; ; i++ {
		err = p.once(cctx, attempt)
		if err == nil {
			break
		}
		err = p.classify(ctx, cctx, err)
		ce, _ := errors.AsType[*callError](err)
		p.m.errors.WithLabelValues(p.use, ce.kind).Inc()
		if !retryable(ce.kind) || i >= p.cfg.Retries || committed() {
			break
		}
		wait := backoff(i, ce.retryAfter)
		if dl, ok := cctx.Deadline(); ok && time.Until(dl) <= wait {
			break // the answer would come too late anyway
		}
		p.logger.Debug("llm retry", "attempt", i+1, "kind", ce.kind, "wait", wait)
		t := time.NewTimer(wait)
		select {
		case <-cctx.Done():
			t.Stop()
		case <-t.C:
		}
		if cctx.Err() != nil {
			break
		}
	}

	result := "ok"
	if err != nil {
		result = errKind(err)
	}
	switch result {
	case "ok", kindRoleBreak, kindEmpty, kindBadAnswer:
		p.breaker.done(true, false) // the provider answered
	case kindCanceled:
		p.breaker.done(false, true)
	default:
		p.breaker.done(false, false)
	}
	p.m.duration.WithLabelValues(p.use, result).Observe(time.Since(start).Seconds())
	return err
}

func retryable(kind string) bool {
	return kind == kindRateLimited || kind == kindServer || kind == kindNetwork || kind == kindBadAnswer
}

// backoff is full-jitter exponential from 200ms, capped at 2s; a server's
// Retry-After is a floor.
func backoff(attempt int, retryAfter time.Duration) time.Duration {
	ceil := min(200*time.Millisecond<<attempt, 2*time.Second)
	d := time.Duration(rand.Int64N(int64(ceil)) + 1)
	if retryAfter > 0 {
		d = retryAfter + time.Duration(rand.Int64N(int64(50*time.Millisecond)))
	}
	return d
}

// once runs one attempt inside the concurrency cap and the rate limit.
func (p *provider) once(ctx context.Context, attempt func(ctx context.Context) error) error {
	if err := p.sem.Acquire(ctx, 1); err != nil {
		return &callError{kind: kindLimiter, err: fmt.Errorf("waiting for a concurrency slot: %w", err)}
	}
	defer p.sem.Release(1)
	if err := p.limiter.Wait(ctx); err != nil {
		return &callError{kind: kindLimiter, err: fmt.Errorf("waiting for the rate limit: %w", err)}
	}
	box := &retryAfterBox{}
	err := attempt(context.WithValue(ctx, retryAfterKey{}, box))
	if err != nil {
		if ce, ok := errors.AsType[*callError](err); ok {
			return ce
		}
		return &callError{kind: "", retryAfter: box.get(), err: err}
	}
	return nil
}

// classify sets the kind of an attempt's error. parent is the caller's ctx,
// cctx the per-call one.
func (p *provider) classify(parent, cctx context.Context, err error) error {
	ce, ok := errors.AsType[*callError](err)
	if !ok {
		ce = &callError{err: err}
	}
	if ce.kind != "" && ce.kind != kindLimiter {
		return ce
	}
	switch {
	case errors.Is(parent.Err(), context.Canceled):
		ce.kind = kindCanceled // the trainee left; says nothing about the provider
		return ce
	case cctx.Err() != nil: // ours or the caller's deadline
		ce.kind = kindTimeout
		return ce
	case ce.kind == kindLimiter:
		return ce
	}
	if apiErr, ok := errors.AsType[*openai.APIError](err); ok {
		ce.kind = statusKind(apiErr.HTTPStatusCode)
		return ce
	}
	if reqErr, ok := errors.AsType[*openai.RequestError](err); ok && reqErr.HTTPStatusCode >= 400 {
		ce.kind = statusKind(reqErr.HTTPStatusCode)
		return ce
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syn) || errors.As(err, &typ) || errors.Is(err, openai.ErrTooManyEmptyStreamMessages) {
		ce.kind = kindDecode
		return ce
	}
	var netErr net.Error
	var urlErr *url.Error
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errStreamCut) || errors.As(err, &netErr) || errors.As(err, &urlErr) {
		ce.kind = kindNetwork
		return ce
	}
	ce.kind = kindDecode // a 200 we could not make sense of
	return ce
}

func statusKind(code int) string {
	switch {
	case code == http.StatusTooManyRequests:
		return kindRateLimited
	case code >= 500:
		return kindServer
	case code == http.StatusOK:
		return kindDecode
	}
	return kindClient
}

var errStreamCut = errors.New("stream ended without a finish_reason")

// stream runs one streaming attempt, handing content pieces to piece and
// never reasoning content. piece returns stop=true when it has enough. It
// returns the finish_reason ("length" means MaxTokens cut the line).
func (p *provider) stream(ctx context.Context, req openai.ChatCompletionRequest, piece func(string) (stop bool, err error)) (string, error) {
	req.Stream = true
	req.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	s, err := p.client.CreateChatCompletionStream(ctx, req)
	if err != nil {
		return "", err
	}
	defer s.Close()
	finish, events := "", 0
	for {
		resp, err := s.Recv()
		if errors.Is(err, io.EOF) {
			switch {
			case events == 0:
				// A 200 with no SSE events: a proxy's HTML page, a JSON
				// body from a server that ignored stream: true.
				return "", &callError{kind: kindDecode, err: errors.New("no server-sent events in the response")}
			case finish == "":
				return "", errStreamCut
			}
			return finish, nil
		}
		if err != nil {
			return "", err
		}
		events++
		if resp.Usage != nil {
			p.countTokens(*resp.Usage)
		}
		if len(resp.Choices) == 0 { // the usage chunk
			continue
		}
		c := resp.Choices[0]
		if c.Delta.Content != "" {
			stop, err := piece(c.Delta.Content)
			if err != nil {
				return "", err
			}
			if stop {
				return "length", nil
			}
		}
		if c.FinishReason != "" {
			finish = string(c.FinishReason)
		}
	}
}

// complete runs one non-streaming attempt and returns the message content.
func (p *provider) complete(ctx context.Context, req openai.ChatCompletionRequest) (string, error) {
	resp, err := p.client.CreateChatCompletion(ctx, req)
	if err != nil {
		return "", err
	}
	p.countTokens(resp.Usage)
	if len(resp.Choices) == 0 {
		return "", &callError{kind: kindEmpty, err: errors.New("no choices in the response")}
	}
	return resp.Choices[0].Message.Content, nil
}

func (p *provider) countTokens(u openai.Usage) {
	if u.PromptTokens > 0 {
		p.m.tokens.WithLabelValues(p.use, "prompt").Add(float64(u.PromptTokens))
	}
	if u.CompletionTokens > 0 {
		p.m.tokens.WithLabelValues(p.use, "completion").Add(float64(u.CompletionTokens))
	}
}

func (p *provider) fallback(reason string) {
	p.m.fallbacks.WithLabelValues(p.use, reason).Inc()
}

// retryAfterBox carries a 429/503 response's Retry-After out of the HTTP
// transport: go-openai's errors drop the response headers.
type retryAfterKey struct{}

type retryAfterBox struct {
	mu sync.Mutex
	d  time.Duration
}

func (b *retryAfterBox) set(d time.Duration) { b.mu.Lock(); b.d = d; b.mu.Unlock() }
func (b *retryAfterBox) get() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.d
}

// headerTransport records Retry-After and adds Azure's api-key header.
type headerTransport struct {
	base  http.RoundTripper
	azure bool
	key   string
}

func (t *headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.azure && t.key != "" && r.Header.Get("api-key") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("api-key", t.key)
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if box, ok := r.Context().Value(retryAfterKey{}).(*retryAfterBox); ok {
			box.set(parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()))
		}
	}
	return resp, nil
}

// parseRetryAfter reads delay-seconds or an HTTP date, capped at a minute.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		d = time.Duration(s * float64(time.Second))
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, time.Minute))
}
