package scenarios

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sparring-gym/sparring/personas"
	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/trainer"
)

// Composite is the library the server runs on: the built-in scenarios and
// personas, plus those trainers author and keep in a trainer.Sources (Redis),
// so every server instance serves the same set. Built-in ids cannot be
// overwritten. Every change to an authored scenario is a new version; old
// versions stay readable through ScenarioVersion so a session's report can
// always be read against the scenario it was played on.
type Composite struct {
	builtin *Library
	known   map[string]*simulator.Persona // built-in personas, abstract ones included (for extends)
	files   map[string][]byte             // built-in scenario YAML by id
	src     trainer.Sources
	log     *slog.Logger
	now     func() time.Time

	mu    sync.Mutex
	cache map[string]*simulator.Scenario // "id@version" → parsed; versions never change
}

// The turn loop asks a VersionedLibrary for the version a session started
// with (Simulator.ScenarioOf), so an edit never changes a session under way.
var _ simulator.VersionedLibrary = (*Composite)(nil)

// maxCached bounds the parsed-version cache; it is cleared when full.
const maxCached = 512

// NewComposite builds the library over the built-in data and src.
func NewComposite(src trainer.Sources, logger *slog.Logger) (*Composite, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	builtin, err := BuiltinLibrary()
	if err != nil {
		return nil, err
	}
	known, err := personas.LoadAll(personas.Builtin())
	if err != nil {
		return nil, fmt.Errorf("load personas: %w", err)
	}
	files := map[string][]byte{}
	names, err := fs.Glob(Builtin(), "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("scenarios: list files: %w", err)
	}
	for _, n := range names {
		data, err := fs.ReadFile(Builtin(), n)
		if err != nil {
			return nil, fmt.Errorf("scenarios: read %s: %w", n, err)
		}
		var head struct {
			ID string `yaml:"id"`
		}
		if err := yaml.Unmarshal(data, &head); err == nil && head.ID != "" {
			files[head.ID] = data
		}
	}
	return &Composite{builtin: builtin, known: known, files: files, src: src, log: logger, now: time.Now,
		cache: map[string]*simulator.Scenario{}}, nil
}

// IsBuiltin reports whether id names a built-in scenario or persona.
func (c *Composite) IsBuiltin(kind trainer.Kind, id string) bool {
	if kind == trainer.KindPersona {
		return c.known[id] != nil
	}
	_, ok := c.files[id]
	return ok
}

// BuiltinSource returns a built-in scenario's or persona's YAML, for export
// and as a starting point in the designer.
func (c *Composite) BuiltinSource(kind trainer.Kind, id string) ([]byte, bool) {
	if kind == trainer.KindScenario {
		b, ok := c.files[id]
		return b, ok
	}
	if c.known[id] == nil {
		return nil, false
	}
	b, err := fs.ReadFile(personas.Builtin(), id+".yaml")
	return b, err == nil
}

func notFound(id string) error {
	return simulator.Errorf(simulator.CodeScenarioNotFound,
		fmt.Sprintf("No scenario %q.", id), fmt.Sprintf("没有找到场景 %q。", id))
}

func unavailable(err error) error {
	return simulator.Errorf(simulator.CodeUnavailable, "storage is unavailable; try again shortly", "存储暂不可用,请稍后重试").Wrap(err)
}

// Scenario returns the newest version of id: built-in first, then authored
// (drafts included: trainers test-play them; the public list leaves them out).
func (c *Composite) Scenario(ctx context.Context, id string) (*simulator.Scenario, error) {
	if s, err := c.builtin.Scenario(ctx, id); err == nil {
		return s, nil
	}
	src, err := c.src.Latest(ctx, trainer.KindScenario, id)
	if errors.Is(err, trainer.ErrNotFound) || (err == nil && src.Deleted) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, unavailable(err)
	}
	return c.parsed(ctx, src)
}

// ScenarioVersion returns version v of id, as a session that recorded it
// played it. A built-in scenario answers with its current version (built-in
// data changes only with a release); version 0 means the newest.
func (c *Composite) ScenarioVersion(ctx context.Context, id string, v int) (*simulator.Scenario, error) {
	if s, err := c.builtin.Scenario(ctx, id); err == nil || v == 0 {
		if err != nil {
			return c.Scenario(ctx, id)
		}
		return s, nil
	}
	if s := c.cached(id, v); s != nil {
		return s, nil
	}
	src, err := c.src.Version(ctx, trainer.KindScenario, id, v)
	if errors.Is(err, trainer.ErrNotFound) || (err == nil && src.Deleted) {
		return nil, notFound(fmt.Sprintf("%s@%d", id, v))
	}
	if err != nil {
		return nil, unavailable(err)
	}
	return c.parsed(ctx, src)
}

func (c *Composite) cached(id string, v int) *simulator.Scenario {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cache[id+"@"+strconv.Itoa(v)]
}

// parsed validates a stored version (cached: a version never changes).
func (c *Composite) parsed(ctx context.Context, src trainer.Source) (*simulator.Scenario, error) {
	if s := c.cached(src.ID, src.Version); s != nil {
		return s, nil
	}
	people, err := c.people(ctx)
	if err != nil {
		return nil, err
	}
	s, err := Validate("scenarios/"+src.ID+".yaml", []byte(src.Body), people)
	if err != nil {
		// Stored versions were valid when saved; a persona removed since can
		// break one. Say so rather than serve half a scenario.
		c.log.Warn("stored scenario no longer validates", slog.String("scenario", src.ID), slog.Int("version", src.Version), slog.Any("error", err))
		return nil, simulator.Errorf(simulator.CodeScenarioNotFound,
			fmt.Sprintf("Scenario %q version %d no longer validates: %v", src.ID, src.Version, err),
			fmt.Sprintf("场景 %q 第 %d 版已无法通过校验:%v", src.ID, src.Version, err))
	}
	s.Version = src.Version
	s.Draft = src.Draft
	c.mu.Lock()
	if len(c.cache) >= maxCached {
		clear(c.cache)
	}
	c.cache[src.ID+"@"+strconv.Itoa(src.Version)] = s
	c.mu.Unlock()
	return s, nil
}

// Scenarios returns the built-in and the authored scenarios (drafts
// included, marked Draft), sorted by id. An authored scenario that no longer
// validates is left out and logged.
func (c *Composite) Scenarios(ctx context.Context) ([]*simulator.Scenario, error) {
	out, _ := c.builtin.Scenarios(ctx)
	list, err := c.src.List(ctx, trainer.KindScenario)
	if err != nil {
		return nil, unavailable(err)
	}
	for _, src := range list {
		if src.Deleted || c.IsBuiltin(trainer.KindScenario, src.ID) {
			continue
		}
		s, err := c.parsed(ctx, src)
		if err != nil {
			continue
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *simulator.Scenario) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Personas returns the built-in personas and the published authored ones.
func (c *Composite) Personas(ctx context.Context) ([]*simulator.Persona, error) {
	people, err := c.people(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*simulator.Persona, 0, len(people))
	for _, id := range slices.Sorted(maps.Keys(people)) {
		out = append(out, people[id])
	}
	return out, nil
}

// people returns the concrete personas scenarios may name: built-in plus
// authored, published and valid.
func (c *Composite) people(ctx context.Context) (map[string]*simulator.Persona, error) {
	base, _ := c.builtin.Personas(ctx)
	out := map[string]*simulator.Persona{}
	for _, p := range base {
		out[p.ID] = p
	}
	list, err := c.src.List(ctx, trainer.KindPersona)
	if err != nil {
		return nil, unavailable(err)
	}
	for _, src := range list {
		if src.Deleted || src.Draft || c.known[src.ID] != nil {
			continue
		}
		p, err := personas.Validate("personas/"+src.ID+".yaml", []byte(src.Body), c.known)
		if err != nil {
			continue
		}
		out[p.ID] = p
	}
	return out, nil
}

// ValidateScenario checks a scenario file with the CLI's validator against
// every persona the library knows. name is used in messages.
func (c *Composite) ValidateScenario(ctx context.Context, name string, data []byte) (*simulator.Scenario, error) {
	people, err := c.people(ctx)
	if err != nil {
		return nil, err
	}
	return Validate(name, data, people)
}

// ValidatePersona checks a persona file with the CLI's validator; it may
// extend any built-in persona.
func (c *Composite) ValidatePersona(_ context.Context, name string, data []byte) (*simulator.Persona, error) {
	return personas.Validate(name, data, c.known)
}

// Authoring errors, for the HTTP layer to map.
var (
	// ErrBuiltin: built-in scenarios and personas cannot be changed.
	ErrBuiltin = errors.New("built-in; save it under a new id to change it")
	// ErrExists: POST of an id that is already authored.
	ErrExists = errors.New("already exists; change it with PUT")
	// ErrNoSuch: PUT or DELETE of an id nobody authored.
	ErrNoSuch = errors.New("no such authored item")
)

// SaveRequest is one change to an authored scenario or persona.
type SaveRequest struct {
	Kind   trainer.Kind
	ID     string // from the URL on PUT; empty on POST (taken from the body)
	Body   []byte // YAML or JSON
	Create bool   // POST: the id must be new
	// Publish, when not nil, sets `published` in the stored file.
	Publish *bool
	// Draft marks a persona draft (persona files have no published field).
	Draft  bool
	Author string
}

// Save validates and stores a new version; it returns the stored source.
// Validation problems come back as ValidationErrors.
func (c *Composite) Save(ctx context.Context, req SaveRequest) (trainer.Source, error) {
	root, err := parseDoc(req.Body)
	if err != nil {
		// Let the validator word the syntax error with its line.
		if _, verr := c.validate(ctx, req.Kind, req.Body); verr != nil {
			return trainer.Source{}, verr
		}
		return trainer.Source{}, err
	}
	id := scalar(root, "id")
	if req.ID != "" {
		if id != "" && id != req.ID {
			return trainer.Source{}, ValidationErrors{{File: string(req.Kind), Line: keyLine(root, "id"), Path: "id",
				Message: fmt.Sprintf("%q does not match the id in the URL (%q); use the same id or leave it out", id, req.ID)}}
		}
		id = req.ID
		setScalar(root, "id", id, "!!str")
	}
	if req.Publish != nil && req.Kind == trainer.KindScenario {
		setScalar(root, "published", strconv.FormatBool(*req.Publish), "!!bool")
	}
	// Field problems first: they are what a trainer can fix in the form.
	if _, verr := c.validate(ctx, req.Kind, req.Body); verr != nil && req.ID == "" {
		return trainer.Source{}, verr
	}
	body, err := encodeDoc(root)
	if err != nil {
		return trainer.Source{}, err
	}
	if _, verr := c.validate(ctx, req.Kind, body); verr != nil {
		if _, raw := c.validate(ctx, req.Kind, req.Body); raw != nil && req.ID == "" {
			return trainer.Source{}, raw // lines match the text the trainer sent
		}
		return trainer.Source{}, verr
	}
	if id != "" && c.IsBuiltin(req.Kind, id) {
		return trainer.Source{}, fmt.Errorf("%s %q: %w", req.Kind, id, ErrBuiltin)
	}
	latest := 0
	prev, err := c.src.Latest(ctx, req.Kind, id)
	switch {
	case errors.Is(err, trainer.ErrNotFound):
	case err != nil:
		return trainer.Source{}, unavailable(err)
	default:
		latest = prev.Version
		if req.Create && !prev.Deleted {
			return trainer.Source{}, fmt.Errorf("%s %q: %w", req.Kind, id, ErrExists)
		}
	}
	if !req.Create && latest == 0 {
		return trainer.Source{}, fmt.Errorf("%s %q: %w", req.Kind, id, ErrNoSuch)
	}
	if req.Kind == trainer.KindScenario {
		setScalar(root, "version", strconv.Itoa(latest+1), "!!int")
		if body, err = encodeDoc(root); err != nil {
			return trainer.Source{}, err
		}
	}
	parsedOK, err := c.validate(ctx, req.Kind, body)
	if err != nil {
		return trainer.Source{}, err
	}
	src := trainer.Source{Kind: req.Kind, ID: id, Version: latest + 1, Body: string(body), Author: req.Author, Saved: c.now().UTC()}
	switch p := parsedOK.(type) {
	case *simulator.Scenario:
		src.Draft = p.Draft
	case *simulator.Persona:
		src.Draft = req.Draft
	}
	if err := c.src.Save(ctx, src); err != nil {
		if errors.Is(err, trainer.ErrVersionConflict) {
			return trainer.Source{}, err
		}
		return trainer.Source{}, unavailable(err)
	}
	return src, nil
}

func (c *Composite) validate(ctx context.Context, kind trainer.Kind, body []byte) (any, error) {
	if kind == trainer.KindPersona {
		return c.ValidatePersona(ctx, "persona", body)
	}
	return c.ValidateScenario(ctx, "scenario", body)
}

// Delete stores a tombstone version: the id leaves the library, its old
// versions stay readable for the sessions that used them.
func (c *Composite) Delete(ctx context.Context, kind trainer.Kind, id, author string) (trainer.Source, error) {
	if c.IsBuiltin(kind, id) {
		return trainer.Source{}, fmt.Errorf("%s %q: %w", kind, id, ErrBuiltin)
	}
	prev, err := c.src.Latest(ctx, kind, id)
	if errors.Is(err, trainer.ErrNotFound) || (err == nil && prev.Deleted) {
		return trainer.Source{}, fmt.Errorf("%s %q: %w", kind, id, ErrNoSuch)
	}
	if err != nil {
		return trainer.Source{}, unavailable(err)
	}
	src := trainer.Source{Kind: kind, ID: id, Version: prev.Version + 1, Body: prev.Body, Draft: true, Deleted: true,
		Author: author, Saved: c.now().UTC()}
	if err := c.src.Save(ctx, src); err != nil {
		if errors.Is(err, trainer.ErrVersionConflict) {
			return trainer.Source{}, err
		}
		return trainer.Source{}, unavailable(err)
	}
	return src, nil
}

// Source returns the YAML of a scenario or persona: version 0 is the newest;
// built-in ones come from the embedded files.
func (c *Composite) Source(ctx context.Context, kind trainer.Kind, id string, version int) (trainer.Source, bool, error) {
	if b, ok := c.BuiltinSource(kind, id); ok {
		v := 1
		if kind == trainer.KindScenario {
			if s, err := c.builtin.Scenario(ctx, id); err == nil {
				v = s.Version
			}
		}
		return trainer.Source{Kind: kind, ID: id, Version: v, Body: string(b)}, true, nil
	}
	var src trainer.Source
	var err error
	if version > 0 {
		src, err = c.src.Version(ctx, kind, id, version)
	} else {
		src, err = c.src.Latest(ctx, kind, id)
	}
	if err != nil && !errors.Is(err, trainer.ErrNotFound) {
		return src, false, unavailable(err)
	}
	return src, false, err
}

// Authored lists the newest version of every authored item of kind.
func (c *Composite) Authored(ctx context.Context, kind trainer.Kind) ([]trainer.Source, error) {
	list, err := c.src.List(ctx, kind)
	if err != nil {
		return nil, unavailable(err)
	}
	slices.SortFunc(list, func(a, b trainer.Source) int { return strings.Compare(a.ID, b.ID) })
	return list, nil
}

// parseDoc reads YAML (or JSON, which YAML reads too) as a node tree.
func parseDoc(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not YAML or JSON: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, ValidationErrors{{File: "scenario", Message: "the file must be a YAML mapping (or a JSON object) of field: value"}}
	}
	// A JSON document arrives all in flow style; store it as block YAML so
	// exports read well. YAML keeps the trainer's own layout.
	if doc.Content[0].Style&yaml.FlowStyle != 0 {
		blockStyle(doc.Content[0])
	}
	return doc.Content[0], nil
}

func blockStyle(n *yaml.Node) {
	n.Style &^= yaml.FlowStyle
	for _, c := range n.Content {
		blockStyle(c)
	}
}

func encodeDoc(root *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	return b.Bytes(), nil
}

func scalar(m *yaml.Node, key string) string {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i+1].Kind == yaml.ScalarNode {
			return m.Content[i+1].Value
		}
	}
	return ""
}

func keyLine(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i].Line
		}
	}
	return 0
}

// setScalar sets key to a plain scalar, adding it after id when missing.
func setScalar(m *yaml.Node, key, value, tag string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
			return
		}
	}
	k := &yaml.Node{Kind: yaml.ScalarNode, Value: key}
	v := &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
	at := 0
	if len(m.Content) >= 2 && m.Content[0].Value == "id" {
		at = 2
	}
	m.Content = slices.Insert(m.Content, at, k, v)
}
