package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/bench"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// The attack test: a real `pfinni serve` process receives each attack of
// the security review (issue 11) and must refuse it, stay healthy, and
// keep its memory (RSS) within 50 MB of where it started. Each attack is
// one row of attacks(); add rows for new ones.

const (
	attackPassword = "Attack-test-pass-1"
	attackAdmin    = "admin@example.org"
	// rssBudget is how much the server's resident memory may grow over
	// all the attacks together.
	rssBudget = 50 << 20
	// readTimeout is the server's read_timeout here, short so that the
	// slow client is cut off soon.
	readTimeout = 2 * time.Second
)

// target is the server under attack.
type target struct {
	base   string // http://127.0.0.1:port
	addr   string // 127.0.0.1:port
	pid    int
	token  string // an admin's bearer token
	dbURL  string // the database the server uses
	dbName string
}

// attack is one row: send does the attack and returns the HTTP status the
// server answered (0: the server closed the connection without one).
type attack struct {
	name string
	send func(t *testing.T, tg *target) int
	want int
	// check, when set, looks further at the outcome.
	check func(t *testing.T, tg *target)
	// late rows run after the memory verdict: they make the server hash
	// passwords (argon2id takes 19 MiB per hash by design), which is not
	// an attack on memory.
	late bool
}

func attacks() []attack {
	const bomb = 64 << 20 // each compression bomb inflates to 64 MiB
	login := "/api/v1/auth/login"
	encoded := func(enc string, body []byte) func(t *testing.T, tg *target) int {
		return func(t *testing.T, tg *target) int {
			return rawPost(t, tg, login, map[string]string{"Content-Type": "application/json", "Content-Encoding": enc}, bytes.NewReader(body), int64(len(body)))
		}
	}
	return []attack{
		{name: "gzip bomb to anonymous login", want: 415, send: func(t *testing.T, tg *target) int {
			return encoded("gzip", gzipped(t, zeros(bomb)))(t, tg)
		}},
		{name: "deflate bomb to anonymous login", want: 415, send: func(t *testing.T, tg *target) int {
			return encoded("deflate", deflated(t, zeros(bomb)))(t, tg)
		}},
		{name: "brotli bomb to anonymous login", want: 415, send: func(t *testing.T, tg *target) int {
			return encoded("br", brotlied(t, zeros(bomb)))(t, tg)
		}},
		{name: "stacked gzip, gzip bomb to anonymous login", want: 415, send: func(t *testing.T, tg *target) int {
			return encoded("gzip, gzip", gzipped(t, bytes.NewReader(gzipped(t, zeros(2*bomb)))))(t, tg)
		}},
		{name: "identity encoding is still accepted", want: 422, send: encoded("identity", []byte(`{"email":"","password":""}`))},
		{name: "200 MB body to anonymous login", want: 413, send: func(t *testing.T, tg *target) int {
			return rawPost(t, tg, login, map[string]string{"Content-Type": "application/json"}, zeros(200<<20), 200<<20)
		}},
		{name: "5 MB chunked body to anonymous login", want: 413, send: func(t *testing.T, tg *target) int {
			return rawPost(t, tg, login, map[string]string{"Content-Type": "application/json"}, zeros(5<<20), -1)
		}},
		{name: "5 MB JSON as multipart/form-data; x=json to login", want: 413, send: func(t *testing.T, tg *target) int {
			body := []byte(`{"email":"a@b.c","password":"` + strings.Repeat("p", 5<<20) + `"}`)
			return rawPost(t, tg, login, map[string]string{"Content-Type": "multipart/form-data; x=json"}, bytes.NewReader(body), int64(len(body)))
		}},
		{name: "JSON as multipart/form-data; x=json to login", want: 415, send: func(t *testing.T, tg *target) int {
			body := []byte(`{"email":"a@b.c","password":"whatever-it-is-1"}`)
			return rawPost(t, tg, login, map[string]string{"Content-Type": "multipart/form-data; x=json"}, bytes.NewReader(body), int64(len(body)))
		}},
		{name: "200 MB anonymous upload", want: 401, send: func(t *testing.T, tg *target) int {
			return rawPost(t, tg, "/api/v1/imports", map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, zeros(200<<20), 200<<20)
		}},
		{name: "zip bomb upload", want: 202, send: func(t *testing.T, tg *target) int {
			ct, body := multipartFile(t, "bomb.zip", zipBomb(t, 1000, 1<<20)) // 1 GiB expanded
			return rawPost(t, tg, "/api/v1/imports", map[string]string{"Content-Type": ct, "Authorization": "Bearer " + tg.token}, bytes.NewReader(body), int64(len(body)))
		}, check: func(t *testing.T, tg *target) {
			// Every entry is refused for its ratio; none is kept.
			var jobs struct {
				Items []struct {
					ID string `json:"id"`
				} `json:"items"`
			}
			getJSON(t, tg, "/api/v1/imports?limit=1", &jobs)
			require.Len(t, jobs.Items, 1)
			var job struct {
				Files []struct {
					Detail     string `json:"detail"`
					DocumentID string `json:"document_id"`
				} `json:"files"`
			}
			getJSON(t, tg, "/api/v1/imports/"+jobs.Items[0].ID, &job)
			require.Len(t, job.Files, 1000)
			for _, f := range job.Files {
				assert.Empty(t, f.DocumentID)
				assert.Contains(t, f.Detail, "compressed more than")
			}
		}},
		{name: "slow client (headers trickled) is cut off", want: 408, send: func(t *testing.T, tg *target) int {
			return slowClient(t, tg, "POST "+login+" HTTP/1.1\r\nHost: x\r\nX-Slow: ")
		}},
		{name: "slow client (body trickled) is cut off", want: 408, send: func(t *testing.T, tg *target) int {
			return slowClient(t, tg, "POST "+login+" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
		}},
		{name: "cross-origin WebSocket with a valid session", want: 403, send: func(t *testing.T, tg *target) int {
			return dialChat(t, tg, "https://evil.example")
		}},
		{name: "same-origin WebSocket works past the read timeout", want: 101, send: func(t *testing.T, tg *target) int {
			u := url.URL{Scheme: "ws", Host: tg.addr, Path: "/ws/chat"}
			ws, res, err := websocket.DefaultDialer.Dial(u.String(), http.Header{"Authorization": {"Bearer " + tg.token}, "Origin": {tg.base}})
			require.NoError(t, err)
			defer ws.Close()
			time.Sleep(readTimeout + time.Second)
			require.NoError(t, ws.WriteJSON(map[string]string{"message": "hello"}))
			_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, _, err = ws.ReadMessage()
			require.NoError(t, err, "the socket still answers")
			return res.StatusCode
		}},
		// M3: an open redirect through the sign-in form's next.
		{name: "sign-in form with next=/<tab>/evil.example stays on site", late: true, want: http.StatusSeeOther, send: func(t *testing.T, tg *target) int {
			form := url.Values{"email": {attackAdmin}, "password": {attackPassword}, "next": {"/\t/evil.example"}}
			res := postForm(t, tg, "/login", form, nil)
			loc := res.Header.Get("Location")
			assert.True(t, strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") && !strings.Contains(loc, "evil"),
				"Location %q stays on this site", loc)
			return res.StatusCode
		}},
		// L13: login CSRF, a browser on another site signing the victim in.
		{name: "cross-site sign-in from a browser", want: http.StatusForbidden, send: func(t *testing.T, tg *target) int {
			form := url.Values{"email": {attackAdmin}, "password": {attackPassword}}
			return postForm(t, tg, "/login", form, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}).StatusCode
		}},
		// H1: the database port refuses browsers and anyone without the
		// per-start credential.
		{name: "browser WebSocket to the database port", want: http.StatusForbidden, send: func(t *testing.T, tg *target) int {
			u, err := url.Parse(tg.dbURL)
			require.NoError(t, err)
			u.Path = "/rpc"
			ws, res, err := websocket.DefaultDialer.Dial(u.String(), http.Header{"Origin": {"https://evil.example"}})
			if err == nil {
				ws.Close()
			}
			require.NotNil(t, res, "the database port answers the handshake")
			return res.StatusCode
		}},
		{name: "database connection without the credential", want: http.StatusUnauthorized, send: func(t *testing.T, tg *target) int {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			db, err := store.Open(ctx, store.Config{URL: func() string { return tg.dbURL }, Namespace: "test", Database: tg.dbName})
			if err == nil {
				defer db.Close()
				_, qerr := store.QueryAll[map[string]any](ctx, db, "SELECT * FROM user LIMIT 1", nil)
				if qerr == nil {
					return http.StatusOK
				}
			}
			return http.StatusUnauthorized
		}},
		// M1: parallel wrong guesses all passing the lockout check.
		{name: "20 parallel wrong guesses verify at most 5", late: true, want: 0, send: func(t *testing.T, tg *target) int {
			var wg sync.WaitGroup
			codes := make(chan int, 20)
			for i := range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					body := []byte(fmt.Sprintf(`{"email":"victim@example.org","password":"wrong-guess-%02d-xx"}`, i))
					codes <- rawPost(t, tg, login, map[string]string{"Content-Type": "application/json"}, bytes.NewReader(body), int64(len(body)))
				}()
			}
			wg.Wait()
			close(codes)
			checked := 0
			for c := range codes {
				switch c {
				case http.StatusUnauthorized:
					checked++
				case http.StatusLocked, http.StatusTooManyRequests:
				default:
					t.Errorf("a wrong guess answered %d", c)
				}
			}
			assert.LessOrEqual(t, checked, 5, "at most login_max_failures guesses are checked")
			return 0
		}},
	}
}

// postForm posts a form to the dashboard without following redirects.
func postForm(t *testing.T, tg *target, path string, form url.Values, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("POST", tg.base+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func TestAttacks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and attacks a running server")
	}
	tg := startTarget(t)
	healthy(t, tg)
	// The peak from here on is what counts: reset the process's
	// high-water mark (VmHWM), and also sample after every attack.
	peakReset := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", tg.pid), []byte("5"), 0) == nil
	start := memory(t, tg.pid, "VmRSS")
	peak := start
	run := func(a attack) {
		t.Run(a.name, func(t *testing.T) {
			assert.Equal(t, a.want, a.send(t, tg))
			if a.check != nil {
				a.check(t, tg)
			}
			healthy(t, tg)
			peak = max(peak, memory(t, tg.pid, "VmRSS"))
		})
	}
	var late []attack
	for _, a := range attacks() {
		if a.late {
			late = append(late, a)
			continue
		}
		run(a)
	}
	if peakReset {
		peak = max(peak, memory(t, tg.pid, "VmHWM"))
	}
	t.Logf("server RSS: %.1f MB before the attacks, peak %.1f MB (high-water mark reset: %v)", float64(start)/(1<<20), float64(peak)/(1<<20), peakReset)
	assert.Less(t, peak-start, int64(rssBudget), "the server's memory stays bounded under the attacks")
	for _, a := range late {
		run(a)
	}
}

// startTarget builds pfinni and runs `pfinni serve` on its own database
// of the shared test engine, with a short read timeout.
func startTarget(t *testing.T) *target {
	t.Helper()
	wd, _ := os.Getwd()
	bin := buildBinary(t)

	urlf, err := storetest.Engine()
	require.NoError(t, err)
	port, err := freePort()
	require.NoError(t, err)
	dir := t.TempDir()
	dbUser, dbPass := storetest.Credentials()
	dbName := storetest.Config(t).Database
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"PFINNI_HTTP_ADDR=127.0.0.1:" + port, "PFINNI_DATA_DIR=" + dir, "PFINNI_DB_URL=" + urlf(),
		"PFINNI_DB_NAMESPACE=test", "PFINNI_DB_DATABASE=" + dbName,
		"PFINNI_DBHOST_DIR=" + filepath.Join(wd, "..", "..", "dbhost"),
		"PFINNI_DB_USER=" + dbUser, "PFINNI_DB_PASSWORD=" + dbPass,
		"PFINNI_ADMIN_EMAIL=" + attackAdmin, "PFINNI_ADMIN_PASSWORD=" + attackPassword,
		"PFINNI_PLUGINS_MANIFEST=" + filepath.Join(dir, "none.yaml"), "PFINNI_LOG_LEVEL=warn",
		"PFINNI_READ_TIMEOUT=" + readTimeout.String()}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	tg := &target{base: "http://127.0.0.1:" + port, addr: "127.0.0.1:" + port, pid: cmd.Process.Pid,
		dbURL: urlf(), dbName: dbName}
	require.Eventually(t, func() bool {
		res, err := http.Get(tg.base + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	}, 60*time.Second, 100*time.Millisecond, "server did not start: %s", &logs)
	c := bench.NewClient(tg.base, 1)
	require.NoError(t, c.Login(context.Background(), attackAdmin, attackPassword))
	tg.token = c.Token
	return tg
}

func healthy(t *testing.T, tg *target) {
	t.Helper()
	res, err := http.Get(tg.base + "/healthz")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, 200, res.StatusCode, "the server is healthy")
}

// memory is a memory figure of process pid from /proc (VmRSS: resident
// now, VmHWM: peak resident), in bytes.
func memory(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// rawPost sends a POST over its own connection — the body written while
// the answer is read, as an attacker would — and returns the status
// (0 when the server closed the connection without one). contentLength
// -1 sends the body chunked.
func rawPost(t *testing.T, tg *target, path string, hdr map[string]string, body io.Reader, contentLength int64) int {
	t.Helper()
	conn, err := net.Dial("tcp", tg.addr)
	require.NoError(t, err)
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	var head strings.Builder
	fmt.Fprintf(&head, "POST %s HTTP/1.1\r\nHost: %s\r\n", path, tg.addr)
	for k, v := range hdr {
		fmt.Fprintf(&head, "%s: %s\r\n", k, v)
	}
	if contentLength >= 0 {
		fmt.Fprintf(&head, "Content-Length: %d\r\n\r\n", contentLength)
	} else {
		head.WriteString("Transfer-Encoding: chunked\r\n\r\n")
	}
	_, err = io.WriteString(conn, head.String())
	require.NoError(t, err)
	go func() {
		// Keep sending until the server hangs up; errors are expected.
		if contentLength >= 0 {
			_, _ = io.Copy(conn, body)
			return
		}
		buf := make([]byte, 32<<10)
		for {
			n, err := body.Read(buf)
			if n > 0 {
				if _, werr := fmt.Fprintf(conn, "%x\r\n%s\r\n", n, buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				_, _ = io.WriteString(conn, "0\r\n\r\n")
				return
			}
		}
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}

// slowClient sends start, then one byte a second, and returns the status
// the server answers (0: it closed the connection without one); the
// connection must be closed after it.
func slowClient(t *testing.T, tg *target, start string) int {
	t.Helper()
	conn, err := net.Dial("tcp", tg.addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, start)
	require.NoError(t, err)
	closed := make(chan int, 1)
	go func() {
		_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		br := bufio.NewReader(conn)
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			closed <- 0
			return
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if _, err := br.ReadByte(); err == nil {
			closed <- -1 // still open after the answer
			return
		}
		closed <- res.StatusCode
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case status := <-closed:
			return status
		case <-tick.C:
			_, _ = conn.Write([]byte("a")) // fails once the server has closed
		}
	}
}

// dialChat opens /ws/chat as the admin with the Origin given and returns
// the handshake's status.
func dialChat(t *testing.T, tg *target, origin string) int {
	t.Helper()
	u := url.URL{Scheme: "ws", Host: tg.addr, Path: "/ws/chat"}
	ws, res, err := websocket.DefaultDialer.Dial(u.String(), http.Header{"Authorization": {"Bearer " + tg.token}, "Origin": {origin}})
	if err == nil {
		ws.Close()
	}
	if res == nil {
		return 0
	}
	return res.StatusCode
}

func getJSON(t *testing.T, tg *target, path string, out any) {
	t.Helper()
	req, err := http.NewRequest("GET", tg.base+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tg.token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, 200, res.StatusCode)
	require.NoError(t, json.NewDecoder(res.Body).Decode(out))
}

// zeros is a reader of n zero bytes, made as it is read.
func zeros(n int64) io.Reader { return io.LimitReader(zeroReader{}, n) }

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// compressed returns r as the writer that wrap makes would encode it.
func compressed(t *testing.T, r io.Reader, wrap func(io.Writer) (io.WriteCloser, error)) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := wrap(&buf)
	require.NoError(t, err)
	_, err = io.Copy(w, r)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func gzipped(t *testing.T, r io.Reader) []byte {
	return compressed(t, r, func(w io.Writer) (io.WriteCloser, error) { return gzip.NewWriterLevel(w, gzip.BestCompression) })
}

func deflated(t *testing.T, r io.Reader) []byte {
	return compressed(t, r, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestCompression) })
}

func brotlied(t *testing.T, r io.Reader) []byte {
	return compressed(t, r, func(w io.Writer) (io.WriteCloser, error) { return brotli.NewWriterLevel(w, brotli.BestSpeed), nil })
}

func zipBomb(t *testing.T, n int, size int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	entry := deflated(t, zeros(size))
	for i := range n {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: fmt.Sprintf("p%04d.xml", i), Method: zip.Deflate,
			CRC32: crcOfZeros(size), CompressedSize64: uint64(len(entry)), UncompressedSize64: uint64(size)})
		require.NoError(t, err)
		_, err = w.Write(entry)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func multipartFile(t *testing.T, name string, data []byte) (contentType string, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, err := mw.CreateFormFile("files", name)
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), buf.Bytes()
}

func crcOfZeros(size int64) uint32 {
	h := crc32.NewIEEE()
	_, _ = io.Copy(h, zeros(size))
	return h.Sum32()
}
