package llm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sparring-gym/sparring/simulator"
)

// Customer is the `llm` engine: inner decides every turn (mood, moves,
// outcome, state, the scripted line and its Intent) and the model words the
// line. When the model fails or breaks role the scripted line is kept and
// the turn is marked Fallback, so the session always completes.
//
// A stream cut after deltas reached the trainee is not retried (the trainee
// would see the line start twice); the turn falls back to the scripted line,
// and the `customer` event, which is authoritative, replaces the partial
// text on screen.
type Customer struct {
	inner simulator.Customer
	p     *provider
}

var _ simulator.Customer = (*Customer)(nil)

// NewCustomer wraps inner (in production scripted.New()) with a model.
// reg may be nil (no metrics); logger may be nil (discard).
func NewCustomer(cfg Config, inner simulator.Customer, logger *slog.Logger, reg prometheus.Registerer) (*Customer, error) {
	if inner == nil {
		return nil, errors.New("llm.NewCustomer: inner customer is nil")
	}
	p, err := newProvider(cfg, "customer", logger, reg)
	if err != nil {
		return nil, fmt.Errorf("llm.NewCustomer: %w", err)
	}
	return &Customer{inner: inner, p: p}, nil
}

// Open words the inner engine's opening line.
func (c *Customer) Open(ctx context.Context, req simulator.OpenRequest) (simulator.CustomerTurn, error) {
	turn, err := c.inner.Open(ctx, req)
	if err != nil {
		return turn, err
	}
	return c.word(ctx, turn, nil, lineContext{
		Scenario: req.Scenario, Lang: langOf(req.Lang, req.Scenario), Opening: true,
	}), nil
}

// Respond lets the inner engine decide the turn, then words it, streaming
// pieces to req.Delta.
func (c *Customer) Respond(ctx context.Context, req simulator.RespondRequest) (simulator.CustomerTurn, error) {
	delta := req.Delta
	req.Delta = nil // the scripted line is not streamed; ours is
	turn, err := c.inner.Respond(ctx, req)
	if err != nil {
		return turn, err
	}
	return c.word(ctx, turn, delta, lineContext{
		Scenario: req.Scenario, Lang: langOf(req.Lang, req.Scenario),
		Transcript: req.Transcript, Reply: req.Reply,
	}), nil
}

// Conclude is the inner engine's decision alone.
func (c *Customer) Conclude(ctx context.Context, req simulator.ConcludeRequest) (simulator.Outcome, string, error) {
	return c.inner.Conclude(ctx, req)
}

// word replaces turn.Text with the model's wording, or marks the turn as a
// fallback. It never fails: the scripted line is always there.
func (c *Customer) word(ctx context.Context, turn simulator.CustomerTurn, delta func(string), lc lineContext) simulator.CustomerTurn {
	if turn.Text == "" {
		return turn // the engine chose silence; nothing to word
	}
	lc.Turn = turn
	lc.MaxRunes = c.p.cfg.MaxRunes
	req := c.p.request(customerMessages(lc), c.p.cfg.MaxTokens)
	sink := &lineSink{delta: delta, maxRunes: c.p.cfg.MaxRunes}
	err := c.p.call(ctx, func(ctx context.Context) error {
		sink.reset()
		finish, err := c.p.stream(ctx, req, sink.piece)
		sink.truncated = finish == "length"
		return err
	}, sink.committed)
	var text string
	if err == nil {
		text, err = sink.line()
		if err != nil {
			c.p.m.errors.WithLabelValues(c.p.use, errKind(err)).Inc()
		}
	}
	if err != nil {
		kind := errKind(err)
		c.p.fallback(kind)
		level := slog.LevelWarn
		if kind == kindBreakerOpen || kind == kindCanceled {
			level = slog.LevelDebug // logged once by the breaker, or nobody is waiting
		}
		c.p.logger.LogAttrs(ctx, level, "llm customer line fell back to the scripted line",
			slog.String("kind", kind), slog.Bool("partial_sent", sink.committed()), slog.Any("error", err))
		turn.Fallback = true
		return turn
	}
	turn.Text = text
	turn.Fallback = false
	return turn
}

func langOf(l simulator.Lang, s *simulator.Scenario) simulator.Lang {
	if l.Valid() {
		return l
	}
	if s != nil && s.Lang.Valid() {
		return s.Lang
	}
	return simulator.LangEN
}
