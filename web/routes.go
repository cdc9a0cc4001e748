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
	s.addTrainerRoutes(mux)
	// Contests (issue 8, web/contest.go).
	mux.Handle("POST /api/contests", s.handleCreateContest())
	mux.Handle("GET /api/contests/{code}", s.handleGetContest())
	mux.Handle("GET /api/contests/{code}/results.csv", s.handleContestCSV())
	mux.Handle("GET /healthz", s.handleHealthz())
	mux.Handle("GET /readyz", s.handleReadyz())
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	mux.Handle("/api/", s.handleAPINotFound())
	if s.static != nil {
		// "/" rather than "GET /": a method-qualified catch-all conflicts with
		// the method-less "/api/" pattern above and ServeMux panics.
		files := http.FileServerFS(s.static)
		mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
				return
			}
			files.ServeHTTP(w, r)
		}))
	}
}
