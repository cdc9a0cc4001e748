package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Options says which Redis to use. With no Addrs, Open starts an embedded
// in-memory server instead.
type Options struct {
	// Addrs: one address for a single node; the sentinels with MasterName;
	// several (or ClusterMode) for a cluster.
	Addrs       []string
	MasterName  string
	Username    string
	Password    string
	DB          int
	ClusterMode bool
	// TTL is the sliding expiry of a session; 0 keeps sessions forever.
	TTL time.Duration
	// Prefix goes in front of every key (e.g. "sparring:"); no braces.
	Prefix string
	// PoolSize caps connections per node; 0 keeps go-redis's default (10 per
	// CPU). Every turn waits for Redis's fsync (appendfsync always), so a
	// busy server needs many turns in flight at once.
	PoolSize int
}

// pingTimeout bounds the start-up check so a wrong address fails fast.
const pingTimeout = 5 * time.Second

// Backend is an open connection to the configured Redis, or to the embedded
// server when none is configured.
type Backend struct {
	Client redis.UniversalClient
	// Embedded is true when Client talks to the in-process server: data lives
	// in memory only and is lost on exit.
	Embedded bool

	opts      Options
	mini      *miniredis.Miniredis
	closeOnce sync.Once
	closeErr  error
}

// Validate checks o and names the setting to fix.
func (o Options) Validate() error {
	var errs []error
	if len(o.Addrs) == 0 {
		if o.MasterName != "" {
			errs = append(errs, errors.New("redis master name is set but no addrs: list the sentinel addresses in redis addrs"))
		}
		if o.ClusterMode {
			errs = append(errs, errors.New("redis cluster mode is on but no addrs: list at least one cluster node in redis addrs"))
		}
	}
	for i, a := range o.Addrs {
		if strings.TrimSpace(a) == "" {
			errs = append(errs, fmt.Errorf("redis addrs[%d] is empty: remove it or give host:port", i))
		}
	}
	if o.MasterName != "" && o.ClusterMode {
		errs = append(errs, errors.New("redis master name (sentinel) and cluster mode are both set: choose one"))
	}
	if o.DB < 0 {
		errs = append(errs, fmt.Errorf("redis db is %d: use 0 or more", o.DB))
	}
	if o.DB != 0 && (o.ClusterMode || (len(o.Addrs) > 1 && o.MasterName == "")) {
		errs = append(errs, fmt.Errorf("redis db is %d but a cluster only has db 0: set redis db to 0", o.DB))
	}
	if o.TTL < 0 {
		errs = append(errs, fmt.Errorf("session ttl is %s: use 0 (never expire) or a positive duration", o.TTL))
	}
	if strings.ContainsAny(o.Prefix, "{}") {
		errs = append(errs, fmt.Errorf("redis prefix %q contains a brace, which would break per-session hash tags: remove it", o.Prefix))
	}
	return errors.Join(errs...)
}

// mode names the client kind go-redis builds for o, for messages.
func (o Options) mode() string {
	switch {
	case o.MasterName != "":
		return "sentinel"
	case o.ClusterMode || len(o.Addrs) > 1:
		return "cluster"
	default:
		return "single node"
	}
}

// Open connects to the Redis o describes and checks it answers, or, when o
// has no Addrs, starts an in-process miniredis on loopback and points the
// same client code at it.
func Open(ctx context.Context, o Options, logger *slog.Logger) (*Backend, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	if len(o.Addrs) == 0 {
		return openEmbedded(ctx, o, logger)
	}
	client := redis.NewUniversalClient(clientOptions(o, o.Addrs))
	b := &Backend{Client: client, opts: o}
	if err := b.ping(ctx); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("redisstore: cannot reach Redis (%s) at %s: %w", o.mode(), strings.Join(o.Addrs, ","), err)
	}
	logger.Info("storage: Redis", "mode", o.mode(), "addrs", o.Addrs, "master", o.MasterName, "db", o.DB, "ttl", o.TTL.String())
	b.checkDurability(ctx, logger)
	return b, nil
}

// checkDurability warns when Redis may lose acknowledged turns: with AOF off,
// or with appendfsync other than always, a plain Redis crash loses writes it
// already answered (PERFORMANCE-NOTES.md: 5,727 turns in one everysec trial).
// Managed services often disable CONFIG; then there is nothing to check.
func (b *Backend) checkDurability(ctx context.Context, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	conf, err := b.Client.ConfigGet(ctx, "append*").Result()
	if err != nil {
		logger.Debug("storage: cannot read Redis persistence settings", "error", err)
		return
	}
	if conf["appendonly"] != "yes" || conf["appendfsync"] != "always" {
		logger.Warn("storage: Redis may lose acknowledged turns if it crashes; "+
			"for zero loss set appendonly yes and appendfsync always",
			"appendonly", conf["appendonly"], "appendfsync", conf["appendfsync"])
	}
}

func openEmbedded(ctx context.Context, o Options, logger *slog.Logger) (*Backend, error) {
	m := miniredis.NewMiniRedis()
	// Without ClockTTL miniredis never expires keys on its own.
	m.ClockTTL(true)
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("redisstore: start embedded server: %w", err)
	}
	client := redis.NewUniversalClient(clientOptions(Options{DB: o.DB}, []string{m.Addr()}))
	b := &Backend{Client: client, Embedded: true, opts: o, mini: m}
	if err := b.ping(ctx); err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("redisstore: embedded server at %s: %w", m.Addr(), err)
	}
	logger.Warn("storage: no Redis configured (redis addrs is empty); using an embedded in-memory server. "+
		"All sessions live in this process's memory only and are LOST when it exits. "+
		"Set redis addrs to keep them.", "addr", m.Addr(), "ttl", o.TTL.String())
	return b, nil
}

// clientOptions maps o to go-redis options. ContextTimeoutEnabled makes a
// request's context deadline bound its socket I/O; without it go-redis waits
// out its own read timeout even after the turn's context is done.
func clientOptions(o Options, addrs []string) *redis.UniversalOptions {
	return &redis.UniversalOptions{
		Addrs:                 addrs,
		MasterName:            o.MasterName,
		Username:              o.Username,
		Password:              o.Password,
		DB:                    o.DB,
		IsClusterMode:         o.ClusterMode,
		ContextTimeoutEnabled: true,
		PoolSize:              o.PoolSize,
		// A turn's script call is a few KiB; go-redis's 32 KiB default
		// buffers (two per pooled connection) cost 13 MiB at a pool of 200,
		// a MiB per 1,000 idle sessions in issue 9's measurement. Larger
		// values still pass; bufio just takes more than one read or write.
		ReadBufferSize:  8 << 10,
		WriteBufferSize: 8 << 10,
		// Fail a turn fast while Redis is down: the client is told
		// `unavailable` and retries; the reply id makes that safe.
		DialerRetries:   2,
		MaxRetries:      1,
		MaxRetryBackoff: 100 * time.Millisecond,
	}
}

func (b *Backend) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	return b.Client.Ping(ctx).Err()
}

// Store returns the session store on this backend with the TTL and prefix
// from the Options Open was given.
func (b *Backend) Store() *Store {
	return New(b.Client, b.opts.TTL, b.opts.Prefix)
}

// Addrs returns the addresses the client connects to: the configured ones,
// or the embedded server's loopback address.
func (b *Backend) Addrs() []string {
	if b.mini != nil {
		return []string{b.mini.Addr()}
	}
	return b.opts.Addrs
}

// Ping reports whether storage answers (for readiness checks).
func (b *Backend) Ping(ctx context.Context) error {
	if err := b.Client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redisstore: ping: %w", err)
	}
	return nil
}

// Close closes the client and stops the embedded server, if any. It is safe
// to call more than once.
func (b *Backend) Close() error {
	b.closeOnce.Do(func() {
		b.closeErr = b.Client.Close()
		if b.mini != nil {
			b.mini.Close()
		}
	})
	return b.closeErr
}
