package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/bench"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store"
)

// syncBuffer is an output buffer safe to read while a process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// dbServer is a `pfinni db serve` process the test may stop and start
// again on the same address and data dir.
type dbServer struct {
	bin, port, dir, user, pass string
	cmd                        *exec.Cmd
	out                        *syncBuffer
}

// startDBServe runs `pfinni db serve` on a free port with its own data
// dir and returns it once it accepts connections; it is stopped at the
// end of the test.
func startDBServe(t *testing.T, bin, user, pass string) *dbServer {
	t.Helper()
	port, err := freePort()
	require.NoError(t, err)
	d := &dbServer{bin: bin, port: port, dir: t.TempDir(), user: user, pass: pass}
	d.start(t)
	t.Cleanup(func() { d.stop(t) })
	return d
}

// URL is the database URL the serve processes are given.
func (d *dbServer) URL() string { return "ws://127.0.0.1:" + d.port }

func (d *dbServer) start(t *testing.T) {
	t.Helper()
	wd, _ := os.Getwd()
	cmd := exec.Command(d.bin, "db", "serve", "--addr", "127.0.0.1:"+d.port, "--user", d.user, "--password", d.pass)
	cmd.Dir = d.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "PFINNI_DATA_DIR=" + d.dir,
		"PFINNI_DBHOST_DIR=" + filepath.Join(wd, "..", "..", "dbhost")}
	d.out = &syncBuffer{}
	cmd.Stdout, cmd.Stderr = d.out, d.out
	require.NoError(t, cmd.Start())
	d.cmd = cmd
	require.Eventually(t, func() bool {
		return strings.Contains(d.out.String(), "database listening on")
	}, 2*time.Minute, 50*time.Millisecond, "db serve did not start: %s", d.out)
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+d.port, 5*time.Second)
	require.NoError(t, err)
	_ = c.Close()
}

// stop interrupts db serve (a graceful stop of the engine) and waits.
func (d *dbServer) stop(t *testing.T) {
	t.Helper()
	if d.cmd == nil || d.cmd.ProcessState != nil {
		return
	}
	_ = d.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		<-done
	}
}

// Two `pfinni serve` processes on one `pfinni db serve`, each running two
// job workers and the probe cron schedule every second:
//   - a patient created through one is read through the other;
//   - the schedule runs once per tick across both (30 ± 1 runs in 30 s,
//     not 60), each run applied once;
//   - with the database stopped for 10 s the API answers 503 for what
//     needs it; when it is back the queued jobs all run and nothing
//     written before is lost.
func TestTwoServeProcessesOnDBServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts three processes")
	}
	bin := buildBinary(t)
	const user, pass = "shared_root", "Shared-db-pass-0123456789"
	d := startDBServe(t, bin, user, pass)
	env := []string{"PFINNI_DB_USER=" + user, "PFINNI_DB_PASSWORD=" + pass, "PFINNI_JOBS_WORKERS=2",
		jobs.ProbeCronEnv + "=@every 1s"}
	_, a := startServe(t, bin, d.URL(), "shared", env...)
	_, b := startServe(t, bin, d.URL(), "shared", env...)
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{URL: d.URL, Namespace: "test", Database: "shared", User: user, Password: pass})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })

	ca, cb := bench.NewClient(a, 1), bench.NewClient(b, 1)
	require.NoError(t, ca.Login(ctx, "admin@example.org", serveAdminPassword))
	require.NoError(t, cb.Login(ctx, "admin@example.org", serveAdminPassword), "the admin made by the first process signs in on the second")
	var p struct {
		ID  string `json:"id"`
		MRN string `json:"mrn"`
	}
	t.Run("a patient created on one is read on the other", func(t *testing.T) {
		require.NoError(t, ca.Do(ctx, "POST", "/api/v1/patients", map[string]any{
			"mrn": "DB-SERVE-1", "first_name": "Dana", "last_name": "Served", "date_of_birth": "1981-04-05", "sex": "female"}, &p))
		var got struct {
			ID  string `json:"id"`
			MRN string `json:"mrn"`
		}
		require.Eventually(t, func() bool {
			return cb.Do(ctx, "GET", "/api/v1/patients/"+p.ID, nil, &got) == nil && got.ID == p.ID
		}, time.Minute, 50*time.Millisecond, "the second process reads the patient the first created")
		assert.Equal(t, "DB-SERVE-1", got.MRN)
	})

	t.Run("cron every second runs once per tick across both", func(t *testing.T) {
		t0 := time.Now().Truncate(time.Second).Add(time.Second)
		time.Sleep(time.Until(t0.Add(30 * time.Second)))
		t1 := t0.Add(30 * time.Second)
		type tickJob struct {
			ID    string `json:"id"`
			Args  string `json:"args"`
			State string `json:"state"`
		}
		var inWindow []tickJob
		require.Eventually(t, func() bool {
			rows, err := store.Query[[]tickJob](ctx, db, "SELECT record::id(id) AS id, args, state FROM job WHERE kind = $k",
				map[string]any{"k": jobs.ProbeTickKind})
			if err != nil {
				return false
			}
			inWindow = inWindow[:0]
			for _, r := range rows {
				var args struct {
					Cron jobs.CronArgs `json:"cron"`
				}
				require.NoError(t, json.Unmarshal([]byte(r.Args), &args))
				if !args.Cron.Tick.Before(t0) && args.Cron.Tick.Before(t1) {
					inWindow = append(inWindow, r)
				}
			}
			for _, r := range inWindow {
				if r.State != string(jobs.Succeeded) {
					return false
				}
			}
			return len(inWindow) > 0
		}, 2*time.Minute, 200*time.Millisecond, "the tick jobs of the window run")
		assert.InDelta(t, 30, len(inWindow), 1, "one run per tick across both processes, not two")
		byTick := map[time.Time][]string{}
		for _, r := range inWindow {
			var args struct {
				Cron jobs.CronArgs `json:"cron"`
			}
			require.NoError(t, json.Unmarshal([]byte(r.Args), &args))
			byTick[args.Cron.Tick] = append(byTick[args.Cron.Tick], r.ID+" "+r.Args)
		}
		for tick, js := range byTick {
			assert.Len(t, js, 1, "tick %s enqueued once", tick)
		}
		ids := make([]string, len(inWindow))
		for i, r := range inWindow {
			ids[i] = r.ID
		}
		effects, err := store.Query[[]string](ctx, db, "SELECT VALUE record::id(id) FROM job_probe WHERE record::id(id) IN $ids",
			map[string]any{"ids": ids})
		require.NoError(t, err)
		assert.Len(t, effects, len(inWindow), "each tick's effect applied once")
		t.Logf("%d tick jobs in the 30 s window", len(inWindow))
	})

	t.Run("database stopped for 10 s", func(t *testing.T) {
		const total = 300
		n, err := jobs.EnqueueProbes(ctx, db, total)
		require.NoError(t, err)
		require.Equal(t, total, n)
		probes := func() (succeeded, all int) {
			for _, st := range []jobs.State{jobs.Succeeded, ""} {
				_, c, err := jobs.NewAdmin(db, nil).List(ctx, jobs.Filter{State: st, Kind: jobs.ProbeKind, Limit: 1})
				if err != nil {
					return -1, -1
				}
				if st == "" {
					all = c
				} else {
					succeeded = c
				}
			}
			return succeeded, all
		}
		stopped := time.Now()
		d.stop(t)
		for _, c := range []*bench.Client{ca, cb} {
			base := c.Base
			require.Eventually(t, func() bool {
				res, err := http.Get(base + "/readyz")
				if err != nil {
					return false
				}
				res.Body.Close()
				return res.StatusCode == http.StatusServiceUnavailable
			}, 3*time.Minute, 50*time.Millisecond, "readiness reports the database down")
			err := c.Do(ctx, "POST", "/api/v1/patients", map[string]any{
				"mrn": "DB-DOWN-1", "first_name": "Otto", "last_name": "Outage", "date_of_birth": "1970-01-02", "sex": "male"}, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), ": 503 ", "a write while the database is down answers 503")
		}
		time.Sleep(time.Until(stopped.Add(10 * time.Second)))
		d.start(t)
		require.Eventually(t, func() bool {
			ok, all := probes()
			return ok == total && all == total
		}, 3*time.Minute, 250*time.Millisecond, "every probe job queued before the outage runs once the database is back")
		effects, err := store.Query[[]struct {
			N int `json:"n"`
		}](ctx, db, "SELECT count() AS n FROM job_probe WHERE record::id(id) NOT IN (SELECT VALUE record::id(id) FROM job WHERE kind = $k) GROUP ALL",
			map[string]any{"k": jobs.ProbeTickKind})
		require.NoError(t, err)
		require.Len(t, effects, 1)
		assert.Equal(t, total, effects[0].N, "each probe's effect exists once")
		var got struct {
			MRN string `json:"mrn"`
		}
		var last error
		require.Eventually(t, func() bool {
			last = cb.Do(ctx, "GET", "/api/v1/patients/"+p.ID, nil, &got)
			return last == nil
		}, 3*time.Minute, 100*time.Millisecond, "the API answers again: %v", &last)
		assert.Equal(t, "DB-SERVE-1", got.MRN, "nothing written before the outage is lost")
	})

	// The wrong password is refused: the database is not open to anyone
	// who can reach the port.
	wrong := exec.Command(bin, "jobs", "list")
	wrong.Dir = t.TempDir()
	wrong.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "PFINNI_DATA_DIR=" + wrong.Dir,
		"PFINNI_DB_URL=" + d.URL(), "PFINNI_DB_NAMESPACE=test", "PFINNI_DB_DATABASE=shared",
		"PFINNI_DB_USER=" + user, "PFINNI_DB_PASSWORD=not-the-password-000",
		"PFINNI_PLUGINS_MANIFEST=" + filepath.Join(wrong.Dir, "none.yaml"), "PFINNI_LOG_LEVEL=error"}
	outb, err := wrong.CombinedOutput()
	assert.Error(t, err, "signed in with the wrong password: %s", outb)
}

// db serve refuses to start without a credential or with a weak one.
func TestDBServeNeedsACredential(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", []string{"db"}, "usage: pfinni db serve"},
		{"no credential", []string{"db", "serve", "--addr", "127.0.0.1:0"}, "name the root user and password"},
		{"short password", []string{"db", "serve", "--addr", "127.0.0.1:0", "--user", "u", "--password", "short"}, "16 to 128"},
		{"bad address", []string{"db", "serve", "--addr", "nowhere", "--user", "u", "--password", "Long-enough-password-1"}, "address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PFINNI_DATA_DIR", t.TempDir())
			var out bytes.Buffer
			err := run(context.Background(), tc.args, &out, &out)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
