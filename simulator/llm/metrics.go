package llm

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are labelled by use (customer | judge), never by session or
// trainee (unbounded cardinality, ENGINEERING.md §B.7).
type metrics struct {
	duration  *prometheus.HistogramVec // use, result
	errors    *prometheus.CounterVec   // use, kind
	tokens    *prometheus.CounterVec   // use, kind (prompt | completion)
	fallbacks *prometheus.CounterVec   // use, reason
	breaker   *prometheus.GaugeVec     // use; 0 closed, 1 half-open, 2 open
}

func newMetrics(reg prometheus.Registerer) (m *metrics, err error) {
	if reg == nil {
		reg = prometheus.NewRegistry() // private and discarded: metrics off
	}
	// register panics only on a conflicting metric under our names.
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("llm: register metrics: %v", r)
		}
	}()
	return &metrics{
		duration: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "llm_request_duration_seconds",
			Help:    "Duration of LLM calls, retries included, by use and result.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60},
		}, []string{"use", "result"})),
		errors: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "llm_errors_total",
			Help: "LLM call errors by use and kind (rate_limited, server, client, network, timeout, decode, role_break, empty, breaker_open).",
		}, []string{"use", "kind"})),
		tokens: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "llm_tokens_total",
			Help: "Tokens reported by the provider, by use and kind (prompt, completion).",
		}, []string{"use", "kind"})),
		fallbacks: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "llm_fallbacks_total",
			Help: "Customer lines that fell back to the scripted line, and judge opinions skipped, by use and reason.",
		}, []string{"use", "reason"})),
		breaker: register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "llm_breaker_state",
			Help: "Circuit breaker state by use: 0 closed, 1 half-open, 2 open.",
		}, []string{"use"})),
	}, nil
}

// register registers c, or returns the collector already registered under
// the same name, so a customer and a judge can share one registry.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err) // a programming error: a different metric under our name
	}
	return c
}
