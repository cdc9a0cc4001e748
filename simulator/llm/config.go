// Package llm lets a language model word the customer's lines and give a
// second opinion on the trainee's replies, through any OpenAI-compatible Chat
// Completions endpoint (OpenAI, Azure OpenAI, DeepSeek, Qwen, Ollama, vLLM).
//
// The design is hybrid: a deterministic simulator.Customer (the scripted
// persona engine) stays the authority for mood, demands, stage and outcome;
// the model only words the line that engine decided on. When the provider is
// slow, down or misbehaves, the scripted line is used and the turn is marked
// Fallback, so a session always completes.
package llm

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Structured-output capabilities of a provider (see the README section LLM personas).
const (
	StructuredJSONSchema = "json_schema" // strict JSON schema (OpenAI, Azure, vLLM, Ollama ≥ 0.5, newer Qwen)
	StructuredJSONObject = "json_object" // JSON mode only (DeepSeek, older Qwen)
	StructuredNone       = "none"        // plain text; JSON asked for in the prompt and validated
)

// Config configures one OpenAI-compatible provider. The config keys named in
// Validate's messages are the `llm.*` keys the server reads.
type Config struct {
	// BaseURL ends in /v1 for most servers, e.g. http://127.0.0.1:11434/v1.
	BaseURL string
	APIKey  string // may be empty for local servers (Ollama, vLLM)
	Model   string
	// Timeout bounds one customer line or one judge opinion, retries
	// included: the trainee is waiting.
	Timeout   time.Duration
	MaxTokens int
	// Temperature 0 is sent as the smallest positive float32, because
	// go-openai drops a zero temperature from the request (omitempty) and
	// the provider would then use its default, often 1.
	Temperature      float32
	StructuredOutput string // json_schema | json_object | none; "" means json_schema
	// MaxConcurrency caps calls in flight to this provider.
	MaxConcurrency int
	// RatePerSecond and Burst limit calls to this provider; 0 = unlimited.
	RatePerSecond float64
	Burst         int
	// Retries is how many extra attempts a call may make on 429, 5xx and
	// network errors, and only before the first token reached the trainee.
	// 0 means the default (2); -1 means none.
	Retries int
	// BreakerFailures consecutive failed calls open the circuit breaker;
	// after BreakerCooldown one probe call is let through (half-open).
	BreakerFailures int
	BreakerCooldown time.Duration
	// MaxRunes is a hard cap on a customer line, whatever MaxTokens allows.
	MaxRunes int
}

// Defaults applied to zero fields by NewCustomer and NewJudge.
const (
	DefaultTimeout         = 20 * time.Second
	DefaultMaxTokens       = 300
	DefaultMaxConcurrency  = 8
	DefaultBreakerFailures = 5
	DefaultBreakerCooldown = 30 * time.Second
	DefaultMaxRunes        = 400
	DefaultRetries         = 2
)

// DefaultConfig returns the settings the server starts from before reading
// `llm.*` keys.
func DefaultConfig() Config {
	return Config{
		Timeout:          DefaultTimeout,
		MaxTokens:        DefaultMaxTokens,
		Temperature:      0.7,
		StructuredOutput: StructuredJSONSchema,
		MaxConcurrency:   DefaultMaxConcurrency,
		RatePerSecond:    5,
		Burst:            5,
		Retries:          DefaultRetries,
		BreakerFailures:  DefaultBreakerFailures,
		BreakerCooldown:  DefaultBreakerCooldown,
		MaxRunes:         DefaultMaxRunes,
	}
}

// withDefaults fills zero fields. Temperature and RatePerSecond keep their
// zero meaning (0, unlimited).
func (c Config) withDefaults() Config {
	switch {
	case c.Retries == 0:
		c.Retries = DefaultRetries
	case c.Retries < 0:
		c.Retries = 0
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxTokens == 0 {
		c.MaxTokens = DefaultMaxTokens
	}
	if c.StructuredOutput == "" {
		c.StructuredOutput = StructuredJSONSchema
	}
	if c.MaxConcurrency == 0 {
		c.MaxConcurrency = DefaultMaxConcurrency
	}
	if c.RatePerSecond > 0 && c.Burst == 0 {
		c.Burst = max(1, int(c.RatePerSecond))
	}
	if c.BreakerFailures == 0 {
		c.BreakerFailures = DefaultBreakerFailures
	}
	if c.BreakerCooldown == 0 {
		c.BreakerCooldown = DefaultBreakerCooldown
	}
	if c.MaxRunes == 0 {
		c.MaxRunes = DefaultMaxRunes
	}
	return c
}

// ErrNotConfigured is returned by Validate when no model is configured; the
// server answers `unavailable` for engine "llm" in that case.
var ErrNotConfigured = errors.New("llm: no model configured: set llm.base_url (SPARRING_LLM_BASE_URL) and llm.model (SPARRING_LLM_MODEL), see the README section LLM personas")

// Validate checks the configuration; every message names the key and the fix.
func (c Config) Validate() error {
	if strings.TrimSpace(c.BaseURL) == "" && strings.TrimSpace(c.Model) == "" {
		return ErrNotConfigured
	}
	var errs []error
	if strings.TrimSpace(c.BaseURL) == "" {
		errs = append(errs, errors.New("llm.base_url (SPARRING_LLM_BASE_URL) is empty: set the provider's OpenAI-compatible URL, e.g. http://127.0.0.1:11434/v1"))
	} else if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("llm.base_url (SPARRING_LLM_BASE_URL) %q is not an http(s) URL: use e.g. https://api.openai.com/v1", c.BaseURL))
	}
	if strings.TrimSpace(c.Model) == "" {
		errs = append(errs, errors.New("llm.model (SPARRING_LLM_MODEL) is empty: set the model (or Azure deployment) name, e.g. gpt-4o-mini or qwen2.5:7b"))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("llm.timeout is %s: use a positive duration such as 20s (0 means the default %s)", c.Timeout, DefaultTimeout))
	}
	if c.MaxTokens < 0 {
		errs = append(errs, fmt.Errorf("llm.max_tokens is %d: use a positive number such as 300 (0 means the default)", c.MaxTokens))
	}
	if c.Temperature < 0 || c.Temperature > 2 {
		errs = append(errs, fmt.Errorf("llm.temperature is %g: use a value from 0 to 2", c.Temperature))
	}
	switch c.StructuredOutput {
	case "", StructuredJSONSchema, StructuredJSONObject, StructuredNone:
	default:
		errs = append(errs, fmt.Errorf("llm.structured_output is %q: use json_schema, json_object or none (see the README section LLM personas for your provider)", c.StructuredOutput))
	}
	if c.MaxConcurrency < 0 {
		errs = append(errs, fmt.Errorf("llm.max_concurrency is %d: use a positive number (0 means the default %d)", c.MaxConcurrency, DefaultMaxConcurrency))
	}
	if c.RatePerSecond < 0 || c.Burst < 0 {
		errs = append(errs, fmt.Errorf("llm.rate_per_second %g / llm.burst %d must not be negative (0 means unlimited)", c.RatePerSecond, c.Burst))
	}
	if c.Retries < -1 || c.Retries > 10 {
		errs = append(errs, fmt.Errorf("llm.retries is %d: use 1 to 10, 0 for the default (%d) or -1 for none", c.Retries, DefaultRetries))
	}
	if c.BreakerFailures < 0 || c.BreakerCooldown < 0 {
		errs = append(errs, errors.New("llm.breaker_failures and llm.breaker_cooldown must not be negative (0 means the default)"))
	}
	if c.MaxRunes < 0 {
		errs = append(errs, fmt.Errorf("llm.max_runes is %d: use a positive number (0 means the default %d)", c.MaxRunes, DefaultMaxRunes))
	}
	return errors.Join(errs...)
}

// LogValue logs the configuration without the API key.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", c.BaseURL),
		slog.Any("api_key", secret(c.APIKey)),
		slog.String("model", c.Model),
		slog.Duration("timeout", c.Timeout),
		slog.Int("max_tokens", c.MaxTokens),
		slog.Float64("temperature", float64(c.Temperature)),
		slog.String("structured_output", c.StructuredOutput),
		slog.Int("max_concurrency", c.MaxConcurrency),
		slog.Float64("rate_per_second", c.RatePerSecond),
		slog.Int("retries", c.Retries),
	)
}

// String keeps the key out of fmt output too (%v, %+v).
func (c Config) String() string {
	return fmt.Sprintf("llm.Config{BaseURL:%q APIKey:%s Model:%q Timeout:%s MaxTokens:%d Temperature:%g StructuredOutput:%q}",
		c.BaseURL, secret(c.APIKey), c.Model, c.Timeout, c.MaxTokens, c.Temperature, c.StructuredOutput)
}

// GoString covers %#v.
func (c Config) GoString() string { return c.String() }

// secret is an API key that never prints.
type secret string

func (s secret) String() string {
	if s == "" {
		return "(none)"
	}
	return "[redacted]"
}

func (s secret) GoString() string { return s.String() }

// LogValue redacts the key in slog output.
func (s secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
