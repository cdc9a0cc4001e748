package web

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/web/protocol"
)

// ScenarioSummary is one entry of GET /api/scenarios.
type ScenarioSummary struct {
	ID         string           `json:"id"`
	Title      string           `json:"title"`
	Lang       simulator.Lang   `json:"lang"`
	Langs      []simulator.Lang `json:"langs"`
	Persona    string           `json:"persona"`
	Difficulty int              `json:"difficulty"`
	TimeLimitS int              `json:"time_limit_s"`
	// Extensions.
	MaxTurns    int      `json:"max_turns"`
	Tags        []string `json:"tags"`
	Drill       bool     `json:"drill"`
	PersonaName string   `json:"persona_name"`
	Version     int      `json:"version"`
}

// ScenarioView is GET /api/scenarios/{id}: what a trainee may see.
type ScenarioView struct {
	ScenarioSummary
	Brief   BriefView `json:"brief"`
	Success string    `json:"success"`
}

// BriefView is the brief in one language.
type BriefView struct {
	CustomerName string   `json:"customer_name"`
	Order        string   `json:"order"`
	History      string   `json:"history"`
	Situation    string   `json:"situation"`
	PolicySheet  string   `json:"policy_sheet"`
	Context      []string `json:"context"`
}

func summarize(sc *simulator.Scenario, lang simulator.Lang) ScenarioSummary {
	sum := ScenarioSummary{
		ID: sc.ID, Title: sc.Title.In(lang), Lang: sc.Lang, Langs: sc.Langs, Persona: sc.PersonaID,
		Difficulty: sc.Difficulty, TimeLimitS: sc.TimeLimitS, MaxTurns: sc.MaxTurns,
		Tags: sc.Tags, Drill: sc.Drill, Version: sc.Version,
	}
	if sum.Langs == nil {
		sum.Langs = []simulator.Lang{}
	}
	if sum.Tags == nil {
		sum.Tags = []string{}
	}
	if sc.Persona != nil {
		sum.PersonaName = sc.Persona.Name.In(lang)
	}
	return sum
}

// langParam picks the language of a view: ?lang= when supported, else the scenario's.
func langParam(r *http.Request, sc *simulator.Scenario) simulator.Lang {
	if l := simulator.Lang(r.URL.Query().Get("lang")); l.Valid() && sc.Supports(l) {
		return l
	}
	return sc.Lang
}

func (s *Server) handleScenarios() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := s.lib.Scenarios(r.Context())
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		out := make([]ScenarioSummary, 0, len(list))
		for _, sc := range list {
			if sc.Draft {
				continue
			}
			out = append(out, summarize(sc, langParam(r, sc)))
		}
		writeJSON(w, http.StatusOK, out)
	})
}

func (s *Server) handleScenario() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc, err := s.lib.Scenario(r.Context(), r.PathValue("id"))
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		lang := langParam(r, sc)
		ctx := sc.Brief.Context
		if ctx == nil {
			ctx = []string{}
		}
		writeJSON(w, http.StatusOK, ScenarioView{
			ScenarioSummary: summarize(sc, lang),
			Brief: BriefView{
				CustomerName: sc.Brief.CustomerName.In(lang), Order: sc.Brief.Order.In(lang),
				History: sc.Brief.History.In(lang), Situation: sc.Brief.Situation.In(lang),
				PolicySheet: sc.Brief.PolicySheet.In(lang), Context: ctx,
			},
			Success: sc.Success.In(lang),
		})
	})
}

// PersonaView is one entry of GET /api/personas.
type PersonaView struct {
	ID     string         `json:"id"`
	Name   simulator.Text `json:"name"`
	Traits []string       `json:"traits"`
}

func (s *Server) handlePersonas() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := s.lib.Personas(r.Context())
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		out := make([]PersonaView, 0, len(list))
		for _, p := range list {
			v := PersonaView{ID: p.ID, Name: p.Name, Traits: p.Traits}
			if v.Traits == nil {
				v.Traits = []string{}
			}
			out = append(out, v)
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// SessionView is GET /api/sessions/{id}: transcript, feedback and report.
type SessionView struct {
	Session    SessionMeta              `json:"session"`
	Transcript []simulator.Line         `json:"transcript"`
	Feedback   []simulator.TurnFeedback `json:"feedback"`
	Report     *simulator.Report        `json:"report"`
	Outcome    simulator.Outcome        `json:"outcome,omitempty"`
	Events     []any                    `json:"events"`
}

// SessionMeta describes a stored session without its secret.
type SessionMeta struct {
	ID       string                 `json:"id"`
	Scenario string                 `json:"scenario"`
	Version  int                    `json:"scenario_version"`
	Persona  string                 `json:"persona"`
	Trainee  string                 `json:"trainee"`
	Mode     simulator.Mode         `json:"mode"`
	Engine   simulator.Engine       `json:"engine"`
	Lang     simulator.Lang         `json:"lang"`
	State    simulator.SessionState `json:"state"`
	Contest  string                 `json:"contest,omitempty"`
	Team     string                 `json:"team,omitempty"`
	Created  time.Time              `json:"created"`
	Deadline *time.Time             `json:"deadline,omitempty"`
	Turns    int                    `json:"turns"`
	Mood     simulator.Mood         `json:"mood"`
	LastSeq  int                    `json:"last_seq"`
}

func sessionView(sess *simulator.Session) SessionView {
	v := SessionView{
		Session: SessionMeta{
			ID: sess.ID, Scenario: sess.ScenarioID, Version: sess.ScenarioVersion, Persona: sess.PersonaID,
			Trainee: sess.Trainee, Mode: sess.Mode, Engine: sess.Engine, Lang: sess.Lang, State: sess.State,
			Contest: sess.Contest, Team: sess.Team, Created: sess.Created, Turns: sess.Turns(),
			Mood: sess.Mood(), LastSeq: sess.LastSeq(),
		},
		Transcript: sess.Transcript(),
		Feedback:   []simulator.TurnFeedback{},
		Events:     make([]any, 0, len(sess.Events)),
	}
	if !sess.Deadline.IsZero() {
		d := sess.Deadline
		v.Session.Deadline = &d
	}
	if v.Transcript == nil {
		v.Transcript = []simulator.Line{}
	}
	for _, e := range sess.Events {
		switch e.Type {
		case simulator.EventAck:
			if a := e.Assessment; a != nil {
				f := protocol.NewFeedback(0, e.Turn, a)
				v.Feedback = append(v.Feedback, simulator.TurnFeedback{Turn: e.Turn, Steps: f.Steps, Signals: f.Signals, Hint: a.Hint, Score: a.Score, Verdict: a.Verdict})
			}
		case simulator.EventEnd:
			v.Outcome = e.Outcome
		case simulator.EventReport:
			if e.Report != nil {
				r := protocol.NormalizeReport(*e.Report)
				v.Report = &r
			}
		}
		if e.Type == simulator.EventFeedback && sess.Mode == simulator.ModeExam {
			continue
		}
		v.Events = append(v.Events, protocol.EventFrame(e))
	}
	return v
}

func (s *Server) handleSession() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearer(r)
		if !ok {
			writeAPIError(w, http.StatusUnauthorized, "unauthorized", "send the session token (or a trainer token) as Authorization: Bearer <token>")
			return
		}
		sess, err := s.sim.Load(r.Context(), r.PathValue("id"))
		if err != nil && !errors.Is(err, simulator.ErrSessionNotFound) {
			s.apiError(w, r, err)
			return
		}
		trainer := s.isTrainer(token)
		if sess == nil || (!trainer && !s.sim.TokenMatches(sess, token)) {
			if trainer {
				writeAPIError(w, http.StatusNotFound, "not_found", "no session with that id")
				return
			}
			// One answer for "no such session" and "wrong token", so ids cannot be probed.
			writeAPIError(w, http.StatusForbidden, "bad_token", "the session does not exist or the token does not match")
			return
		}
		writeJSON(w, http.StatusOK, sessionView(sess))
	})
}

func (s *Server) isTrainer(token string) bool {
	ok := false
	for _, t := range s.cfg.TrainerTokens {
		// Compare against every token so timing does not reveal which matched.
		if t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(token)) == 1 {
			ok = true
		}
	}
	return ok
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

func (s *Server) handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

func (s *Server) handleReadyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := s.ready(ctx); err != nil {
				s.log.Warn("not ready", slog.Any("error", err))
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "storage unreachable"})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}

func (s *Server) handleAPINotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, http.StatusNotFound, "not_found", "no such API route: "+r.Method+" "+r.URL.Path)
	})
}

// apiError maps a domain error to an HTTP answer.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	code := simulator.ErrorCode(err)
	status := map[simulator.Code]int{
		simulator.CodeScenarioNotFound: http.StatusNotFound,
		simulator.CodeInvalid:          http.StatusUnprocessableEntity,
		simulator.CodeBadToken:         http.StatusForbidden,
		simulator.CodeUnavailable:      http.StatusServiceUnavailable,
	}[code]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		s.log.Error("api request failed", slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	writeAPIError(w, status, string(code), simulator.ErrorMessage(err, simulator.LangEN))
}

func writeAPIError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]string{"error": code, "message": message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// securityHeaders sets the headers every response carries. The CSP forbids
// inline script and style, so user and model text can never run as code.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

func (s *Server) handshakeError(w http.ResponseWriter, r *http.Request, status int, reason error) {
	if status == http.StatusForbidden {
		s.metrics.errors.WithLabelValues("origin").Inc()
	}
	writeAPIError(w, status, "handshake", reason.Error())
}
