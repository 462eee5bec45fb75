package check

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// nginxBinary finds Debian's nginx. Off CI a machine without it skips
// the NGINX tests; on CI (CI set) their absence fails them.
func nginxBinary(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("nginx is not installed; .ci/run installs it (apt-get install -y nginx)")
	}
	t.Skip("nginx is not installed (apt-get install nginx); skipped off CI only")
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// replaceAll replaces old by new in s and fails when old is absent, so a
// change to the shipped file that the derivation no longer matches is
// noticed.
func replaceAll(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("shipped NGINX config no longer contains %q", old)
	}
	return strings.ReplaceAll(s, old, new)
}

type nginxSite struct {
	dir, conf           string
	httpPort, httpsPort int
	certDir             string
}

// deriveNginx writes a runnable configuration from the shipped
// deploy/nginx files: the same server blocks, on loopback ports, with a
// certificate made by deploy/nginx/selfsigned.sh and logs in a temp dir.
func deriveNginx(t *testing.T, upstream string) nginxSite {
	t.Helper()
	s := nginxSite{dir: t.TempDir(), httpPort: freePort(t), httpsPort: freePort(t)}
	s.certDir = filepath.Join(s.dir, "certs")
	out, err := exec.Command(filepath.Join(repoRoot(), "deploy", "nginx", "selfsigned.sh"), s.certDir).CombinedOutput()
	if err != nil {
		t.Fatalf("selfsigned.sh: %v\n%s", err, out)
	}
	site, err := readRepoFile("deploy/nginx/pfinni.conf")
	if err != nil {
		t.Fatal(err)
	}
	up, err := readRepoFile("deploy/nginx/upstream.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := string(site)
	conf = replaceAll(t, conf, "listen 80;", fmt.Sprintf("listen 127.0.0.1:%d;", s.httpPort))
	conf = replaceAll(t, conf, "listen 443 ssl http2;", fmt.Sprintf("listen 127.0.0.1:%d ssl http2;", s.httpsPort))
	conf = replaceAll(t, conf, "/etc/nginx/certs/", s.certDir+"/")
	conf = replaceAll(t, conf, "/var/log/nginx/", s.dir+"/")
	upstreamConf := replaceAll(t, string(up), "server 127.0.0.1:8080;", "server "+upstream+";")
	for name, body := range map[string]string{"pfinni.conf": conf, "upstream.conf": upstreamConf} {
		if err := os.WriteFile(filepath.Join(s.dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tmp := filepath.Join(s.dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	main := fmt.Sprintf(`worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 256; }
http {
    client_body_temp_path %[2]s/body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    access_log off;
    include %[1]s/upstream.conf;
    include %[1]s/pfinni.conf;
}
`, s.dir, tmp)
	s.conf = filepath.Join(s.dir, "nginx.conf")
	if err := os.WriteFile(s.conf, []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// The shipped configuration passes `nginx -t` (with a real certificate
// in place of the operator's).
func TestNginxConfigPassesNginxT(t *testing.T) {
	bin := nginxBinary(t)
	s := deriveNginx(t, "127.0.0.1:8080")
	out, err := exec.Command(bin, "-t", "-p", s.dir, "-c", s.conf, "-e", filepath.Join(s.dir, "error.log")).CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "error.log"))
		t.Fatalf("nginx -t: %v\n%s\n%s", err, out, log)
	}
}

// pfinniBinary is bin/pfinni from `make build` (PFINNI_BINARY), or built
// here from the repository.
func pfinniBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PFINNI_BINARY"); p != "" {
		return p
	}
	bin := filepath.Join(t.TempDir(), "pfinni")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/pfinni")
	cmd.Dir = repoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build pfinni (or set PFINNI_BINARY): %v\n%s", err, out)
	}
	return bin
}

const (
	rtAdminEmail = "admin@example.org"
	rtAdminPass  = "Round-trip-through-nginx-1"
)

// startPfinni runs `pfinni serve` on the embedded engine under /pfinni,
// trusting the proxy on loopback; it returns its address once ready.
func startPfinni(t *testing.T, bin, publicURL string) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	dir := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"PFINNI_HTTP_ADDR=" + addr, "PFINNI_DATA_DIR=" + dir, "PFINNI_BASE_PATH=/pfinni",
		"PFINNI_DBHOST_DIR=" + filepath.Join(repoRoot(), "dbhost"),
		"PFINNI_TRUSTED_PROXIES=127.0.0.1/32", "PFINNI_PUBLIC_URL=" + publicURL,
		"PFINNI_ADMIN_EMAIL=" + rtAdminEmail, "PFINNI_ADMIN_PASSWORD=" + rtAdminPass,
		"PFINNI_DEMO_PATIENTS=3", "PFINNI_PLUGINS_MANIFEST=" + filepath.Join(dir, "none.yaml"),
		"PFINNI_LOG_LEVEL=warn"}
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopProcess(cmd) })
	// Ready when its own health check says so (the image's HEALTHCHECK).
	deadline := time.Now().Add(120 * time.Second)
	for {
		hc := exec.Command(bin, "healthcheck")
		hc.Dir, hc.Env = dir, env
		if hc.Run() == nil {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("pfinni did not become ready:\n%s", &out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func stopProcess(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func startNginx(t *testing.T, bin string, s nginxSite) {
	t.Helper()
	cmd := exec.Command(bin, "-p", s.dir, "-c", s.conf, "-e", filepath.Join(s.dir, "error.log"), "-g", "daemon off; master_process off;")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopProcess(cmd) })
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.httpsPort))
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "error.log"))
			t.Fatalf("nginx did not listen: %s\n%s", &out, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A real round trip through NGINX on loopback to a real `pfinni serve`
// under /pfinni: HTTP→HTTPS, sign in (Secure cookie: the proxy's
// X-Forwarded-Proto is believed), a page, an API call, a chat message over
// the WebSocket upgrade, the client's own X-Forwarded-For replaced, the
// security headers once each, query strings kept out of the access log,
// the body limit and the sign-in rate limit.
func TestNginxRoundTrip(t *testing.T) {
	ngx := nginxBinary(t)
	if testing.Short() {
		t.Skip("starts pfinni and nginx")
	}
	bin := pfinniBinary(t)
	// Ports first, so pfinni knows its public URL.
	s := deriveNginx(t, "127.0.0.1:1") // rewritten below once pfinni listens
	public := fmt.Sprintf("https://localhost:%d", s.httpsPort)
	addr := startPfinni(t, bin, public+"/pfinni")
	up := fmt.Sprintf("upstream pfinni {\n    server %s;\n    keepalive 32;\n}\n", addr)
	if err := os.WriteFile(filepath.Join(s.dir, "upstream.conf"), []byte(up), 0o600); err != nil {
		t.Fatal(err)
	}
	startNginx(t, ngx, s)

	pem, err := os.ReadFile(filepath.Join(s.certDir, "pfinni.crt"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatal("selfsigned.sh wrote no PEM certificate")
	}
	tlsConf := &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{
		Jar:       jar,
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: tlsConf},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	do := func(method, path string, body string, hdr ...string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(context.Background(), method, public+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}

	// Plain HTTP redirects to HTTPS; the bare base path to its folder.
	res, err := client.Get(fmt.Sprintf("http://localhost:%d/pfinni/", s.httpPort))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMovedPermanently || !strings.HasPrefix(res.Header.Get("Location"), "https://localhost") {
		t.Errorf("http:// answered %d Location %q, want 301 to https://", res.StatusCode, res.Header.Get("Location"))
	}
	res, _ = do("GET", "/pfinni", "")
	if res.StatusCode != http.StatusPermanentRedirect || !strings.HasSuffix(res.Header.Get("Location"), "/pfinni/") {
		t.Errorf("/pfinni answered %d %q, want 308 /pfinni/", res.StatusCode, res.Header.Get("Location"))
	}

	// Sign in, with a forged X-Forwarded-For that NGINX must replace.
	res, body := do("POST", "/pfinni/api/v1/auth/login",
		fmt.Sprintf(`{"email":%q,"password":%q}`, rtAdminEmail, rtAdminPass), "X-Forwarded-For", "203.0.113.7")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("sign in through nginx: %d %s", res.StatusCode, body)
	}
	var login struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(body, &login); err != nil || login.Token == "" {
		t.Fatalf("sign in answered no token: %v %s", err, body)
	}
	secure := false
	for _, c := range res.Cookies() {
		if c.Secure && c.Path == "/pfinni" || c.Secure && c.Path == "/pfinni/" {
			secure = true
		}
	}
	if !secure {
		t.Errorf("the session cookie is not Secure with Path /pfinni behind TLS: %v", res.Header.Values("Set-Cookie"))
	}

	// A page (cookie session), with the security headers once each.
	res, body = do("GET", "/pfinni/", "")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("dashboard page: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if !strings.Contains(string(body), "/pfinni/") {
		t.Error("the page links nothing under /pfinni/")
	}
	for _, h := range []string{"Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy"} {
		if n := len(res.Header.Values(h)); n != 1 {
			t.Errorf("%s sent %d times, want once: %q", h, n, res.Header.Values(h))
		}
	}

	// An API call, with a search text that must not reach the access log.
	res, body = do("GET", "/pfinni/api/v1/patients?q=Quillfeather&limit=5", "", "Authorization", "Bearer "+login.Token)
	if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"items"`)) {
		t.Fatalf("patients through nginx: %d %s", res.StatusCode, body)
	}

	// The audit trail has the address NGINX saw, not the forged one.
	res, body = do("GET", "/pfinni/api/v1/audit?action=auth.login", "", "Authorization", "Bearer "+login.Token)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("audit: %d %s", res.StatusCode, body)
	}
	var page struct {
		Items []struct {
			Action string `json:"action"`
			IP     string `json:"ip"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range page.Items {
		if e.Action == "auth.login" {
			found = true
			if e.IP != "127.0.0.1" {
				t.Errorf("audited sign-in address %q, want NGINX's view 127.0.0.1 (forged X-Forwarded-For kept out)", e.IP)
			}
		}
	}
	if !found {
		t.Errorf("no auth.login event in %s", body)
	}

	// Chat over the WebSocket upgrade under /pfinni/ws/.
	dialer := websocket.Dialer{TLSClientConfig: tlsConf, HandshakeTimeout: 10 * time.Second}
	wsURL := strings.Replace(public, "https", "wss", 1) + "/pfinni/ws/chat"
	ws, wres, err := dialer.Dial(wsURL, http.Header{"Authorization": {"Bearer " + login.Token}, "Origin": {public}})
	if err != nil {
		t.Fatalf("wss through nginx: %v (%v)", err, wres)
	}
	defer ws.Close()
	if err := ws.WriteJSON(map[string]string{"message": "how many active patients?"}); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(60 * time.Second))
	var got []string
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("no chat reply through nginx (frames %q): %v", got, err)
		}
		var f struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(data, &f)
		got = append(got, f.Type)
		if f.Type == "reply" {
			break
		}
	}
	// Another site's page may not open it.
	_, wres, err = dialer.Dial(wsURL, http.Header{"Authorization": {"Bearer " + login.Token}, "Origin": {"https://evil.example"}})
	if err == nil || wres == nil || wres.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site WebSocket through nginx: err %v, response %v; want 403", err, wres)
	}

	// Bodies over pfinni's 1 MiB limit stop at NGINX.
	res, _ = do("POST", "/pfinni/api/v1/patients", `{"mrn":"`+strings.Repeat("x", 2<<20)+`"}`, "Authorization", "Bearer "+login.Token)
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MiB body answered %d, want 413", res.StatusCode)
	}

	// Sign-in attempts past the burst are refused by NGINX's zone.
	limited := false
	for i := 0; i < 12 && !limited; i++ {
		res, _ = do("POST", "/pfinni/api/v1/auth/login", `{"email":"nobody@example.org","password":"wrong-password-1"}`)
		limited = res.StatusCode == http.StatusTooManyRequests && !strings.Contains(res.Header.Get("Content-Type"), "problem+json")
	}
	if !limited {
		t.Error("12 quick sign-ins were never refused by NGINX's rate limit")
	}

	// The access log has the paths, never the query string.
	accessLog, err := os.ReadFile(filepath.Join(s.dir, "pfinni.access.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(accessLog, []byte("/pfinni/api/v1/patients")) {
		t.Errorf("access log lacks the API call:\n%s", accessLog)
	}
	if bytes.Contains(accessLog, []byte("Quillfeather")) {
		t.Error("the access log holds the patient search text")
	}
}
