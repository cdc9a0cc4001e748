package web

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// addRoutes is the whole URL space of the server.
func (s *Server) addRoutes(mux *http.ServeMux) {
	mux.Handle("GET /ws", s.handleWS())
	mux.Handle("GET /api/scenarios", s.handleScenarios())
	mux.Handle("GET /api/scenarios/{id}", s.handleScenario())
	mux.Handle("GET /api/personas", s.handlePersonas())
	mux.Handle("GET /api/sessions/{id}", s.handleSession())
	mux.Handle("GET /healthz", s.handleHealthz())
	mux.Handle("GET /readyz", s.handleReadyz())
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	mux.Handle("/api/", s.handleAPINotFound())
	if s.static != nil {
		mux.Handle("GET /", http.FileServerFS(s.static))
	}
}
