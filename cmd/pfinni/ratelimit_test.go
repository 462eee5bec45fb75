package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// The API rate limit holds across two real `pfinni serve` processes on
// one database: with PFINNI_API_RATE_LIMIT=600 (per minute), 2,000
// requests of one client split across both are admitted 600 times (at
// most 5% more), the rest answered 429 with Retry-After and the
// RateLimit fields. Sign-in lockout holds across them too.
func TestRateLimitAcrossTwoProcesses(t *testing.T) {
	bin, dbURL, dbName := processDatabase(t)
	// Loopback is the trusted proxy here, so each part of the test is its
	// own client by X-Forwarded-For.
	env := []string{"PFINNI_API_RATE_LIMIT=600", "PFINNI_TRUSTED_PROXIES=127.0.0.1", "PFINNI_LOGIN_MAX_FAILURES=3"}
	procA, a := startServe(t, bin, dbURL, dbName, env...)
	// Instances on one database share the sign-in lockout key (it is kept
	// outside the database; docs/security.md): the second one, with a
	// data dir of its own, is pointed at the first one's key file.
	keyFile := filepath.Join(procA.cmd.Dir, auth.LockoutKeyFile)
	_, err := os.Stat(keyFile)
	require.NoError(t, err)
	_, b := startServe(t, bin, dbURL, dbName, append(env, "PFINNI_DATA_DIR="+t.TempDir(), "PFINNI_AUTH_KEY_FILE="+keyFile)...)
	bases := []string{a, b}
	client := &http.Client{Timeout: 2 * time.Minute}

	t.Run("2000 requests, limit 600", func(t *testing.T) {
		const total = 2000
		var (
			next, admitted, refused atomic.Int64
			mu                      sync.Mutex
			bad                     []string
			wg                      sync.WaitGroup
		)
		start := time.Now()
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1) - 1
					if i >= total {
						return
					}
					req, _ := http.NewRequest("GET", bases[i%2]+"/api/v1/auth/me", nil)
					req.Header.Set("X-Forwarded-For", "203.0.113.10")
					res, err := client.Do(req)
					if err != nil {
						mu.Lock()
						bad = append(bad, err.Error())
						mu.Unlock()
						continue
					}
					res.Body.Close()
					switch {
					case res.StatusCode == http.StatusUnauthorized: // admitted: /auth/me wants a session
						admitted.Add(1)
					case res.StatusCode == http.StatusTooManyRequests:
						refused.Add(1)
						secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
						if err != nil || secs < 1 || secs > 60 || res.Header.Get("RateLimit-Policy") != `"default";q=600;w=60` ||
							res.Header.Get("RateLimit") == "" {
							mu.Lock()
							bad = append(bad, "429 without Retry-After or RateLimit fields: "+res.Header.Get("Retry-After")+" "+res.Header.Get("RateLimit-Policy"))
							mu.Unlock()
						}
					default:
						mu.Lock()
						bad = append(bad, "status "+strconv.Itoa(res.StatusCode))
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		took := time.Since(start)
		t.Logf("%d admitted, %d refused in %s", admitted.Load(), refused.Load(), took)
		require.Empty(t, bad)
		if took >= time.Minute {
			t.Skipf("the requests took %s, more than the one-minute window: the count says nothing", took)
		}
		assert.GreaterOrEqual(t, admitted.Load(), int64(600), "the whole budget is used")
		assert.LessOrEqual(t, admitted.Load(), int64(630), "at most 5% more than the limit across both processes")
		assert.Equal(t, int64(total), admitted.Load()+refused.Load())
	})

	t.Run("lockout holds across processes", func(t *testing.T) {
		login := func(base, password string) int {
			req, _ := http.NewRequest("POST", base+"/api/v1/auth/login",
				bytes.NewBufferString(`{"email":"admin@example.org","password":"`+password+`"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Forwarded-For", "203.0.113.20")
			res, err := client.Do(req)
			require.NoError(t, err)
			res.Body.Close()
			return res.StatusCode
		}
		// Three failures, alternating between the processes, lock the
		// account on both (the third answers 423 already): the right
		// password is refused by each.
		for i := range 2 {
			require.Equal(t, http.StatusUnauthorized, login(bases[i%2], "wrong password "+strconv.Itoa(i)))
		}
		require.Equal(t, http.StatusLocked, login(a, "wrong password 2"))
		assert.Equal(t, http.StatusLocked, login(a, serveAdminPassword))
		assert.Equal(t, http.StatusLocked, login(b, serveAdminPassword))
	})
}

// processDatabase skips in -short mode, else builds the binary and
// returns it with the shared engine's URL and a fresh database's name,
// for a test that starts `pfinni serve` processes on one database.
func processDatabase(t *testing.T) (bin, dbURL, dbName string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary and starts servers")
	}
	bin = buildBinary(t)
	urlf, err := storetest.Engine()
	require.NoError(t, err)
	return bin, urlf(), storetest.Config(t).Database
}
