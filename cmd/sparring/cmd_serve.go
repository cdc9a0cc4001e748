package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/llm"
	"github.com/sparring-gym/sparring/simulator/redisstore"
	"github.com/sparring-gym/sparring/simulator/rubric"
	"github.com/sparring-gym/sparring/simulator/scripted"
	"github.com/sparring-gym/sparring/web"
	"github.com/sparring-gym/sparring/web/static"
)

func newServeCmd(env *cliEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Sparring server (the default command)",
		Long: `Run the Sparring server: the browser UI, the WebSocket API and the JSON API.

Every setting below is also a config-file key (--config file.yaml) and an
environment variable (SPARRING_ + the key in upper case, dots as underscores).
Precedence: flag > environment > config file > default. Secrets can be read
from files (*_file keys). With no redis.addrs the server runs on embedded
in-memory storage: nothing survives a restart.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd.Flags(), env.getenv)
			if err != nil {
				return err
			}
			tuneRuntime(env.getenv, env.stderr) // issue 9: fd limit, GOGC/GOMEMLIMIT defaults (runtime_tuning.go)
			return serve(cmd.Context(), cfg, env.stdout, env.stderr)
		},
	}
	addConfigFlags(cmd.Flags())
	return cmd
}

func newLogger(cfg LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// app is the wired program: storage, the simulator and the HTTP server.
type app struct {
	backend *redisstore.Backend
	sim     *simulator.Simulator
	web     *web.Server
}

// buildApp wires every dependency from the configuration.
func buildApp(ctx context.Context, cfg Config, logger *slog.Logger) (_ *app, err error) {
	backend, err := redisstore.Open(ctx, redisstore.Options{
		Addrs: cfg.Redis.Addrs, MasterName: cfg.Redis.MasterName, Username: cfg.Redis.Username,
		Password: cfg.Redis.Password, DB: cfg.Redis.DB, ClusterMode: cfg.Redis.ClusterMode,
		TTL: cfg.Redis.SessionTTL, Prefix: cfg.Redis.Prefix, PoolSize: cfg.Redis.PoolSize,
	}, logger)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	defer func() {
		if err != nil {
			backend.Close()
		}
	}()
	// Built-in scenarios plus those trainers author, kept in the same Redis
	// so every instance serves them (issue 7).
	authoring := redisstore.NewAuthoring(backend.Client, cfg.Redis.Prefix)
	lib, err := scenarios.NewComposite(authoring, logger)
	if err != nil {
		return nil, fmt.Errorf("scenario library: %w", err)
	}
	rules, err := rubric.New()
	if err != nil {
		return nil, fmt.Errorf("rubric: %w", err)
	}
	reg := prometheus.NewRegistry()
	scriptedEngine := scripted.New()
	customers := map[simulator.Engine]simulator.Customer{simulator.EngineScripted: scriptedEngine}
	var assessor simulator.Assessor = rules
	if cfg.LLM.Model != "" {
		lc := llm.Config{
			BaseURL: cfg.LLM.BaseURL, APIKey: cfg.LLM.APIKey, Model: cfg.LLM.Model,
			Timeout: cfg.LLM.Timeout, MaxTokens: cfg.LLM.MaxTokens, Temperature: cfg.LLM.Temperature,
			StructuredOutput: cfg.LLM.StructuredOutput, MaxConcurrency: cfg.LLM.MaxConcurrency,
			RatePerSecond: cfg.LLM.RatePerSecond,
		}
		cust, err := llm.NewCustomer(lc, scriptedEngine, logger, reg)
		if err != nil {
			return nil, fmt.Errorf("llm: %w", err)
		}
		customers[simulator.EngineLLM] = cust
		if cfg.LLM.Judge {
			judge, err := llm.NewJudge(lc, rules, logger, reg)
			if err != nil {
				return nil, fmt.Errorf("llm judge: %w", err)
			}
			assessor = judge
		}
		logger.Info("llm engine on", slog.String("base_url", cfg.LLM.BaseURL), slog.String("model", cfg.LLM.Model), slog.Bool("judge", cfg.LLM.Judge))
	}
	sessions := redisstore.New(backend.Client, cfg.Redis.SessionTTL, cfg.Redis.Prefix)
	// Load the append script now, so even the first turn is one round trip.
	if err := sessions.Preload(ctx); err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	store := authoring.Indexed(sessions)
	sim := simulator.New(simulator.Deps{
		Library: lib, Customers: customers, Assessor: assessor, Store: store, Logger: logger,
	})
	srv := web.NewServer(web.Config{
		AllowedOrigins:    cfg.HTTP.AllowedOrigins,
		MaxMessageBytes:   cfg.WS.MaxMessageBytes,
		HardLimitBytes:    4 * cfg.WS.MaxMessageBytes,
		WriteWait:         cfg.WS.WriteWait,
		PongWait:          cfg.WS.PongWait,
		PingPeriod:        cfg.WS.PingPeriod,
		MessagesPerSecond: cfg.WS.MessagesPerSecond,
		Burst:             cfg.WS.Burst,
		MaxConnsPerIP:     cfg.WS.MaxConnsPerIP,
		TrainerTokens:     cfg.Trainer.Tokens,
	}, web.Deps{
		Simulator: sim, Library: lib, Static: static.FS(), Registry: reg, Logger: logger,
		Ready: func(ctx context.Context) error { return backend.Client.Ping(ctx).Err() },

		Authoring: lib, TrainerStore: authoring, Calibrator: rules, // issue 7

		Contests: redisstore.NewContests(backend.Client, cfg.Redis.Prefix, 0), // issue 8
	})
	return &app{backend: backend, sim: sim, web: srv}, nil
}

// serve listens first (so a taken port fails at once), serves until ctx is
// cancelled, then drains: new connections are refused, in-flight turns are
// stored, and every WebSocket is closed with 1001.
func serve(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	logger := newLogger(cfg.Log, stderr)
	a, err := buildApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.backend.Close()

	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("http.addr: %w", err)
	}
	httpSrv := &http.Server{
		Handler:           a.web,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	storage := "redis " + strings.Join(cfg.Redis.Addrs, ",")
	if a.backend.Embedded {
		storage = "embedded in-memory (data is lost on exit)"
	}
	fmt.Fprintf(stdout, "Sparring is running: open http://%s/ (storage: %s)\n", displayAddr(ln.Addr()), storage)

	if cfg.Debug.Addr != "" {
		stop, err := serveDebug(cfg.Debug.Addr, logger)
		if err != nil {
			return err
		}
		defer stop()
	}

	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.Shutdown.Timeout)
	defer cancel()
	wsErr := a.web.Shutdown(shutdownCtx)
	httpErr := httpSrv.Shutdown(shutdownCtx)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return errors.Join(wsErr, httpErr)
}

// displayAddr turns a wildcard listen address into one a browser can open.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", tcp.Port)
	}
	return tcp.String()
}

// serveDebug serves net/http/pprof on its own listener, apart from the public
// handler, so profiles are reachable only where the operator bound them.
func serveDebug(addr string, logger *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("debug.addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	logger.Info("pprof profiles served", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}
