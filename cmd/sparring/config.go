package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// Config is every setting of `sparring serve`. Each key is a config-file key,
// a flag (--http.addr) and an environment variable (SPARRING_HTTP_ADDR).
type Config struct {
	HTTP     HTTPConfig     `mapstructure:"http"`
	WS       WSConfig       `mapstructure:"ws"`
	Redis    RedisConfig    `mapstructure:"redis"`
	Trainer  TrainerConfig  `mapstructure:"trainer"`
	LLM      LLMConfig      `mapstructure:"llm"`
	Log      LogConfig      `mapstructure:"log"`
	Shutdown ShutdownConfig `mapstructure:"shutdown"`
	Debug    DebugConfig    `mapstructure:"debug"`
}

type HTTPConfig struct {
	Addr           string   `mapstructure:"addr"`
	AllowedOrigins []string `mapstructure:"allowed_origins"`
}

type WSConfig struct {
	MaxMessageBytes   int64         `mapstructure:"max_message_bytes"`
	PingPeriod        time.Duration `mapstructure:"ping_period"`
	PongWait          time.Duration `mapstructure:"pong_wait"`
	WriteWait         time.Duration `mapstructure:"write_wait"`
	MessagesPerSecond float64       `mapstructure:"messages_per_second"`
	Burst             int           `mapstructure:"burst"`
	MaxConnsPerIP     int           `mapstructure:"max_conns_per_ip"`
}

type RedisConfig struct {
	Addrs        []string      `mapstructure:"addrs"`
	MasterName   string        `mapstructure:"master_name"`
	Username     string        `mapstructure:"username"`
	Password     string        `mapstructure:"password"`
	PasswordFile string        `mapstructure:"password_file"`
	DB           int           `mapstructure:"db"`
	ClusterMode  bool          `mapstructure:"cluster_mode"`
	SessionTTL   time.Duration `mapstructure:"session_ttl"`
	Prefix       string        `mapstructure:"prefix"`
	PoolSize     int           `mapstructure:"pool_size"`
}

type TrainerConfig struct {
	Tokens     []string `mapstructure:"tokens"`
	TokensFile string   `mapstructure:"tokens_file"`
}

type LLMConfig struct {
	BaseURL          string        `mapstructure:"base_url"`
	APIKey           string        `mapstructure:"api_key"`
	APIKeyFile       string        `mapstructure:"api_key_file"`
	Model            string        `mapstructure:"model"`
	Timeout          time.Duration `mapstructure:"timeout"`
	MaxTokens        int           `mapstructure:"max_tokens"`
	Temperature      float32       `mapstructure:"temperature"`
	StructuredOutput string        `mapstructure:"structured_output"`
	Judge            bool          `mapstructure:"judge"`
	MaxConcurrency   int           `mapstructure:"max_concurrency"`
	RatePerSecond    float64       `mapstructure:"rate_per_second"`
}

type LogConfig struct {
	Level  string `mapstructure:"level"`
	Format string `mapstructure:"format"`
}

type ShutdownConfig struct {
	Timeout time.Duration `mapstructure:"timeout"`
}

type DebugConfig struct {
	Addr string `mapstructure:"addr"`
}

// setting documents one key; the table drives flags, defaults and --help.
type setting struct {
	key   string
	def   any
	usage string
}

// settings lists every key with its default. Defaults live here, in code.
var settings = []setting{
	{"http.addr", "127.0.0.1:8080", "listen address (host:port)"},
	{"http.allowed_origins", []string{}, "extra Origins allowed on /ws, comma-separated (\"*\" for any); same-origin is always allowed"},
	{"ws.max_message_bytes", int64(16 << 10), "largest client frame answered with an error; 4x this closes the connection (1009)"},
	{"ws.ping_period", 27 * time.Second, "how often the server pings each connection"},
	{"ws.pong_wait", 60 * time.Second, "how long a silent connection is kept"},
	{"ws.write_wait", 10 * time.Second, "deadline for each write to a client"},
	{"ws.messages_per_second", 2.0, "sustained client messages per second per connection"},
	{"ws.burst", 10, "client message burst per connection"},
	{"ws.max_conns_per_ip", 200, "concurrent WebSocket connections allowed from one address"},
	{"redis.addrs", []string{}, "Redis addresses, comma-separated; empty = embedded in-memory storage; several = cluster"},
	{"redis.master_name", "", "Sentinel master name (addrs are then the sentinels)"},
	{"redis.username", "", "Redis ACL user"},
	{"redis.password", "", "Redis password"},
	{"redis.password_file", "", "file holding the Redis password"},
	{"redis.db", 0, "Redis database number (single node and sentinel only)"},
	{"redis.cluster_mode", false, "treat a single address as a cluster seed"},
	{"redis.session_ttl", 7 * 24 * time.Hour, "how long a session is kept after its last change"},
	{"redis.prefix", "sparring:", "prefix of every Redis key"},
	{"redis.pool_size", 256, "Redis connections per node (each turn waits for Redis's fsync)"},
	{"trainer.tokens", []string{}, "trainer bearer tokens, comma-separated"},
	{"trainer.tokens_file", "", "file holding trainer tokens, one per line"},
	{"llm.base_url", "", "OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1"},
	{"llm.api_key", "", "API key of the endpoint"},
	{"llm.api_key_file", "", "file holding the API key"},
	{"llm.model", "", "model name; the llm engine is off when empty"},
	{"llm.timeout", 20 * time.Second, "deadline of one model call"},
	{"llm.max_tokens", 200, "cap on tokens of one customer line"},
	{"llm.temperature", float32(0.7), "sampling temperature (0 is sent as 0)"},
	{"llm.structured_output", "json_schema", "json_schema | json_object | none, as the provider supports"},
	{"llm.judge", false, "ask the model for a second opinion on every reply"},
	{"llm.max_concurrency", 16, "concurrent model calls"},
	{"llm.rate_per_second", 10.0, "model calls per second"},
	{"log.level", "info", "debug | info | warn | error"},
	{"log.format", "text", "text | json"},
	{"shutdown.timeout", 10 * time.Second, "how long shutdown waits for in-flight turns"},
	{"debug.addr", "", "serve Go's pprof profiles here, e.g. 127.0.0.1:6060; empty = off (keep it on loopback: profiles reveal internals)"},
}

const envPrefix = "SPARRING_"

// addConfigFlags declares one flag per setting plus --config.
func addConfigFlags(fs *pflag.FlagSet) {
	fs.String("config", "", "YAML config file (keys as below; env SPARRING_CONFIG)")
	for _, s := range settings {
		usage := fmt.Sprintf("%s (env %s)", s.usage, envName(s.key))
		switch d := s.def.(type) {
		case string:
			fs.String(s.key, d, usage)
		case []string:
			fs.StringSlice(s.key, d, usage)
		case int:
			fs.Int(s.key, d, usage)
		case int64:
			fs.Int64(s.key, d, usage)
		case float64:
			fs.Float64(s.key, d, usage)
		case float32:
			fs.Float32(s.key, d, usage)
		case bool:
			fs.Bool(s.key, d, usage)
		case time.Duration:
			fs.Duration(s.key, d, usage)
		default:
			panic(fmt.Sprintf("setting %s: unsupported default type %T", s.key, d))
		}
	}
}

func envName(key string) string {
	return envPrefix + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
}

// loadConfig layers flag > environment > file > default. The environment is
// read through getenv (not os.Getenv) so tests can run in parallel; it is
// merged over the file as a config map, which also avoids viper's blind spot
// for env-only keys.
func loadConfig(fs *pflag.FlagSet, getenv func(string) string) (Config, error) {
	v := viper.New()
	for _, s := range settings {
		v.SetDefault(s.key, s.def)
	}
	path, _ := fs.GetString("config")
	if path == "" {
		path = getenv("SPARRING_CONFIG")
	}
	if path != "" {
		v.SetConfigFile(path)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return Config{}, fmt.Errorf("config file %s: %w", path, err)
		}
		if err := checkKnownKeys(v.AllKeys(), path); err != nil {
			return Config{}, err
		}
	}
	env := map[string]any{}
	for _, s := range settings {
		if val := getenv(envName(s.key)); val != "" {
			setNested(env, s.key, val)
		}
	}
	if err := v.MergeConfigMap(env); err != nil {
		return Config{}, fmt.Errorf("environment: %w", err)
	}
	for _, s := range settings {
		if f := fs.Lookup(s.key); f != nil && f.Changed {
			if err := v.BindPFlag(s.key, f); err != nil {
				return Config{}, fmt.Errorf("flag --%s: %w", s.key, err)
			}
		}
	}
	var cfg Config
	if err := v.Unmarshal(&cfg); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if err := cfg.readSecretFiles(); err != nil {
		return Config{}, err
	}
	cfg.HTTP.AllowedOrigins = splitList(cfg.HTTP.AllowedOrigins)
	cfg.Redis.Addrs = splitList(cfg.Redis.Addrs)
	cfg.Trainer.Tokens = splitList(cfg.Trainer.Tokens)
	return cfg, cfg.Validate()
}

func setNested(m map[string]any, key, val string) {
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = val
}

// checkKnownKeys rejects typos in the config file rather than ignoring them.
func checkKnownKeys(keys []string, path string) error {
	known := map[string]bool{"config": true}
	for _, s := range settings {
		known[s.key] = true
	}
	var unknown []string
	for _, k := range keys {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("config file %s: unknown key(s) %s; see `sparring serve --help` for the valid keys", path, strings.Join(unknown, ", "))
	}
	return nil
}

// splitList accepts both YAML lists and comma-separated strings.
func splitList(in []string) []string {
	out := []string{}
	for _, s := range in {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// readSecretFiles fills secrets from their *_file settings (Docker/Kubernetes secrets).
func (c *Config) readSecretFiles() error {
	read := func(key, path string) (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s: cannot read %s: %w", key, path, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if c.Redis.PasswordFile != "" {
		s, err := read("redis.password_file", c.Redis.PasswordFile)
		if err != nil {
			return err
		}
		c.Redis.Password = s
	}
	if c.LLM.APIKeyFile != "" {
		s, err := read("llm.api_key_file", c.LLM.APIKeyFile)
		if err != nil {
			return err
		}
		c.LLM.APIKey = s
	}
	if c.Trainer.TokensFile != "" {
		s, err := read("trainer.tokens_file", c.Trainer.TokensFile)
		if err != nil {
			return err
		}
		c.Trainer.Tokens = append(c.Trainer.Tokens, strings.Fields(s)...)
	}
	return nil
}

// Validate checks every setting; each message names the key and the fix.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s (%s): %s", key, envName(key), fmt.Sprintf(format, args...)))
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		bad("http.addr", "%q is not host:port; use e.g. 127.0.0.1:8080 or :8080", c.HTTP.Addr)
	}
	if c.Debug.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Debug.Addr); err != nil {
			bad("debug.addr", "%q is not host:port; use e.g. 127.0.0.1:6060, or leave it empty", c.Debug.Addr)
		}
	}
	if c.WS.MaxMessageBytes < 4096 {
		bad("ws.max_message_bytes", "%d is too small for a 2000-character reply; use at least 4096", c.WS.MaxMessageBytes)
	}
	if c.WS.PongWait <= c.WS.PingPeriod {
		bad("ws.pong_wait", "must be longer than ws.ping_period (%s)", c.WS.PingPeriod)
	}
	if c.WS.WriteWait <= 0 {
		bad("ws.write_wait", "must be positive, e.g. 10s")
	}
	if c.WS.MessagesPerSecond <= 0 || c.WS.Burst < 1 {
		bad("ws.messages_per_second", "rate and ws.burst must be positive, e.g. 2 and 10")
	}
	if c.WS.MaxConnsPerIP < 1 {
		bad("ws.max_conns_per_ip", "must be at least 1")
	}
	for _, a := range c.Redis.Addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			bad("redis.addrs", "%q is not host:port; use e.g. 127.0.0.1:6379", a)
		}
	}
	if c.Redis.MasterName != "" && len(c.Redis.Addrs) == 0 {
		bad("redis.master_name", "needs the sentinel addresses in redis.addrs")
	}
	if c.Redis.DB < 0 || c.Redis.DB > 15 {
		bad("redis.db", "%d is out of range; use 0-15", c.Redis.DB)
	}
	if c.Redis.PoolSize < 1 {
		bad("redis.pool_size", "%d is too small; use at least 1 (e.g. 256)", c.Redis.PoolSize)
	}
	if c.Redis.SessionTTL < time.Minute {
		bad("redis.session_ttl", "%s is too short; use at least 1m (e.g. 168h)", c.Redis.SessionTTL)
	}
	if (c.LLM.BaseURL == "") != (c.LLM.Model == "") {
		bad("llm.model", "set both llm.base_url and llm.model to enable the llm engine, or neither")
	}
	if c.LLM.Timeout <= 0 {
		bad("llm.timeout", "must be positive, e.g. 20s")
	}
	if c.LLM.Temperature < 0 || c.LLM.Temperature > 2 {
		bad("llm.temperature", "%v is out of range; use 0-2", c.LLM.Temperature)
	}
	switch c.LLM.StructuredOutput {
	case "json_schema", "json_object", "none":
	default:
		bad("llm.structured_output", "%q is not one of json_schema, json_object, none", c.LLM.StructuredOutput)
	}
	switch strings.ToLower(c.Log.Level) {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "%q is not text or json", c.Log.Format)
	}
	if c.Shutdown.Timeout <= 0 {
		bad("shutdown.timeout", "must be positive, e.g. 10s")
	}
	return errors.Join(errs...)
}
