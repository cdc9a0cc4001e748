// Package web is Sparring's HTTP transport: the WebSocket endpoint of
// PROTOCOL.md §1, the JSON API of §2, health and metrics, and the embedded
// browser UI. It speaks to the domain only through simulator types.
package web

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/trainer"
)

// Config tunes the transport. Zero values take the defaults of DefaultConfig.
type Config struct {
	// AllowedOrigins for /ws; empty means same-origin only. "*" allows any.
	AllowedOrigins []string
	// MaxMessageBytes is the largest frame answered with an error rather
	// than a close; frames over HardLimitBytes close the connection (1009).
	MaxMessageBytes int64
	HardLimitBytes  int64
	WriteWait       time.Duration
	PongWait        time.Duration
	PingPeriod      time.Duration
	SendBuffer      int
	// MessagesPerSecond and Burst limit each connection; MaxViolations
	// consecutive refusals close it with 1008.
	MessagesPerSecond float64
	Burst             int
	MaxViolations     int
	// MaxConnsPerIP caps concurrent WebSocket connections from one address.
	MaxConnsPerIP int
	TrainerTokens []string
}

// DefaultConfig returns the transport defaults (PERFORMANCE-NOTES G11).
func DefaultConfig() Config {
	return Config{
		MaxMessageBytes:   16 << 10,
		HardLimitBytes:    64 << 10,
		WriteWait:         10 * time.Second,
		PongWait:          60 * time.Second,
		PingPeriod:        27 * time.Second,
		SendBuffer:        64,
		MessagesPerSecond: 2,
		Burst:             10,
		MaxViolations:     10,
		MaxConnsPerIP:     200,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = d.MaxMessageBytes
	}
	if c.HardLimitBytes < c.MaxMessageBytes {
		c.HardLimitBytes = max(d.HardLimitBytes, c.MaxMessageBytes)
	}
	if c.WriteWait <= 0 {
		c.WriteWait = d.WriteWait
	}
	if c.PongWait <= 0 {
		c.PongWait = d.PongWait
	}
	if c.PingPeriod <= 0 || c.PingPeriod >= c.PongWait {
		c.PingPeriod = c.PongWait * 9 / 10
	}
	if c.SendBuffer <= 0 {
		c.SendBuffer = d.SendBuffer
	}
	if c.MessagesPerSecond <= 0 {
		c.MessagesPerSecond = d.MessagesPerSecond
	}
	if c.Burst <= 0 {
		c.Burst = d.Burst
	}
	if c.MaxViolations <= 0 {
		c.MaxViolations = d.MaxViolations
	}
	if c.MaxConnsPerIP <= 0 {
		c.MaxConnsPerIP = d.MaxConnsPerIP
	}
	return c
}

// Deps are the server's collaborators.
type Deps struct {
	Simulator *simulator.Simulator
	Library   simulator.Library
	// Ready reports whether storage is reachable (for /readyz).
	Ready    func(ctx context.Context) error
	Static   fs.FS // the browser UI; nil serves none
	Registry *prometheus.Registry
	Logger   *slog.Logger
	// Contests stores timed contests (issue 8); nil turns contests off.
	Contests simulator.Contests
	// Authoring, TrainerStore and Calibrator enable the trainer tools
	// (issue 7, web/trainer*.go); without the first two those routes answer 503.
	Authoring    *scenarios.Composite
	TrainerStore trainer.Store
	Calibrator   simulator.Assessor
}

// Server is the HTTP and WebSocket front of Sparring.
type Server struct {
	cfg      Config
	sim      *simulator.Simulator
	lib      simulator.Library
	ready    func(ctx context.Context) error
	static   fs.FS
	log      *slog.Logger
	metrics  *metrics
	registry *prometheus.Registry
	upgrader websocket.Upgrader
	handler  http.Handler

	authoring  *scenarios.Composite
	tstore     trainer.Store
	calibrator simulator.Assessor

	contests *contestService // issue 8 (web/contest.go); nil when off
	workers  *workerPool     // runs every client frame (web/workers.go)
	corkBufs *sync.Pool      // batch buffers of the connections' writers (web/cork.go)

	mu       sync.Mutex
	conns    map[*conn]struct{}
	perIP    map[string]int
	draining bool
	wg       sync.WaitGroup
}

// NewServer builds the server and its routes.
func NewServer(cfg Config, d Deps) *Server {
	cfg = cfg.withDefaults()
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	s := &Server{
		cfg: cfg, sim: d.Simulator, lib: d.Library, ready: d.Ready, static: d.Static,
		log: d.Logger, registry: d.Registry, metrics: newMetrics(d.Registry),
		conns: map[*conn]struct{}{}, perIP: map[string]int{},
		workers:   newWorkerPool(workerIdle),
		corkBufs:  newCorkBuffers(),
		authoring: d.Authoring, tstore: d.TrainerStore, calibrator: d.Calibrator,
	}
	s.contests = newContestService(d.Contests, d.Simulator, d.Library, d.Logger) // issue 8
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   1024,
		WriteBufferSize:  1024,
		WriteBufferPool:  &sync.Pool{},
		CheckOrigin:      s.checkOrigin,
		Error:            s.handshakeError,
	}
	mux := http.NewServeMux()
	s.addRoutes(mux)
	s.handler = securityHeaders(mux)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Shutdown stops accepting WebSocket requests, lets every in-flight turn
// finish and be stored, then closes each connection with 1001 (going away).
// http.Server.Shutdown does not wait for hijacked connections, so callers
// run this alongside it.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.draining = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		go c.goAway()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser; browsers always send Origin on a WebSocket handshake
	}
	for _, o := range s.cfg.AllowedOrigins {
		if o == "*" || o == origin {
			return true
		}
	}
	return sameOrigin(origin, r.Host)
}
