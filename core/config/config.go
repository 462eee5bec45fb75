// Package config loads pfinni's settings with koanf: built-in defaults, then
// pfinni.yaml, then PFINNI_* environment variables, then command-line
// flags, each overriding the one before. Keys are flat and spelled the same
// everywhere: `http_addr` in the file, PFINNI_HTTP_ADDR in the environment,
// --http-addr on the command line. An unknown or invalid key fails the
// start with a message naming it.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"
)

// Config is every setting, typed. Field tags name the key.
type Config struct {
	HTTPAddr string `koanf:"http_addr"`
	BasePath string `koanf:"base_path"`
	DataDir  string `koanf:"data_dir"`

	DBURL       string `koanf:"db_url"`
	DBNamespace string `koanf:"db_namespace"`
	DBDatabase  string `koanf:"db_database"`
	DBUser      string `koanf:"db_user"`
	DBPassword  string `koanf:"db_password"`
	DBHostDir   string `koanf:"dbhost_dir"`

	AdminEmail    string `koanf:"admin_email"`
	AdminPassword string `koanf:"admin_password"`
	DemoPatients  int    `koanf:"demo_patients"`

	SessionIdleTimeout time.Duration `koanf:"session_idle_timeout"`
	SessionMaxLifetime time.Duration `koanf:"session_max_lifetime"`
	LoginMaxFailures   int           `koanf:"login_max_failures"`
	LockoutDuration    time.Duration `koanf:"lockout_duration"`
	APIRateLimit       int           `koanf:"api_rate_limit"` // requests per minute per client
	SecureCookies      string        `koanf:"secure_cookies"` // auto | always | never
	BodyLimitBytes     int           `koanf:"body_limit_bytes"`

	PluginsManifest string `koanf:"plugins_manifest"`
	ImportMaxBytes  int    `koanf:"import_max_bytes"`

	LLMURL   string `koanf:"llm_url"`
	LLMModel string `koanf:"llm_model"`
	LLMKey   string `koanf:"llm_key"`

	LogLevel  string `koanf:"log_level"`  // debug | info | warn | error
	LogFormat string `koanf:"log_format"` // text | json
}

// Defaults are the built-in values: the embedded default that runs with
// no configuration at all.
func Defaults() map[string]any {
	return map[string]any{
		"http_addr":            "127.0.0.1:8080",
		"base_path":            "",
		"data_dir":             "./data",
		"db_url":               "",
		"db_namespace":         "pfinni",
		"db_database":          "pfinni",
		"db_user":              "",
		"db_password":          "",
		"dbhost_dir":           "",
		"admin_email":          "admin@pfinni.local",
		"admin_password":       "",
		"demo_patients":        200,
		"session_idle_timeout": "15m",
		"session_max_lifetime": "12h",
		"login_max_failures":   5,
		"lockout_duration":     "15m",
		"api_rate_limit":       6000,
		"secure_cookies":       "auto",
		"body_limit_bytes":     1 << 20,
		"plugins_manifest":     "plugin-manifest.yaml",
		"import_max_bytes":     10 << 20,
		"llm_url":              "",
		"llm_model":            "",
		"llm_key":              "",
		"log_level":            "info",
		"log_format":           "text",
	}
}

// Help describes each key for --help and the README's table.
var Help = map[string]string{
	"http_addr":            "address the HTTP server listens on",
	"base_path":            "path prefix the whole app is served under (e.g. /pfinni)",
	"data_dir":             "folder for the embedded database files and plugin caches",
	"db_url":               "external SurrealDB RPC URL (ws://host:8000); empty runs the embedded engine",
	"db_namespace":         "SurrealDB namespace",
	"db_database":          "SurrealDB database",
	"db_user":              "SurrealDB user (external server)",
	"db_password":          "SurrealDB password (external server)",
	"dbhost_dir":           "folder of the embedded engine host (dbhost/); found automatically when empty",
	"admin_email":          "bootstrap admin created at first start if no admin exists",
	"admin_password":       "bootstrap admin password; generated and printed once when empty",
	"demo_patients":        "deterministic demo patients seeded into an empty embedded database (0 disables)",
	"session_idle_timeout": "automatic logoff after this much inactivity",
	"session_max_lifetime": "absolute session lifetime",
	"login_max_failures":   "failed logins before a temporary lockout",
	"lockout_duration":     "how long a locked account stays locked",
	"api_rate_limit":       "API requests per minute per client",
	"secure_cookies":       "Secure cookie flag: auto (when behind TLS), always or never",
	"body_limit_bytes":     "largest JSON request body accepted",
	"plugins_manifest":     "path of plugin-manifest.yaml",
	"import_max_bytes":     "largest document accepted by an import",
	"llm_url":              "optional OpenAI-compatible endpoint for phrasing (off when empty)",
	"llm_model":            "model name for the LLM endpoint",
	"llm_key":              "API key for the LLM endpoint",
	"log_level":            "debug, info, warn or error",
	"log_format":           "text or json",
}

// EnvName returns the environment variable for key.
func EnvName(key string) string { return "PFINNI_" + strings.ToUpper(key) }

// FlagName returns the command-line flag for key.
func FlagName(key string) string { return strings.ReplaceAll(key, "_", "-") }

// Keys returns every key in sorted order.
func Keys() []string {
	keys := make([]string, 0, len(Defaults()))
	for k := range Defaults() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// RegisterFlags adds one flag per key to fs.
func RegisterFlags(fs *pflag.FlagSet) {
	d := Defaults()
	for _, k := range Keys() {
		fs.String(FlagName(k), fmt.Sprint(d[k]), Help[k]+" ("+EnvName(k)+")")
	}
	fs.String("config", "", "path of the config file (default pfinni.yaml when present)")
}

// Load reads defaults < file < environment < flags. environ is os.Environ
// in production; fs may be nil. The file is the --config flag, else
// PFINNI_CONFIG, else ./pfinni.yaml when it exists.
func Load(fs *pflag.FlagSet, environ []string) (*Config, error) {
	k := koanf.New(".")
	if err := k.Load(confmap.Provider(Defaults(), "."), nil); err != nil {
		return nil, fmt.Errorf("load defaults: %w", err)
	}
	known := Defaults()

	path := ""
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "PFINNI_CONFIG="); ok {
			path = v
		}
	}
	if fs != nil {
		if f := fs.Lookup("config"); f != nil && f.Changed {
			path = f.Value.String()
		}
	}
	explicit := path != ""
	if path == "" {
		path = "pfinni.yaml"
	}
	if _, err := os.Stat(path); err == nil {
		fk := koanf.New(".")
		if err := fk.Load(file.Provider(path), yaml.Parser()); err != nil {
			return nil, fmt.Errorf("read config file %s: %w", path, err)
		}
		for _, key := range fk.Keys() {
			if _, ok := known[key]; !ok {
				return nil, fmt.Errorf("config file %s: unknown key %q (known keys: %s)", path, key, strings.Join(Keys(), ", "))
			}
		}
		if err := k.Merge(fk); err != nil {
			return nil, fmt.Errorf("read config file %s: %w", path, err)
		}
	} else if explicit {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}

	var unknown []string
	ek := koanf.New(".")
	err := ek.Load(env.Provider(".", env.Opt{
		Prefix:      "PFINNI_",
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(name, v string) (string, any) {
			key := strings.ToLower(strings.TrimPrefix(name, "PFINNI_"))
			switch {
			case key == "config", strings.HasPrefix(key, "test_"):
				return "", nil // the file path, and test-harness settings
			}
			if _, ok := known[key]; !ok {
				unknown = append(unknown, name)
				return "", nil
			}
			return key, v
		},
	}), nil)
	if err != nil {
		return nil, fmt.Errorf("read environment: %w", err)
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("unknown environment variable %s (known: %s)", unknown[0], strings.Join(envNames(), ", "))
	}
	if err := k.Merge(ek); err != nil {
		return nil, fmt.Errorf("read environment: %w", err)
	}

	if fs != nil {
		if err := k.Load(posflag.ProviderWithFlag(fs, ".", k, func(f *pflag.Flag) (string, any) {
			if !f.Changed || f.Name == "config" {
				return "", nil
			}
			return strings.ReplaceAll(f.Name, "-", "_"), f.Value.String()
		}), nil); err != nil {
			return nil, fmt.Errorf("read flags: %w", err)
		}
	}

	var c Config
	if err := k.UnmarshalWithConf("", &c, koanf.UnmarshalConf{Tag: "koanf"}); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", explainDecode(err))
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func envNames() []string {
	var out []string
	for _, k := range Keys() {
		out = append(out, EnvName(k))
	}
	return out
}

// explainDecode keeps the decoder's message, which names the key.
func explainDecode(err error) error {
	return errors.New(strings.ReplaceAll(err.Error(), "decoding failed due to the following error(s):\n\n", ""))
}

// Validate checks each value and names the key of the first bad one.
func (c *Config) Validate() error {
	bad := func(key, why string) error {
		return fmt.Errorf("invalid %s (%s): %s", key, EnvName(key), why)
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		return bad("http_addr", "want host:port, e.g. 127.0.0.1:8080")
	}
	if c.BasePath != "" {
		if !strings.HasPrefix(c.BasePath, "/") || strings.HasSuffix(c.BasePath, "/") || strings.ContainsAny(c.BasePath, " ?#") {
			return bad("base_path", "want a path like /pfinni (leading slash, no trailing slash)")
		}
	}
	if c.DBURL != "" {
		u, err := url.Parse(c.DBURL)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return bad("db_url", "want ws://host:port or wss://host:port")
		}
	}
	if c.DataDir == "" {
		return bad("data_dir", "must not be empty")
	}
	if c.DemoPatients < 0 || c.DemoPatients > 1_000_000 {
		return bad("demo_patients", "want 0 to 1000000")
	}
	if c.SessionIdleTimeout < time.Minute {
		return bad("session_idle_timeout", "want at least 1m")
	}
	if c.SessionMaxLifetime < c.SessionIdleTimeout {
		return bad("session_max_lifetime", "must not be shorter than session_idle_timeout")
	}
	if c.LoginMaxFailures < 1 {
		return bad("login_max_failures", "want at least 1")
	}
	if c.APIRateLimit < 1 {
		return bad("api_rate_limit", "want at least 1")
	}
	switch c.SecureCookies {
	case "auto", "always", "never":
	default:
		return bad("secure_cookies", "want auto, always or never")
	}
	if c.BodyLimitBytes < 1024 {
		return bad("body_limit_bytes", "want at least 1024")
	}
	if c.ImportMaxBytes < 1024 {
		return bad("import_max_bytes", "want at least 1024")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return bad("log_level", "want debug, info, warn or error")
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return bad("log_format", "want text or json")
	}
	if c.AdminEmail != "" && !strings.Contains(c.AdminEmail, "@") {
		return bad("admin_email", "want an e-mail address")
	}
	return nil
}

// Embedded reports whether the core runs its own database engine.
func (c *Config) Embedded() bool { return c.DBURL == "" }

// EngineDir is the embedded engine's surrealkv folder.
func (c *Config) EngineDir() (string, error) {
	abs, err := filepath.Abs(filepath.Join(c.DataDir, "db"))
	if err != nil {
		return "", fmt.Errorf("resolve data_dir: %w", err)
	}
	return abs, nil
}
