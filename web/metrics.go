package web

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// metrics lives on the server's own registry; labels come from closed sets
// only (engine names, error codes), never session or user ids.
type metrics struct {
	connections    prometheus.Gauge
	activeSessions prometheus.Gauge
	turns          *prometheus.CounterVec
	errors         *prometheus.CounterVec
	turnLatency    prometheus.Histogram
	dropped        prometheus.Counter
}

func newMetrics(reg *prometheus.Registry) *metrics {
	// Go and process collectors may already be registered by the caller.
	_ = reg.Register(collectors.NewGoCollector())
	_ = reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := promauto.With(reg)
	return &metrics{
		connections: f.NewGauge(prometheus.GaugeOpts{
			Name: "sparring_ws_connections", Help: "Open WebSocket connections.",
		}),
		activeSessions: f.NewGauge(prometheus.GaugeOpts{
			Name: "sparring_sessions_active", Help: "Active practice sessions attached to a connection on this instance.",
		}),
		turns: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sparring_turns_total", Help: "Trainee replies processed, by persona engine.",
		}, []string{"engine"}),
		errors: f.NewCounterVec(prometheus.CounterOpts{
			Name: "sparring_errors_total", Help: "Errors answered to clients, by protocol error code.",
		}, []string{"code"}),
		turnLatency: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "sparring_turn_latency_seconds",
			Help:    "Time from a reply frame read to its events queued, including scoring, persona and the Redis write.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		dropped: f.NewCounter(prometheus.CounterOpts{
			Name: "sparring_ws_slow_clients_total", Help: "Connections closed because the client did not read fast enough.",
		}),
	}
}
