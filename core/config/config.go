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
	"net/netip"
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
	// DBAllowInsecure permits plain ws:// to a database that is not on
	// loopback (PHI would cross the network unencrypted).
	DBAllowInsecure bool `koanf:"db_allow_insecure"`
	// DBAuthLevel is where db_user is defined: root, namespace or
	// database (least privilege: a database-scoped EDITOR).
	DBAuthLevel string `koanf:"db_auth_level"`

	// The audit chain's HMAC key file and the head kept outside the
	// database (core/audit); "" = audit.key / audit.head in data_dir.
	AuditKeyFile  string `koanf:"audit_key_file"`
	AuditHeadFile string `koanf:"audit_head_file"`

	// AuthKeyFile keys the sign-in lockout counters and one-time links
	// (core/auth); instances on one database must share it, or each
	// counts failed sign-ins alone. "" = auth-secret.key in data_dir.
	AuthKeyFile string `koanf:"auth_key_file"`

	AdminEmail    string `koanf:"admin_email"`
	AdminPassword string `koanf:"admin_password"`
	DemoPatients  int    `koanf:"demo_patients"`

	SessionIdleTimeout time.Duration `koanf:"session_idle_timeout"`
	SessionMaxLifetime time.Duration `koanf:"session_max_lifetime"`
	LoginMaxFailures   int           `koanf:"login_max_failures"`
	LockoutDuration    time.Duration `koanf:"lockout_duration"`
	APIRateLimit       int           `koanf:"api_rate_limit"` // requests per minute per client, across all instances
	SecureCookies      string        `koanf:"secure_cookies"` // auto | always | never
	BodyLimitBytes     int           `koanf:"body_limit_bytes"`

	// The HTTP edge (core/api): who the server is, which peers are proxies
	// it believes, and how long a client may take.
	PublicURL      string        `koanf:"public_url"`      // e.g. https://example.org/pfinni; "" = the request's own origin
	TrustedProxies string        `koanf:"trusted_proxies"` // comma-separated CIDRs or addresses
	ReadTimeout    time.Duration `koanf:"read_timeout"`
	WriteTimeout   time.Duration `koanf:"write_timeout"`
	IdleTimeout    time.Duration `koanf:"idle_timeout"`

	PluginsManifest string `koanf:"plugins_manifest"`
	PluginCacheDir  string `koanf:"plugin_cache_dir"` // compiled WASM; "" = user cache dir (see WASMCacheDir)
	ImportMaxBytes  int    `koanf:"import_max_bytes"`

	// ProvidersSeeAll lets users of the provider role open patients
	// outside their own panel (their lists stay scoped to it); off, such
	// a patient answers 404 to them (core/patient/scope.go).
	ProvidersSeeAll bool `koanf:"providers_see_all"`

	LLMURL   string `koanf:"llm_url"`
	LLMModel string `koanf:"llm_model"`
	LLMKey   string `koanf:"llm_key"`
	// LLMBAA states that a business associate agreement covers the LLM
	// endpoint; llm_url is refused without it.
	LLMBAA bool `koanf:"llm_baa"`

	// InsuranceURL is where the insurance-x12 plugin POSTs its 270s
	// (a clearinghouse); empty keeps the manifest's (the stub insurer of
	// `pfinni dev insurer-stub`). InsuranceUser/Password are its HTTP
	// basic credentials.
	InsuranceURL      string `koanf:"insurance_url"`
	InsuranceUser     string `koanf:"insurance_user"`
	InsurancePassword string `koanf:"insurance_password"`

	// ResendAPIKey turns e-mail on (invitations, password resets, the
	// daily digest) through Resend; empty keeps e-mail off. ResendBaseURL
	// points it elsewhere (the stub of `pfinni dev email-stub`);
	// EmailFrom is the sender address.
	ResendAPIKey  string `koanf:"resend_api_key"`
	ResendBaseURL string `koanf:"resend_base_url"`
	EmailFrom     string `koanf:"email_from"`
	// ResendWebhookSecret ("whsec_…", from Resend's webhook settings)
	// verifies the bounce and complaint events Resend POSTs to
	// /api/v1/email/events; empty refuses them.
	ResendWebhookSecret string `koanf:"resend_webhook_secret"`

	// Outgoing webhooks (core/webhooks, docs/webhooks.md).
	// WebhookAllowPrivate lets endpoints resolve to loopback, private
	// and link-local addresses (tests, a receiver on the same host);
	// WebhookRetrySchedule replaces the Standard Webhooks retry delays
	// (comma-separated durations, "" = the specification's);
	// WebhookKeyFile holds the key that seals endpoint secrets in the
	// database ("" = data_dir/webhook.key).
	// JobsWorkers is how many background jobs a serving process runs at
	// once (core/jobs, docs/jobs.md).
	JobsWorkers int `koanf:"jobs_workers"`

	WebhookAllowPrivate  bool   `koanf:"webhook_allow_private"`
	WebhookRetrySchedule string `koanf:"webhook_retry_schedule"`
	WebhookKeyFile       string `koanf:"webhook_key_file"`
	// WebhookRotationGrace is how long a rotated-out endpoint secret
	// keeps signing beside the new one.
	WebhookRotationGrace time.Duration `koanf:"webhook_rotation_grace"`

	// Backups (core/backup, docs/operations.md): where scheduled backups
	// go ("" = data_dir/backups), their cron schedule ("" = off), how
	// many are kept, and the key that encrypts them ("" = unencrypted).
	BackupDir      string `koanf:"backup_dir"`
	BackupSchedule string `koanf:"backup_schedule"`
	BackupKeep     int    `koanf:"backup_keep"`
	BackupKey      string `koanf:"backup_key"`

	// Alerts (core/alerts, docs/alerts.md). AlertOnboardingDays: a
	// patient in onboarding longer than this raises one alert;
	// AlertBirthdayCron is the cron spec (practice time) of the
	// daily birthday rule, AlertOnboardingCron that of the onboarding
	// check.
	AlertOnboardingDays int    `koanf:"alert_onboarding_days"`
	AlertBirthdayCron   string `koanf:"alert_birthday_cron"`
	AlertOnboardingCron string `koanf:"alert_onboarding_cron"`

	LogLevel  string `koanf:"log_level"`  // debug | info | warn | error
	LogFormat string `koanf:"log_format"` // text | json
}

// Defaults are the built-in values: the embedded default that runs with
// no configuration at all.
func Defaults() map[string]any {
	return map[string]any{
		"http_addr":              "127.0.0.1:8080",
		"base_path":              "",
		"data_dir":               "./data",
		"db_url":                 "",
		"db_namespace":           "pfinni",
		"db_database":            "pfinni",
		"db_user":                "",
		"db_password":            "",
		"dbhost_dir":             "",
		"db_allow_insecure":      false,
		"db_auth_level":          "root",
		"audit_key_file":         "",
		"auth_key_file":          "",
		"audit_head_file":        "",
		"admin_email":            "admin@pfinni.local",
		"admin_password":         "",
		"demo_patients":          200,
		"session_idle_timeout":   "15m",
		"session_max_lifetime":   "12h",
		"login_max_failures":     5,
		"lockout_duration":       "15m",
		"api_rate_limit":         6000,
		"secure_cookies":         "auto",
		"body_limit_bytes":       1 << 20,
		"public_url":             "",
		"trusted_proxies":        "",
		"read_timeout":           "30s",
		"write_timeout":          "60s",
		"idle_timeout":           "120s",
		"plugins_manifest":       "plugin-manifest.yaml",
		"plugin_cache_dir":       "",
		"import_max_bytes":       10 << 20,
		"providers_see_all":      false,
		"llm_url":                "",
		"llm_model":              "",
		"llm_key":                "",
		"llm_baa":                false,
		"insurance_url":          "",
		"insurance_user":         "",
		"insurance_password":     "",
		"resend_api_key":         "",
		"resend_base_url":        "",
		"email_from":             "pfinni <pfinni@localhost>",
		"jobs_workers":           4,
		"webhook_allow_private":  false,
		"webhook_retry_schedule": "",
		"webhook_key_file":       "",
		"webhook_rotation_grace": "24h",
		"resend_webhook_secret":  "",
		"backup_dir":             "",
		"backup_schedule":        "@daily",
		"backup_keep":            7,
		"backup_key":             "",
		"alert_onboarding_days":  14,
		"alert_birthday_cron":    "0 7 * * *",
		"alert_onboarding_cron":  "@hourly",
		"log_level":              "info",
		"log_format":             "text",
	}
}

// Help describes each key for --help and the README's table.
var Help = map[string]string{
	"http_addr":              "address the HTTP server listens on",
	"base_path":              "path prefix the whole app is served under (e.g. /pfinni)",
	"data_dir":               "folder for the embedded database files and plugin caches",
	"db_url":                 "external SurrealDB RPC URL (ws://host:8000); empty runs the embedded engine",
	"db_namespace":           "SurrealDB namespace",
	"db_database":            "SurrealDB database",
	"db_user":                "SurrealDB user (external server)",
	"db_password":            "SurrealDB password (external server)",
	"dbhost_dir":             "folder of the embedded engine host (dbhost/); found automatically when empty",
	"db_allow_insecure":      "allow plain ws:// to a database that is not on loopback (unencrypted PHI; use wss://)",
	"db_auth_level":          "where db_user is defined on the external server: root, namespace or database (least privilege; see docs/database.md)",
	"auth_key_file":          "key file of the sign-in lockout counters and one-time links (0600; created on first start; shared by all instances on one database); empty = data_dir/auth-secret.key",
	"audit_key_file":         "HMAC key file of the audit chain, kept outside the database (0600; created on first start); empty = data_dir/audit.key",
	"audit_head_file":        "where the newest audit chain head is kept outside the database; empty = data_dir/audit.head",
	"admin_email":            "bootstrap admin created at first start if no admin exists",
	"admin_password":         "bootstrap admin password; generated and printed once when empty",
	"demo_patients":          "deterministic demo patients seeded into an empty embedded database (0 disables)",
	"session_idle_timeout":   "automatic logoff after this much inactivity",
	"session_max_lifetime":   "absolute session lifetime",
	"login_max_failures":     "failed logins before a temporary lockout",
	"lockout_duration":       "how long a locked account stays locked",
	"api_rate_limit":         "API requests per minute per client (user, else address), across all instances",
	"secure_cookies":         "Secure cookie flag: auto (when behind TLS), always or never",
	"body_limit_bytes":       "largest request body accepted (every route but the import upload)",
	"public_url":             "the URL users reach pfinni at (https://host/base); WebSocket Origins must match it; empty = the request's own scheme and host",
	"trusted_proxies":        "comma-separated CIDRs or addresses of reverse proxies whose X-Forwarded-For/-Proto are believed",
	"read_timeout":           "longest time to read a request's headers and body (the import upload gets longer once signed in)",
	"write_timeout":          "longest time to write a response",
	"idle_timeout":           "how long an idle keep-alive connection stays open",
	"plugins_manifest":       "path of plugin-manifest.yaml",
	"plugin_cache_dir":       "compiled WASM plugins, per artifact checksum; empty uses the user cache dir (pfinni/wasm), else data_dir/plugin-cache",
	"import_max_bytes":       "largest document accepted by an import",
	"providers_see_all":      "let users of the provider role open patients outside their own panel (off: 404; their lists stay scoped to the panel)",
	"llm_url":                "optional OpenAI-compatible endpoint for phrasing (off when empty)",
	"llm_model":              "model name for the LLM endpoint",
	"llm_key":                "API key for the LLM endpoint",
	"llm_baa":                "true states that a business associate agreement (BAA) covers the LLM endpoint; required to set llm_url",
	"insurance_url":          "X12 270/271 endpoint of the insurance-x12 plugin (a clearinghouse); empty keeps the manifest's stub insurer",
	"insurance_user":         "HTTP basic user for insurance_url",
	"insurance_password":     "HTTP basic password for insurance_url",
	"resend_api_key":         "Resend API key; setting it turns e-mail on (invitations, password resets, daily digest)",
	"resend_base_url":        "Resend API base URL (empty: https://api.resend.com/; the stub: http://127.0.0.1:8091/)",
	"email_from":             "sender address of pfinni's e-mails",
	"jobs_workers":           "how many background jobs this process runs at once (1-64; every serving process runs workers)",
	"webhook_allow_private":  "let webhook endpoints resolve to loopback, private or link-local addresses (off: refused at registration and delivery)",
	"webhook_retry_schedule": "delays between webhook delivery attempts, comma-separated (e.g. 1s,2s,4s); empty = the Standard Webhooks schedule 5s,5m,30m,2h,5h,10h,10h",
	"webhook_rotation_grace": "after PATCH rotates a webhook secret, how long the old secret keeps signing beside the new one (a second v1 signature)",
	"resend_webhook_secret":  "Resend webhook signing secret (whsec_…); turns on POST /api/v1/email/events, which suppresses hard-bounced and complaining addresses",
	"webhook_key_file":       "key file that seals webhook endpoint secrets stored in the database (0600; created on first start; shared by all instances); empty = data_dir/webhook.key",
	"backup_dir":             "folder of scheduled backups and the admin's Backups page; empty = data_dir/backups",
	"backup_schedule":        "cron schedule of automatic backups (e.g. @daily, 0 2 * * *, @every 6h); empty turns them off",
	"backup_keep":            "how many backups to keep in backup_dir (the oldest beyond are deleted; 0 keeps all)",
	"backup_key":             "32-byte key (64 hex digits: openssl rand -hex 32) that encrypts backups with AES-256-GCM and lets them carry the key files; empty = unencrypted",
	"alert_onboarding_days":  "a patient in onboarding longer than this many days raises one alert (to the users of the patient's provider, else admins and staff)",
	"alert_onboarding_cron":  "cron spec of the check for patients overdue in onboarding (each patient alerts once per stay in onboarding)",
	"alert_birthday_cron":    "cron spec, in the practice's time zone, of the daily birthday alerts (once per patient per day across instances)",
	"log_level":              "debug, info, warn or error",
	"log_format":             "text or json",
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
	if c.JobsWorkers < 1 || c.JobsWorkers > 64 {
		return bad("jobs_workers", "want 1 to 64")
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
		if u.Scheme == "ws" && !loopbackHost(u.Hostname()) && !c.DBAllowInsecure {
			return bad("db_url", "ws:// to a host that is not loopback sends patient data unencrypted; use wss://, or set db_allow_insecure=true (PFINNI_DB_ALLOW_INSECURE) to accept that")
		}
	}
	switch c.DBAuthLevel {
	case "root", "namespace", "database":
	default:
		return bad("db_auth_level", "want root, namespace or database")
	}
	if c.DataDir == "" {
		return bad("data_dir", "must not be empty")
	}
	if c.BackupKeep < 0 {
		return bad("backup_keep", "want 0 (keep all) or more")
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
	if c.AlertOnboardingDays < 1 {
		return bad("alert_onboarding_days", "want at least 1")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return bad("public_url", "want http(s)://host[:port][/path], e.g. https://example.org/pfinni")
		}
	}
	if _, err := c.TrustedProxyPrefixes(); err != nil {
		return bad("trusted_proxies", err.Error())
	}
	for key, d := range map[string]time.Duration{"read_timeout": c.ReadTimeout, "write_timeout": c.WriteTimeout, "idle_timeout": c.IdleTimeout} {
		if d < time.Second {
			return bad(key, "want at least 1s")
		}
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
	if c.LLMURL != "" && !c.LLMBAA {
		return bad("llm_url", "the LLM adapter needs a business associate agreement with the endpoint's operator; set llm_baa=true (PFINNI_LLM_BAA=true) to state that one is in place, or leave llm_url empty")
	}
	if c.InsuranceURL != "" {
		u, err := url.Parse(c.InsuranceURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return bad("insurance_url", "want http(s)://host[:port]/path, without credentials (use insurance_user and insurance_password)")
		}
	}
	if c.ResendBaseURL != "" {
		u, err := url.Parse(c.ResendBaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return bad("resend_base_url", "want http(s)://host[:port]/, without credentials")
		}
	}
	if _, err := c.WebhookRetryDelays(); err != nil {
		return bad("webhook_retry_schedule", err.Error())
	}
	if c.AdminEmail != "" && !strings.Contains(c.AdminEmail, "@") {
		return bad("admin_email", "want an e-mail address")
	}
	return nil
}

// TrustedProxyPrefixes parses trusted_proxies: CIDRs ("10.0.0.0/8") or
// single addresses ("127.0.0.1", a /32 or /128).
func (c *Config) TrustedProxyPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(c.TrustedProxies, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("%q is not a CIDR like 10.0.0.0/8", f)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// loopbackHost reports whether host is localhost or a loopback address.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// AuditKeyPath is the audit chain's key file: audit_key_file, else
// audit.key in data_dir.
func (c *Config) AuditKeyPath() string {
	if c.AuditKeyFile != "" {
		return c.AuditKeyFile
	}
	return filepath.Join(c.DataDir, "audit.key")
}

// AuthKeyPath is the sign-in key file: auth_key_file, else
// auth-secret.key in data_dir.
func (c *Config) AuthKeyPath() string {
	if c.AuthKeyFile != "" {
		return c.AuthKeyFile
	}
	return filepath.Join(c.DataDir, "auth-secret.key")
}

// AuditHeadPath is where the audit chain's head is kept: audit_head_file,
// else audit.head in data_dir.
func (c *Config) AuditHeadPath() string {
	if c.AuditHeadFile != "" {
		return c.AuditHeadFile
	}
	return filepath.Join(c.DataDir, "audit.head")
}

// Embedded reports whether the core runs its own database engine.
func (c *Config) Embedded() bool { return c.DBURL == "" }

// WASMCacheDir is where compiled WASM plugins are kept (wazero's cache,
// keyed by each artifact's checksum): plugin_cache_dir when set, else
// pfinni/wasm under the user cache dir, so that a second start of the same
// installation (even with a new data_dir) skips compiling; else
// data_dir/plugin-cache when the user has no cache dir.
func (c *Config) WASMCacheDir() string {
	if c.PluginCacheDir != "" {
		return c.PluginCacheDir
	}
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "pfinni", "wasm")
	}
	return filepath.Join(c.DataDir, "plugin-cache")
}

// EngineDir is the embedded engine's surrealkv folder.
func (c *Config) EngineDir() (string, error) {
	abs, err := filepath.Abs(filepath.Join(c.DataDir, "db"))
	if err != nil {
		return "", fmt.Errorf("resolve data_dir: %w", err)
	}
	return abs, nil
}

// WebhookRetryDelays parses webhook_retry_schedule: the delays before
// the second, third, … delivery attempt. nil means the Standard Webhooks
// schedule (core/webhooks.DefaultSchedule).
func (c *Config) WebhookRetryDelays() ([]time.Duration, error) {
	if strings.TrimSpace(c.WebhookRetrySchedule) == "" {
		return nil, nil
	}
	var out []time.Duration
	for _, f := range strings.Split(c.WebhookRetrySchedule, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("want comma-separated durations like 5s,5m,30m (%q is not one)", strings.TrimSpace(f))
		}
		out = append(out, d)
	}
	if len(out) > 20 {
		return nil, fmt.Errorf("want at most 20 retries")
	}
	return out, nil
}

// BackupDirPath is where backups are written and listed: backup_dir,
// else backups in data_dir.
func (c *Config) BackupDirPath() string {
	if c.BackupDir != "" {
		return c.BackupDir
	}
	return filepath.Join(c.DataDir, "backups")
}

// WebhookKeyPath is the key file that seals webhook secrets:
// webhook_key_file, else webhook.key in data_dir.
func (c *Config) WebhookKeyPath() string {
	if c.WebhookKeyFile != "" {
		return c.WebhookKeyFile
	}
	return filepath.Join(c.DataDir, "webhook.key")
}
