package web

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator/trainer"
)

// Character Card V2 (github.com/malfoyslastname/character-card-spec-v2) is
// the open persona format many chat tools export. A card describes a
// character in prose; our personas are numbers and staged lines. An import
// keeps what maps (name, description, personality, tags), extends the base
// persona for everything else, stores the result as a draft, and flags each
// field the trainer has to decide.

// CharacterCard is the V2 card envelope.
type CharacterCard struct {
	Spec        string        `json:"spec"`
	SpecVersion string        `json:"spec_version"`
	Data        CharacterData `json:"data"`
}

// CharacterData is the card's content.
type CharacterData struct {
	Name                    string         `json:"name"`
	Description             string         `json:"description"`
	Personality             string         `json:"personality"`
	Scenario                string         `json:"scenario"`
	FirstMes                string         `json:"first_mes"`
	MesExample              string         `json:"mes_example"`
	CreatorNotes            string         `json:"creator_notes"`
	SystemPrompt            string         `json:"system_prompt"`
	PostHistoryInstructions string         `json:"post_history_instructions"`
	AlternateGreetings      []string       `json:"alternate_greetings"`
	Tags                    []string       `json:"tags"`
	Creator                 string         `json:"creator"`
	CharacterVersion        string         `json:"character_version"`
	Extensions              map[string]any `json:"extensions"`
}

// CardImport answers POST /api/trainer/personas/card.
type CardImport struct {
	AuthoredView
	YAML  string           `json:"yaml"`
	Needs []fieldErrorJSON `json:"needs"` // fields to fill before publishing
}

var reNonID = regexp.MustCompile(`[^a-z0-9]+`)

// cardID derives a persona id from the card's name; Chinese-only names fall
// back to "card-" plus a short hash-free ordinal-free slug.
func cardID(name string) string {
	id := strings.Trim(reNonID.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if id == "" {
		id = "card"
	}
	if len(id) > 40 {
		id = strings.Trim(id[:40], "-")
	}
	return "card-" + id
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// cardTraits splits a personality line into short traits.
func cardTraits(personality string, tags []string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(t string) {
		t = strings.TrimSpace(strings.Trim(t, ".。!"))
		if t == "" || len([]rune(t)) > 40 || seen[strings.ToLower(t)] || len(out) >= 8 {
			return
		}
		seen[strings.ToLower(t)] = true
		out = append(out, t)
	}
	for _, t := range strings.FieldsFunc(personality, func(r rune) bool { return strings.ContainsRune(",;、,;\n", r) }) {
		add(t)
	}
	for _, t := range tags {
		add(t)
	}
	return out
}

func str(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }

func both(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{str("zh"), str(v), str("en"), str(v)}}
}

// cardPersona turns a card into persona YAML and the list of fields to fill.
func cardPersona(c CharacterCard, id string) ([]byte, []fieldErrorJSON) {
	d := c.Data
	m := &yaml.Node{Kind: yaml.MappingNode}
	add := func(k string, v *yaml.Node, comment string) {
		key := str(k)
		key.Tag = ""
		v.LineComment = comment
		m.Content = append(m.Content, key, v)
	}
	var needs []fieldErrorJSON
	need := func(path, msg string) { needs = append(needs, fieldErrorJSON{Path: path, Message: msg}) }

	m.HeadComment = fmt.Sprintf("Imported from a Character Card V2: %q", d.Name)
	if d.Creator != "" {
		m.HeadComment += " by " + d.Creator
	}
	if d.CharacterVersion != "" {
		m.HeadComment += ", version " + d.CharacterVersion
	}
	m.HeadComment += ".\nLines marked TODO are defaults from the base persona: decide them before publishing."
	add("id", str(id), "")
	add("extends", str("base"), "")
	lang := "en"
	if hasHan(d.Name + d.Description) {
		lang = "zh"
	}
	add("name", both(d.Name), "TODO: translate so zh and en differ where needed")
	need("name", "the card has one name; check the zh and en names")
	if desc := clip(d.Description, 400); desc != "" {
		add("summary", both(desc), "TODO: from the card's description; shorten and translate")
		need("summary", fmt.Sprintf("copied from the card's description (%s); shorten it and translate it", lang))
	} else {
		need("summary", "the card has no description; write a one-line summary for trainers")
	}
	if traits := cardTraits(d.Personality, d.Tags); len(traits) > 0 {
		seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, t := range traits {
			seq.Content = append(seq.Content, str(t))
		}
		add("traits", seq, "from the card's personality and tags")
	}
	add("style", str("expressive"), "TODO: driver, analytical, amiable or expressive")
	need("style", "a card has no interpersonal style; choose driver, analytical, amiable or expressive (GUIDE §6.1)")
	add("mood", &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Value: "anger"}, {Kind: yaml.ScalarNode, Value: "50"},
		{Kind: yaml.ScalarNode, Value: "trust"}, {Kind: yaml.ScalarNode, Value: "40"}}}, "TODO: starting anger and trust, 0–100")
	need("mood", "a card has no mood; set the starting anger and trust (0–100)")
	add("patience", &yaml.Node{Kind: yaml.ScalarNode, Value: "3"}, "TODO: unhelpful replies in a row tolerated, 1–20")
	need("patience", "set how many unhelpful replies in a row the customer tolerates (1–20)")
	need("expectation", "set the expected service level and where it comes from (experience, word_of_mouth, personal_need); the base's is used until then")
	need("demands", "a card has no demands; give what the customer presses for (or let each scenario give its own)")
	need("lines", "the base persona's generic lines are used; write this character's lines per stage (press, settle, accept, …) in zh and en")
	var notes []string
	if d.FirstMes != "" {
		notes = append(notes, "first_mes: "+clip(d.FirstMes, 300))
	}
	for i, g := range d.AlternateGreetings {
		if i == 3 {
			break
		}
		notes = append(notes, "alternate greeting: "+clip(g, 300))
	}
	if d.Scenario != "" {
		notes = append(notes, "card scenario: "+clip(d.Scenario, 300))
	}
	if len(notes) > 0 {
		m.FootComment = "From the card, for the scenario's customer.opening and brief:\n" + strings.Join(notes, "\n")
		need("opening", "the card's greetings are kept as comments at the end; use them as customer.opening in a scenario")
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	_ = enc.Encode(m)
	_ = enc.Close()
	return b.Bytes(), needs
}

// maxCardBody bounds a card upload; PNG cards carry a portrait.
const maxCardBody = 8 << 20

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// cardFromPNG finds the card JSON that chat tools embed in a PNG portrait: a
// tEXt chunk with the keyword "chara" holding base64 JSON.
func cardFromPNG(b []byte) ([]byte, error) {
	p := b[len(pngSignature):]
	for len(p) >= 12 {
		n := binary.BigEndian.Uint32(p[:4])
		typ := string(p[4:8])
		if uint64(n) > uint64(len(p)-12) {
			break
		}
		data := p[8 : 8+n]
		if typ == "tEXt" {
			if key, val, ok := bytes.Cut(data, []byte{0}); ok && string(key) == "chara" {
				out, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(val)))
				if err != nil {
					return nil, fmt.Errorf("the PNG's chara text is not base64: %w", err)
				}
				return out, nil
			}
		}
		if typ == "IEND" {
			break
		}
		p = p[12+n:]
	}
	return nil, errors.New("the PNG has no character card (no tEXt chunk named chara)")
}

func (s *Server) handleImportCard(w http.ResponseWriter, r *http.Request, who string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCardBody))
	if err != nil {
		writeAPIError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the card is over %d bytes", maxCardBody))
		return
	}
	if bytes.HasPrefix(body, pngSignature) {
		if body, err = cardFromPNG(body); err != nil {
			writeFieldErrors(w, invalid("", "%v", err))
			return
		}
	}
	var c CharacterCard
	if err := json.Unmarshal(body, &c); err != nil {
		writeFieldErrors(w, invalid("", "not a Character Card V2 (JSON, or a PNG with the card embedded): %v", err))
		return
	}
	var errs scenarios.ValidationErrors
	if c.Spec != "chara_card_v2" {
		errs = append(errs, scenarios.FieldError{Path: "spec", Message: fmt.Sprintf("%q is not chara_card_v2; export the card as Character Card V2 JSON", c.Spec)})
	}
	if strings.TrimSpace(c.Data.Name) == "" {
		errs = append(errs, scenarios.FieldError{Path: "data.name", Message: "the card has no name"})
	}
	if len(errs) > 0 {
		writeFieldErrors(w, errs)
		return
	}
	id := r.URL.Query().Get("id")
	if id == "" {
		id = cardID(c.Data.Name)
	}
	body, needs := cardPersona(c, id)
	create := true
	if _, _, err := s.authoring.Source(r.Context(), trainer.KindPersona, id, 0); err == nil {
		create = false
	}
	src, err := s.authoring.Save(r.Context(), scenarios.SaveRequest{Kind: trainer.KindPersona, ID: id, Body: body,
		Create: create, Draft: true, Author: who})
	if err != nil {
		s.authorError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, CardImport{AuthoredView: s.authoredView(r.Context(), src), YAML: src.Body, Needs: needs})
}
