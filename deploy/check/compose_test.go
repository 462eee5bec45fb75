package check

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose loads docker-compose.yml with the compose specification's
// own loader (what `docker compose config` runs), with env as the .env.
func loadCompose(t *testing.T, env map[string]string) (*types.Project, error) {
	t.Helper()
	root := repoRoot()
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(root, "docker-compose.yml")}},
		Environment: env,
	}, func(o *loader.Options) {
		o.SetProjectName("pfinni", true)
		o.ResolvePaths = true
	})
}

var composeEnv = map[string]string{"SURREAL_ROOT_PASS": "rootpass0test", "PFINNI_DB_PASSWORD": "dbpass0test"}

// No default passwords: the project refuses to load without them.
func TestComposeHasNoDefaultPasswords(t *testing.T) {
	for _, missing := range []string{"SURREAL_ROOT_PASS", "PFINNI_DB_PASSWORD"} {
		env := map[string]string{}
		for k, v := range composeEnv {
			if k != missing {
				env[k] = v
			}
		}
		if _, err := loadCompose(t, env); err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("compose loads without %s (err %v)", missing, err)
		}
	}
	// .env.example names every required setting and gives no value.
	ex, err := dotenv.Read(filepath.Join(repoRoot(), ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"SURREAL_ROOT_PASS", "PFINNI_DB_PASSWORD", "PFINNI_ADMIN_PASSWORD"} {
		v, ok := ex[k]
		if !ok {
			t.Errorf(".env.example lacks %s", k)
		} else if v != "" {
			t.Errorf(".env.example gives %s a value", k)
		}
	}
}

var pinnedTag = regexp.MustCompile(`:v?\d+\.\d+\.\d+(-[a-z0-9]+)?(@sha256:[0-9a-f]{64})?$`)

func TestComposeProject(t *testing.T) {
	p, err := loadCompose(t, composeEnv)
	if err != nil {
		t.Fatal(err)
	}
	svc := func(name string) types.ServiceConfig {
		s, err := p.GetService(name)
		if err != nil {
			t.Fatalf("service %s: %v", name, err)
		}
		return s
	}
	env := func(s types.ServiceConfig, k string) string {
		if v := s.Environment[k]; v != nil {
			return *v
		}
		return ""
	}

	// Every pulled image names an exact release (no floating tag).
	for _, s := range p.Services {
		if s.Build != nil {
			continue
		}
		if !pinnedTag.MatchString(s.Image) && !PinnedByDigest(s.Image) {
			t.Errorf("%s: image %q is not pinned to a release", s.Name, s.Image)
		}
	}

	db := svc("surrealdb")
	if !regexp.MustCompile(`^surrealdb/surrealdb:v3\.\d+\.\d+`).MatchString(db.Image) {
		t.Errorf("database image %q is not the official SurrealDB 3.x pinned to a release", db.Image)
	}
	if len(db.Ports) != 0 {
		t.Errorf("the database publishes ports %v", db.Ports)
	}
	persistent := false
	for _, v := range db.Volumes {
		if v.Type == types.VolumeTypeVolume && v.Target == "/data" {
			persistent = true
		}
	}
	if !persistent || !strings.Contains(strings.Join(db.Command, " "), "surrealkv:/data") {
		t.Errorf("the database does not keep its files on a named volume: %v %v", db.Volumes, db.Command)
	}
	if db.HealthCheck == nil || len(db.HealthCheck.Test) == 0 {
		t.Error("the database has no health check")
	}

	app := svc("pfinni")
	if app.Build == nil || app.Build.Target != "static" {
		t.Errorf("pfinni is not built from the static image target: %+v", app.Build)
	}
	for k, want := range map[string]string{
		"PFINNI_DB_URL": "ws://surrealdb:8000", "PFINNI_DB_AUTH_LEVEL": "database", "PFINNI_DB_USER": "pfinni",
		"PFINNI_DB_PASSWORD": composeEnv["PFINNI_DB_PASSWORD"], "PFINNI_BASE_PATH": "/pfinni",
		"PFINNI_PUBLIC_URL": "https://localhost/pfinni",
	} {
		if got := env(app, k); got != want {
			t.Errorf("pfinni %s = %q, want %q", k, got, want)
		}
	}
	if env(app, "PFINNI_DB_USER") == "root" || env(app, "PFINNI_DB_PASSWORD") == composeEnv["SURREAL_ROOT_PASS"] {
		t.Error("pfinni uses the database root credential")
	}
	if len(app.Ports) != 0 {
		t.Errorf("pfinni publishes ports %v: users come through NGINX", app.Ports)
	}
	if app.HealthCheck == nil || !strings.Contains(strings.Join(app.HealthCheck.Test, " "), "healthcheck") {
		t.Error("pfinni has no `pfinni healthcheck` health check")
	}
	if d, ok := app.DependsOn["db-user"]; !ok || d.Condition != types.ServiceConditionCompletedSuccessfully {
		t.Error("pfinni does not wait for its database user")
	}
	// pfinni must not be on the same network as the database's root
	// password holder alone: check it is on both networks.
	if _, ok := app.Networks["backend"]; !ok {
		t.Error("pfinni is not on the database network")
	}

	ngx := svc("nginx")
	if d, ok := ngx.DependsOn["pfinni"]; !ok || d.Condition != types.ServiceConditionHealthy {
		t.Error("nginx does not wait for a healthy pfinni")
	}
	published := map[string]bool{}
	for _, port := range ngx.Ports {
		published[port.Published] = true
		if port.HostIP != "127.0.0.1" {
			t.Errorf("nginx publishes %s on %q, want loopback for a local install", port.Published, port.HostIP)
		}
	}
	if !published["443"] || !published["80"] {
		t.Errorf("nginx publishes %v, want 443 (and 80 to redirect)", ngx.Ports)
	}
	mounts := map[string]string{}
	for _, v := range ngx.Volumes {
		mounts[v.Target] = v.Source
		if _, err := os.Stat(v.Source); err != nil && !strings.HasSuffix(v.Source, "certs") {
			t.Errorf("nginx mounts %s, which does not exist: %v", v.Source, err)
		}
	}
	if !strings.HasSuffix(mounts["/etc/nginx/conf.d/default.conf"], "deploy/nginx/pfinni.conf") ||
		!strings.HasSuffix(mounts["/etc/nginx/certs"], "deploy/nginx/certs") {
		t.Errorf("nginx does not serve the shipped pfinni.conf with the certificates of selfsigned.sh: %v", mounts)
	}
	// The trusted proxy is exactly NGINX's fixed address.
	edge := ngx.Networks["edge"]
	if edge == nil || edge.Ipv4Address == "" || env(app, "PFINNI_TRUSTED_PROXIES") != edge.Ipv4Address+"/32" {
		t.Errorf("PFINNI_TRUSTED_PROXIES %q is not nginx's address (%v)", env(app, "PFINNI_TRUSTED_PROXIES"), edge)
	}
	up, err := readRepoFile("deploy/nginx/upstream-compose.conf")
	if err != nil || !strings.Contains(string(up), "server pfinni:8080;") {
		t.Errorf("upstream-compose.conf does not name the pfinni service: %v", err)
	}
	if !p.Networks["backend"].Internal {
		t.Error("the database network is not internal")
	}
	// Every password setting comes from .env: no literal value.
	for _, s := range p.Services {
		for k, v := range s.Environment {
			if strings.Contains(k, "PASS") && v != nil && *v != "" && *v != composeEnv[k] {
				t.Errorf("%s: %s has a value that is not from .env", s.Name, k)
			}
		}
	}
}
