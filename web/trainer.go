package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/trainer"
)

// Trainer tools (issue 7): scenario authoring (PROTOCOL §2 POST/PUT/DELETE
// /api/scenarios), the review list GET /api/sessions, reviews, calibration
// and Character Card import. Extensions live under /api/trainer/ and
// /api/sessions/{id}/…; docs/PROTOCOL.md lists them.

// maxAuthorBody bounds a scenario, persona or calibration upload.
const maxAuthorBody = 1 << 20

// addTrainerRoutes registers the trainer API.
func (s *Server) addTrainerRoutes(mux *http.ServeMux) {
	mux.Handle("POST /api/scenarios", s.trainerOnly(s.handleCreateScenario))
	mux.Handle("PUT /api/scenarios/{id}", s.trainerOnly(s.handleUpdateScenario))
	mux.Handle("DELETE /api/scenarios/{id}", s.trainerOnly(s.handleDeleteScenario))
	mux.Handle("GET /api/sessions", s.trainerOnly(s.handleListSessions))
	mux.Handle("GET /api/sessions/{id}/review", s.trainerOnly(s.handleGetReview))
	mux.Handle("POST /api/sessions/{id}/comments", s.trainerOnly(s.handleAddComment))
	mux.Handle("POST /api/sessions/{id}/overrides", s.trainerOnly(s.handleAddOverride))
	mux.Handle("GET /api/sessions/{id}/export", s.trainerOnly(s.handleExportSession))
	mux.Handle("GET /api/trainer/me", s.trainerOnly(s.handleMe))
	mux.Handle("POST /api/trainer/validate", s.trainerOnly(s.handleValidate))
	mux.Handle("GET /api/trainer/scenarios", s.trainerOnly(s.handleTrainerScenarios))
	mux.Handle("GET /api/trainer/scenarios/{id}/source", s.trainerOnly(s.handleSource(trainer.KindScenario)))
	mux.Handle("POST /api/trainer/scenarios/{id}/publish", s.trainerOnly(s.handlePublish(true)))
	mux.Handle("POST /api/trainer/scenarios/{id}/unpublish", s.trainerOnly(s.handlePublish(false)))
	mux.Handle("GET /api/trainer/personas", s.trainerOnly(s.handleTrainerPersonas))
	mux.Handle("GET /api/trainer/personas/{id}/source", s.trainerOnly(s.handleSource(trainer.KindPersona)))
	mux.Handle("PUT /api/trainer/personas/{id}", s.trainerOnly(s.handleSavePersona))
	mux.Handle("POST /api/trainer/personas/card", s.trainerOnly(s.handleImportCard))
	mux.Handle("POST /api/trainer/calibrate", s.trainerOnly(s.handleCalibrate))
	mux.Handle("POST /api/trainer/form", s.trainerOnly(s.handleForm))
	mux.Handle("GET /api/trainer/scenarios/{id}/bots", s.trainerOnly(s.handleBots))
}

// trainerHandler is a trainer route; who names the trainer in stored
// records without revealing the token.
type trainerHandler func(w http.ResponseWriter, r *http.Request, who string)

// trainerOnly answers 401 without a bearer token, 403 with one that is not a
// trainer's (compared in constant time), and 503 when authoring storage is
// not wired.
func (s *Server) trainerOnly(h trainerHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sparring-trainer"`)
			writeAPIError(w, http.StatusUnauthorized, "unauthorized", "send a trainer token as Authorization: Bearer <token>")
			return
		}
		if !s.isTrainer(token) {
			writeAPIError(w, http.StatusForbidden, "forbidden", "this token is not a trainer token")
			return
		}
		if s.authoring == nil || s.tstore == nil {
			writeAPIError(w, http.StatusServiceUnavailable, "unavailable", "trainer tools are not configured on this server")
			return
		}
		sum := sha256.Sum256([]byte(token))
		h(w, r, "trainer-"+hex.EncodeToString(sum[:4]))
	})
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request, who string) {
	writeJSON(w, http.StatusOK, map[string]string{"trainer": who})
}

// fieldErrorJSON is one entry of a 422 answer (PROTOCOL §2: path, message;
// line is an extension).
type fieldErrorJSON struct {
	Path    string `json:"path"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
}

func writeFieldErrors(w http.ResponseWriter, errs scenarios.ValidationErrors) {
	out := make([]fieldErrorJSON, 0, len(errs))
	for _, e := range errs {
		out = append(out, fieldErrorJSON{Path: e.Path, Message: e.Message, Line: e.Line})
	}
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": out})
}

func invalid(path, format string, args ...any) scenarios.ValidationErrors {
	return scenarios.ValidationErrors{{Path: path, Message: fmt.Sprintf(format, args...)}}
}

// readBody reads an upload of at most maxAuthorBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAuthorBody))
	if err != nil {
		writeAPIError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body is over %d bytes", maxAuthorBody))
		return nil, false
	}
	if len(bytes.TrimSpace(b)) == 0 {
		writeFieldErrors(w, invalid("", "the body is empty; send the scenario as YAML or JSON"))
		return nil, false
	}
	return b, true
}

// authorError maps the authoring errors to HTTP answers.
func (s *Server) authorError(w http.ResponseWriter, r *http.Request, err error) {
	if verrs, ok := errors.AsType[scenarios.ValidationErrors](err); ok {
		writeFieldErrors(w, verrs)
		return
	}
	switch {
	case errors.Is(err, scenarios.ErrBuiltin):
		writeAPIError(w, http.StatusConflict, "builtin", err.Error())
	case errors.Is(err, scenarios.ErrExists):
		writeAPIError(w, http.StatusConflict, "exists", err.Error())
	case errors.Is(err, trainer.ErrVersionConflict):
		writeAPIError(w, http.StatusConflict, "conflict", "someone saved this at the same moment; reload and try again")
	case errors.Is(err, scenarios.ErrNoSuch), errors.Is(err, trainer.ErrNotFound):
		writeAPIError(w, http.StatusNotFound, "not_found", err.Error())
	default:
		s.apiError(w, r, err)
	}
}

// AuthoredView answers a save: the stored version and its summary.
type AuthoredView struct {
	ID      string           `json:"id"`
	Kind    trainer.Kind     `json:"kind"`
	Version int              `json:"version"`
	Draft   bool             `json:"draft"`
	Deleted bool             `json:"deleted,omitempty"`
	Saved   time.Time        `json:"saved"`
	Author  string           `json:"author,omitempty"`
	Summary *ScenarioSummary `json:"scenario,omitempty"`
}

func (s *Server) authoredView(ctx context.Context, src trainer.Source) AuthoredView {
	v := AuthoredView{ID: src.ID, Kind: src.Kind, Version: src.Version, Draft: src.Draft, Deleted: src.Deleted, Saved: src.Saved, Author: src.Author}
	if src.Kind == trainer.KindScenario && !src.Deleted {
		if sc, err := s.authoring.ScenarioVersion(ctx, src.ID, src.Version); err == nil {
			sum := summarize(sc, sc.Lang)
			v.Summary = &sum
		}
	}
	return v
}

func (s *Server) saveScenario(w http.ResponseWriter, r *http.Request, who string, create bool) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	src, err := s.authoring.Save(r.Context(), scenarios.SaveRequest{
		Kind: trainer.KindScenario, ID: r.PathValue("id"), Body: body, Create: create, Author: who,
	})
	if err != nil {
		s.authorError(w, r, err)
		return
	}
	s.log.Info("scenario saved", slog.String("scenario", src.ID), slog.Int("version", src.Version), slog.String("trainer", who))
	status := http.StatusOK
	if create {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/scenarios/"+src.ID)
	}
	writeJSON(w, status, s.authoredView(r.Context(), src))
}

func (s *Server) handleCreateScenario(w http.ResponseWriter, r *http.Request, who string) {
	s.saveScenario(w, r, who, true)
}

func (s *Server) handleUpdateScenario(w http.ResponseWriter, r *http.Request, who string) {
	s.saveScenario(w, r, who, false)
}

func (s *Server) handleDeleteScenario(w http.ResponseWriter, r *http.Request, who string) {
	src, err := s.authoring.Delete(r.Context(), trainer.KindScenario, r.PathValue("id"), who)
	if err != nil {
		s.authorError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.authoredView(r.Context(), src))
}

// handlePublish saves a new version of the newest one with `published` set.
func (s *Server) handlePublish(publish bool) trainerHandler {
	return func(w http.ResponseWriter, r *http.Request, who string) {
		id := r.PathValue("id")
		if s.authoring.IsBuiltin(trainer.KindScenario, id) {
			s.authorError(w, r, fmt.Errorf("scenario %q: %w", id, scenarios.ErrBuiltin))
			return
		}
		prev, _, err := s.authoring.Source(r.Context(), trainer.KindScenario, id, 0)
		if err == nil && prev.Deleted {
			err = fmt.Errorf("scenario %q: %w", id, scenarios.ErrNoSuch)
		}
		if err != nil {
			s.authorError(w, r, err)
			return
		}
		src, err := s.authoring.Save(r.Context(), scenarios.SaveRequest{
			Kind: trainer.KindScenario, ID: id, Body: []byte(prev.Body), Publish: &publish, Author: who,
		})
		if err != nil {
			s.authorError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, s.authoredView(r.Context(), src))
	}
}

// handleValidate runs the CLI's validator on a draft: ?kind=scenario
// (default) or persona. 200 {"ok":true} or 422 with field errors.
func (s *Server) handleValidate(w http.ResponseWriter, r *http.Request, _ string) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var err error
	var summary *ScenarioSummary
	switch r.URL.Query().Get("kind") {
	case "", "scenario":
		var sc *simulator.Scenario
		sc, err = s.authoring.ValidateScenario(r.Context(), "scenario", body)
		if err == nil {
			if s.authoring.IsBuiltin(trainer.KindScenario, sc.ID) {
				err = invalid("id", "%q is a built-in scenario; give yours its own id", sc.ID)
			} else {
				sum := summarize(sc, sc.Lang)
				summary = &sum
			}
		}
	case "persona":
		_, err = s.authoring.ValidatePersona(r.Context(), "persona", body)
	default:
		writeFieldErrors(w, invalid("kind", "use kind=scenario or kind=persona"))
		return
	}
	if err != nil {
		s.authorError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "errors": []fieldErrorJSON{}, "scenario": summary})
}

// TrainerScenario is one entry of GET /api/trainer/scenarios: drafts included.
type TrainerScenario struct {
	ScenarioSummary
	Draft   bool `json:"draft"`
	Builtin bool `json:"builtin"`
}

func (s *Server) handleTrainerScenarios(w http.ResponseWriter, r *http.Request, _ string) {
	list, err := s.authoring.Scenarios(r.Context())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := make([]TrainerScenario, 0, len(list))
	for _, sc := range list {
		out = append(out, TrainerScenario{ScenarioSummary: summarize(sc, sc.Lang), Draft: sc.Draft,
			Builtin: s.authoring.IsBuiltin(trainer.KindScenario, sc.ID)})
	}
	writeJSON(w, http.StatusOK, out)
}

// handleSource answers the YAML of a scenario or persona (?version=N for an
// old one); ?download=1 makes it a file download (export).
func (s *Server) handleSource(kind trainer.Kind) trainerHandler {
	return func(w http.ResponseWriter, r *http.Request, _ string) {
		id := r.PathValue("id")
		v, _ := strconv.Atoi(r.URL.Query().Get("version"))
		src, builtin, err := s.authoring.Source(r.Context(), kind, id, v)
		if err != nil {
			s.authorError(w, r, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/yaml; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Sparring-Version", strconv.Itoa(src.Version))
		h.Set("X-Sparring-Draft", strconv.FormatBool(src.Draft))
		h.Set("X-Sparring-Builtin", strconv.FormatBool(builtin))
		if r.URL.Query().Get("download") == "1" {
			h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.yaml"`, safeFileName(id)))
		}
		_, _ = io.WriteString(w, src.Body)
	}
}

func safeFileName(s string) string {
	return strings.Map(func(c rune) rune {
		if c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			return c
		}
		return '_'
	}, s)
}

// TrainerPersona is one entry of GET /api/trainer/personas.
type TrainerPersona struct {
	ID      string         `json:"id"`
	Name    simulator.Text `json:"name"`
	Traits  []string       `json:"traits"`
	Builtin bool           `json:"builtin"`
	Draft   bool           `json:"draft"`
	Version int            `json:"version"`
}

func (s *Server) handleTrainerPersonas(w http.ResponseWriter, r *http.Request, _ string) {
	list, err := s.authoring.Personas(r.Context())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := []TrainerPersona{}
	seen := map[string]bool{}
	for _, p := range list {
		seen[p.ID] = true
		out = append(out, TrainerPersona{ID: p.ID, Name: p.Name, Traits: orEmpty(p.Traits), Builtin: s.authoring.IsBuiltin(trainer.KindPersona, p.ID), Version: 1})
	}
	authored, err := s.authoring.Authored(r.Context(), trainer.KindPersona)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	for _, src := range authored {
		if src.Deleted {
			continue
		}
		if seen[src.ID] {
			for i := range out {
				if out[i].ID == src.ID {
					out[i].Version = src.Version
				}
			}
			continue
		}
		// Drafts (e.g. imported cards) are listed by id until published.
		out = append(out, TrainerPersona{ID: src.ID, Name: simulator.Text{simulator.LangEN: src.ID}, Traits: []string{}, Draft: true, Version: src.Version})
	}
	writeJSON(w, http.StatusOK, out)
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// handleSavePersona stores a persona (YAML or JSON); ?draft=1 keeps it out
// of the library until published.
func (s *Server) handleSavePersona(w http.ResponseWriter, r *http.Request, who string) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	create := false
	if _, _, err := s.authoring.Source(r.Context(), trainer.KindPersona, id, 0); errors.Is(err, trainer.ErrNotFound) {
		create = true
	}
	src, err := s.authoring.Save(r.Context(), scenarios.SaveRequest{
		Kind: trainer.KindPersona, ID: id, Body: body, Create: create, Draft: r.URL.Query().Get("draft") == "1", Author: who,
	})
	if err != nil {
		s.authorError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.authoredView(r.Context(), src))
}

// ---- sessions: the review list, reviews, export ----------------------------

// SessionRow is one entry of GET /api/sessions.
type SessionRow struct {
	ID              string                 `json:"id"`
	Created         time.Time              `json:"created"`
	Trainee         string                 `json:"trainee"`
	Team            string                 `json:"team,omitempty"`
	Contest         string                 `json:"contest,omitempty"`
	Scenario        string                 `json:"scenario"`
	ScenarioVersion int                    `json:"scenario_version"`
	Mode            simulator.Mode         `json:"mode"`
	Engine          simulator.Engine       `json:"engine"`
	Lang            simulator.Lang         `json:"lang"`
	State           simulator.SessionState `json:"state"`
	Outcome         simulator.Outcome      `json:"outcome,omitempty"`
	Score           *int                   `json:"score"` // the automatic total; null until the report
	Turns           int                    `json:"turns"`
	DurationS       int                    `json:"duration_s"`
	Comments        int                    `json:"comments"`
	Overrides       int                    `json:"overrides"`
}

// sessionFilter is the query of GET /api/sessions.
type sessionFilter struct {
	scenario, trainee, contest, outcome, state string
	from, to                                   time.Time
	minScore, maxScore                         *int
	limit                                      int
}

const (
	defaultSessionLimit = 100
	maxSessionLimit     = 1000
	// sessionScan bounds how many indexed sessions one list request loads
	// before filtering.
	sessionScan = 2000
)

func parseSessionFilter(q map[string][]string) (sessionFilter, scenarios.ValidationErrors) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	f := sessionFilter{scenario: get("scenario"), trainee: strings.ToLower(get("trainee")), contest: get("contest"),
		outcome: get("outcome"), state: get("state"), limit: defaultSessionLimit}
	var errs scenarios.ValidationErrors
	parseTime := func(k string, end bool) time.Time {
		v := get(k)
		if v == "" {
			return time.Time{}
		}
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t
		}
		if d, err := time.Parse(time.DateOnly, v); err == nil {
			if end { // a date as the upper bound includes that whole day
				return d.Add(24*time.Hour - time.Millisecond)
			}
			return d
		}
		errs = append(errs, scenarios.FieldError{Path: k, Message: fmt.Sprintf("%q is not a date; use YYYY-MM-DD or RFC 3339", v)})
		return time.Time{}
	}
	f.from, f.to = parseTime("from", false), parseTime("to", true)
	parseScore := func(k string) *int {
		v := get(k)
		if v == "" {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 100 {
			errs = append(errs, scenarios.FieldError{Path: k, Message: fmt.Sprintf("%q is not a score; use 0 to 100", v)})
			return nil
		}
		return &n
	}
	f.minScore, f.maxScore = parseScore("min_score"), parseScore("max_score")
	if v := get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxSessionLimit {
			errs = append(errs, scenarios.FieldError{Path: "limit", Message: fmt.Sprintf("%q is out of range; use 1 to %d", v, maxSessionLimit)})
		} else {
			f.limit = n
		}
	}
	switch simulator.Outcome(f.outcome) {
	case "", simulator.OutcomeResolved, simulator.OutcomeRetained, simulator.OutcomeEscalated,
		simulator.OutcomeLost, simulator.OutcomeTimeout, simulator.OutcomeAbandoned:
	default:
		errs = append(errs, scenarios.FieldError{Path: "outcome", Message: fmt.Sprintf("%q is not an outcome; use resolved, retained, escalated, lost, timeout or abandoned", f.outcome)})
	}
	switch simulator.SessionState(f.state) {
	case "", simulator.StateActive, simulator.StateEnded:
	default:
		errs = append(errs, scenarios.FieldError{Path: "state", Message: fmt.Sprintf("%q is not a state; use active or ended", f.state)})
	}
	return f, errs
}

func (f sessionFilter) match(row SessionRow) bool {
	if f.scenario != "" && row.Scenario != f.scenario {
		return false
	}
	if f.trainee != "" && !strings.Contains(strings.ToLower(row.Trainee), f.trainee) {
		return false
	}
	if f.contest != "" && row.Contest != f.contest {
		return false
	}
	if f.outcome != "" && string(row.Outcome) != f.outcome {
		return false
	}
	if f.state != "" && string(row.State) != f.state {
		return false
	}
	if f.minScore != nil && (row.Score == nil || *row.Score < *f.minScore) {
		return false
	}
	if f.maxScore != nil && (row.Score == nil || *row.Score > *f.maxScore) {
		return false
	}
	return true
}

func sessionRow(sess *simulator.Session) SessionRow {
	row := SessionRow{ID: sess.ID, Created: sess.Created, Trainee: sess.Trainee, Team: sess.Team, Contest: sess.Contest,
		Scenario: sess.ScenarioID, ScenarioVersion: sess.ScenarioVersion, Mode: sess.Mode, Engine: sess.Engine,
		Lang: sess.Lang, State: sess.State, Turns: sess.Turns()}
	for _, e := range sess.Events {
		switch e.Type {
		case simulator.EventEnd:
			row.Outcome = e.Outcome
		case simulator.EventReport:
			if e.Report != nil {
				total := e.Report.Total
				row.Score = &total
				row.DurationS = e.Report.DurationS
			}
		}
	}
	return row
}

func (s *Server) handleListSessions(w http.ResponseWriter, r *http.Request, _ string) {
	f, errs := parseSessionFilter(r.URL.Query())
	if len(errs) > 0 {
		writeFieldErrors(w, errs)
		return
	}
	format := r.URL.Query().Get("format")
	if format != "" && format != "csv" && format != "json" {
		writeFieldErrors(w, invalid("format", "%q is not a format; use json (default) or csv", format))
		return
	}
	ctx := r.Context()
	ids, err := s.tstore.Recent(ctx, f.from, f.to, sessionScan)
	if err != nil {
		s.apiError(w, r, unavailableErr(err))
		return
	}
	rows := make([]*SessionRow, len(ids))
	var gone []string
	goneMark := make([]bool, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, id := range ids {
		g.Go(func() error {
			sess, err := s.sim.Load(gctx, id)
			if errors.Is(err, simulator.ErrSessionNotFound) {
				goneMark[i] = true // expired: drop it from the index below
				return nil
			}
			if err != nil {
				return err
			}
			row := sessionRow(sess)
			if !f.match(row) {
				return nil
			}
			rev, err := s.tstore.Review(gctx, id)
			if err != nil {
				return unavailableErr(err)
			}
			row.Comments, row.Overrides = len(rev.Comments), len(rev.Overrides)
			rows[i] = &row
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		s.apiError(w, r, err)
		return
	}
	out := make([]SessionRow, 0, f.limit)
	for i, row := range rows {
		if goneMark[i] {
			gone = append(gone, ids[i])
		}
		if row != nil && len(out) < f.limit {
			out = append(out, *row)
		}
	}
	if len(gone) > 0 {
		if err := s.tstore.Forget(ctx, gone...); err != nil {
			s.log.Warn("forget expired sessions", slog.Any("error", err))
		}
	}
	if format == "csv" {
		writeSessionsCSV(w, out)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func unavailableErr(err error) error {
	if _, ok := errors.AsType[*simulator.Error](err); ok {
		return err
	}
	return simulator.Errorf(simulator.CodeUnavailable, "storage is unavailable; try again shortly", "存储暂不可用,请稍后重试").Wrap(err)
}

// csvHeader is the column order of ?format=csv.
var csvHeader = []string{"id", "created", "trainee", "team", "contest", "scenario", "scenario_version", "mode", "engine",
	"lang", "state", "outcome", "score", "turns", "duration_s", "comments", "overrides"}

func writeSessionsCSV(w http.ResponseWriter, rows []SessionRow) {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", `attachment; filename="sessions.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write(csvHeader)
	for _, r := range rows {
		score := ""
		if r.Score != nil {
			score = strconv.Itoa(*r.Score)
		}
		_ = cw.Write([]string{r.ID, r.Created.UTC().Format(time.RFC3339), csvCell(r.Trainee), csvCell(r.Team), csvCell(r.Contest),
			r.Scenario, strconv.Itoa(r.ScenarioVersion), string(r.Mode), string(r.Engine), string(r.Lang), string(r.State),
			string(r.Outcome), score, strconv.Itoa(r.Turns), strconv.Itoa(r.DurationS), strconv.Itoa(r.Comments), strconv.Itoa(r.Overrides)})
	}
	cw.Flush()
}

// csvCell defuses spreadsheet formulas in names trainees typed themselves.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// ReviewView is GET /api/sessions/{id}/review: comments, overrides (the full
// history) and, per step, the automatic score beside the current override.
type ReviewView struct {
	Session   string                              `json:"session"`
	Comments  []trainer.Comment                   `json:"comments"`
	Overrides []trainer.Override                  `json:"overrides"`
	Steps     map[simulator.Step]ReviewedStepView `json:"steps"`
}

// ReviewedStepView is one step: the report's score and the trainer's.
type ReviewedStepView struct {
	Auto     *int              `json:"auto"` // null before the report
	Override *trainer.Override `json:"override,omitempty"`
}

func (s *Server) loadForReview(w http.ResponseWriter, r *http.Request) (*simulator.Session, bool) {
	sess, err := s.sim.Load(r.Context(), r.PathValue("id"))
	if errors.Is(err, simulator.ErrSessionNotFound) {
		writeAPIError(w, http.StatusNotFound, "not_found", "no session with that id")
		return nil, false
	}
	if err != nil {
		s.apiError(w, r, err)
		return nil, false
	}
	return sess, true
}

func (s *Server) reviewView(ctx context.Context, sess *simulator.Session) (ReviewView, error) {
	rev, err := s.tstore.Review(ctx, sess.ID)
	if err != nil {
		return ReviewView{}, unavailableErr(err)
	}
	v := ReviewView{Session: sess.ID, Comments: rev.Comments, Overrides: rev.Overrides, Steps: map[simulator.Step]ReviewedStepView{}}
	var rep *simulator.Report
	for _, e := range sess.Events {
		if e.Type == simulator.EventReport && e.Report != nil {
			rep = e.Report
		}
	}
	cur := rev.Current()
	for _, st := range simulator.Steps {
		var sv ReviewedStepView
		if rep != nil {
			if sc, ok := rep.Steps[st]; ok {
				n := sc.Score
				sv.Auto = &n
			}
		}
		if o, ok := cur[st]; ok {
			sv.Override = &o
		}
		v.Steps[st] = sv
	}
	return v, nil
}

func (s *Server) handleGetReview(w http.ResponseWriter, r *http.Request, _ string) {
	sess, ok := s.loadForReview(w, r)
	if !ok {
		return
	}
	v, err := s.reviewView(r.Context(), sess)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

const maxCommentRunes = 2000

func decodeJSONBody(w http.ResponseWriter, r *http.Request, v any) bool {
	return decodeJSONBodyLimit(w, r, v, 64<<10)
}

func decodeJSONBodyLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeFieldErrors(w, invalid("", "the body is not the JSON expected: %v", err))
		return false
	}
	return true
}

func (s *Server) handleAddComment(w http.ResponseWriter, r *http.Request, who string) {
	sess, ok := s.loadForReview(w, r)
	if !ok {
		return
	}
	var in struct {
		Turn *int   `json:"turn"`
		Text string `json:"text"`
	}
	if !decodeJSONBody(w, r, &in) {
		return
	}
	var errs scenarios.ValidationErrors
	if in.Turn == nil || *in.Turn < -1 || *in.Turn > sess.Turns() {
		errs = append(errs, scenarios.FieldError{Path: "turn", Message: fmt.Sprintf("give a turn from 0 to %d (or -1 for the whole session)", sess.Turns())})
	}
	text := strings.TrimSpace(in.Text)
	if n := utf8.RuneCountInString(text); n < 1 || n > maxCommentRunes {
		errs = append(errs, scenarios.FieldError{Path: "text", Message: fmt.Sprintf("write a comment of 1–%d characters", maxCommentRunes)})
	}
	if len(errs) > 0 {
		writeFieldErrors(w, errs)
		return
	}
	c := trainer.Comment{ID: rand.Text()[:12], Turn: *in.Turn, Text: text, Author: who, At: time.Now().UTC()}
	if err := s.tstore.AddComment(r.Context(), sess.ID, c); err != nil {
		s.reviewStoreError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) reviewStoreError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, trainer.ErrNotFound) {
		writeAPIError(w, http.StatusNotFound, "not_found", "no session with that id")
		return
	}
	s.apiError(w, r, unavailableErr(err))
}

func (s *Server) handleAddOverride(w http.ResponseWriter, r *http.Request, who string) {
	sess, ok := s.loadForReview(w, r)
	if !ok {
		return
	}
	var in struct {
		Step   simulator.Step `json:"step"`
		Score  *int           `json:"score"`
		Reason string         `json:"reason"`
	}
	if !decodeJSONBody(w, r, &in) {
		return
	}
	var errs scenarios.ValidationErrors
	if !slices.Contains(simulator.Steps, in.Step) {
		errs = append(errs, scenarios.FieldError{Path: "step", Message: fmt.Sprintf("%q is not a step; use receive, understand, help, agree or retain", in.Step)})
	}
	if in.Score == nil || *in.Score < 0 || *in.Score > 100 {
		errs = append(errs, scenarios.FieldError{Path: "score", Message: "give a score from 0 to 100"})
	}
	reason := strings.TrimSpace(in.Reason)
	if n := utf8.RuneCountInString(reason); n < 1 || n > maxCommentRunes {
		errs = append(errs, scenarios.FieldError{Path: "reason", Message: fmt.Sprintf("say why, in 1–%d characters: the automatic score stays beside yours", maxCommentRunes)})
	}
	if len(errs) > 0 {
		writeFieldErrors(w, errs)
		return
	}
	o := trainer.Override{Step: in.Step, Score: *in.Score, Reason: reason, Author: who, At: time.Now().UTC()}
	if err := s.tstore.AddOverride(r.Context(), sess.ID, o); err != nil {
		s.reviewStoreError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, o)
}

// SessionExport is GET /api/sessions/{id}/export: the session as the
// trainee saw it, the trainers' review, and the scenario version it used.
type SessionExport struct {
	SessionView
	Review   ReviewView     `json:"review"`
	Scenario ScenarioSource `json:"scenario_source"`
}

// ScenarioSource names a scenario version and carries its YAML.
type ScenarioSource struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
	YAML    string `json:"yaml,omitempty"`
}

func (s *Server) handleExportSession(w http.ResponseWriter, r *http.Request, _ string) {
	sess, ok := s.loadForReview(w, r)
	if !ok {
		return
	}
	rv, err := s.reviewView(r.Context(), sess)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	exp := SessionExport{SessionView: sessionView(sess), Review: rv, Scenario: ScenarioSource{ID: sess.ScenarioID, Version: sess.ScenarioVersion}}
	if src, _, err := s.authoring.Source(r.Context(), trainer.KindScenario, sess.ScenarioID, sess.ScenarioVersion); err == nil {
		exp.Scenario.YAML = src.Body
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="session-%s.json"`, safeFileName(sess.ID)))
	writeJSON(w, http.StatusOK, exp)
}
