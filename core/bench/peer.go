package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// PocketBase is a PocketBase server (the peer of issue 18) started from a
// binary built on demand (`make bench-peer` builds examples/base into
// .cache/bin): a `patients` collection with pfinni's fields and indexes,
// read and written with a regular user's token so its API rules run.
type PocketBase struct {
	Admin *Client // superuser
	User  *Client // regular user: what the workload uses
	cmd   *exec.Cmd
	dir   string
	ids   []string // seeded record ids, for gets
}

// StartPocketBase creates a superuser with `base superuser upsert`,
// starts `base serve` on a free port in a temporary dir and waits for
// its health endpoint.
func StartPocketBase(ctx context.Context, bin string, workers int) (*PocketBase, error) {
	bin, err := filepath.Abs(bin)
	if err == nil {
		_, err = os.Stat(bin)
	}
	if err != nil {
		return nil, fmt.Errorf("pocketbase: binary: %w (build it with make bench-peer)", err)
	}
	dir, err := os.MkdirTemp("", "pfinni-peer-")
	if err != nil {
		return nil, fmt.Errorf("pocketbase: temp dir: %w", err)
	}
	pb := &PocketBase{dir: dir}
	data := filepath.Join(dir, "pb_data")
	pw := make([]byte, 12)
	_, _ = rand.Read(pw)
	email, pass := "bench@pfinni.local", "Bench-"+hex.EncodeToString(pw)
	if out, err := exec.CommandContext(ctx, bin, "superuser", "upsert", email, pass, "--dir", data).CombinedOutput(); err != nil {
		pb.Close()
		return nil, fmt.Errorf("pocketbase: superuser upsert: %w: %s", err, strings.TrimSpace(string(out)))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		pb.Close()
		return nil, fmt.Errorf("pocketbase: free port: %w", err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	pb.cmd = exec.Command(bin, "serve", "--http", addr, "--dir", data)
	pb.cmd.Dir = dir
	pb.cmd.Stdout, pb.cmd.Stderr = nil, nil
	if err := pb.cmd.Start(); err != nil {
		pb.Close()
		return nil, fmt.Errorf("pocketbase: serve: %w", err)
	}
	base := "http://" + addr
	pb.Admin = NewClient(base, 4)
	pb.User = NewClient(base, workers)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err = pb.Admin.Do(ctx, "GET", "/api/health", nil, nil)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		pb.Close()
		return nil, fmt.Errorf("pocketbase: not healthy: %w", err)
	}
	if err := pb.setup(ctx, email, pass); err != nil {
		pb.Close()
		return nil, err
	}
	return pb, nil
}

// PID is the server's process id (for the sampler).
func (pb *PocketBase) PID() int {
	if pb.cmd == nil || pb.cmd.Process == nil {
		return 0
	}
	return pb.cmd.Process.Pid
}

// Close stops the server and removes its data.
func (pb *PocketBase) Close() {
	if pb.cmd != nil && pb.cmd.Process != nil {
		_ = pb.cmd.Process.Kill()
		_ = pb.cmd.Wait()
	}
	_ = os.RemoveAll(pb.dir)
}

// patientFields mirror pfinni's patient record (core/patient.Patient);
// nested values are JSON fields.
var patientFields = []struct{ name, typ string }{
	{"mrn", "text"}, {"first_name", "text"}, {"middle_names", "json"}, {"last_name", "text"},
	{"preferred_name", "text"}, {"date_of_birth", "text"}, {"sex", "text"}, {"phone", "text"},
	{"email", "text"}, {"address", "json"}, {"language", "text"}, {"marital_status", "text"},
	{"race", "json"}, {"ethnicity", "json"}, {"provider_id", "text"}, {"insurance", "json"},
	{"identifiers", "json"}, {"status", "text"}, {"status_changed_at", "date"}, {"tags", "json"},
	{"source", "text"}, {"version", "number"}, {"created_at", "date"}, {"updated_at", "date"},
}

// setup signs the superuser in, creates the collection (the indexes of
// core/store/schema/20_patient.surql), enables the batch API for seeding
// and signs a regular user in.
func (pb *PocketBase) setup(ctx context.Context, email, pass string) error {
	var auth struct {
		Token string `json:"token"`
	}
	if err := pb.Admin.Do(ctx, "POST", "/api/collections/_superusers/auth-with-password", map[string]string{"identity": email, "password": pass}, &auth); err != nil {
		return fmt.Errorf("pocketbase: superuser sign-in: %w", err)
	}
	pb.Admin.Token = auth.Token
	fields := make([]map[string]any, 0, len(patientFields))
	for _, f := range patientFields {
		m := map[string]any{"name": f.name, "type": f.typ}
		if f.name == "mrn" {
			m["required"] = true
		}
		fields = append(fields, m)
	}
	signedIn := "@request.auth.id != ''"
	coll := map[string]any{
		"name": "patients", "type": "base", "fields": fields,
		"listRule": signedIn, "viewRule": signedIn, "createRule": signedIn, "updateRule": signedIn,
		"indexes": []string{
			"CREATE UNIQUE INDEX idx_patients_mrn ON patients (mrn)",
			"CREATE INDEX idx_patients_status ON patients (status)",
			"CREATE INDEX idx_patients_provider ON patients (provider_id)",
			"CREATE INDEX idx_patients_name ON patients (last_name, first_name)",
			"CREATE INDEX idx_patients_updated ON patients (updated_at)",
		},
	}
	if err := pb.Admin.Do(ctx, "POST", "/api/collections", coll, nil); err != nil {
		return fmt.Errorf("pocketbase: create collection: %w", err)
	}
	settings := map[string]any{"batch": map[string]any{"enabled": true, "maxRequests": 500, "timeout": 60}}
	if err := pb.Admin.Do(ctx, "PATCH", "/api/settings", settings, nil); err != nil {
		return fmt.Errorf("pocketbase: enable batch: %w", err)
	}
	upw := "User-" + email + "-x"
	user := map[string]any{"email": "user@pfinni.local", "password": upw, "passwordConfirm": upw, "verified": true}
	if err := pb.Admin.Do(ctx, "POST", "/api/collections/users/records", user, nil); err != nil {
		return fmt.Errorf("pocketbase: create user: %w", err)
	}
	if err := pb.User.Do(ctx, "POST", "/api/collections/users/auth-with-password", map[string]string{"identity": "user@pfinni.local", "password": upw}, &auth); err != nil {
		return fmt.Errorf("pocketbase: user sign-in: %w", err)
	}
	pb.User.Token = auth.Token
	return nil
}

// peerRecord turns a pfinni patient (as the API returns it) into a
// PocketBase record body: the same fields, PocketBase assigns the id.
func peerRecord(p map[string]any) map[string]any {
	out := make(map[string]any, len(patientFields))
	for _, f := range patientFields {
		if v, ok := p[f.name]; ok {
			out[f.name] = v
		}
	}
	return out
}

// Seed stores the records (pfinni's, see FetchPatients) through the
// batch API, 200 per transaction, 4 at a time, and keeps their ids.
func (pb *PocketBase) Seed(ctx context.Context, records []map[string]any) error {
	const per = 200
	type batchReq struct {
		Method string         `json:"method"`
		URL    string         `json:"url"`
		Body   map[string]any `json:"body"`
	}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	chunks := make(chan []map[string]any)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for chunk := range chunks {
				reqs := make([]batchReq, len(chunk))
				for i, r := range chunk {
					reqs[i] = batchReq{"POST", "/api/collections/patients/records", peerRecord(r)}
				}
				var res []struct {
					Status int `json:"status"`
					Body   struct {
						ID string `json:"id"`
					} `json:"body"`
				}
				err := pb.Admin.Do(ctx, "POST", "/api/batch", map[string]any{"requests": reqs}, &res)
				mu.Lock()
				if err == nil && len(res) != len(chunk) {
					err = fmt.Errorf("%d results for %d records", len(res), len(chunk))
				}
				for _, r := range res {
					if r.Status >= 300 && err == nil {
						err = fmt.Errorf("a record answered %d", r.Status)
					}
					pb.ids = append(pb.ids, r.Body.ID)
				}
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("pocketbase: seed: %w", err)
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < len(records); i += per {
		chunks <- records[i:min(i+per, len(records))]
	}
	close(chunks)
	wg.Wait()
	return firstErr
}

// FetchPatients pages through a pfinni server's patients (200 a page,
// by MRN) as the API returns them.
func FetchPatients(ctx context.Context, api *Client) ([]map[string]any, error) {
	var all []map[string]any
	cursor := ""
	for {
		var pg struct {
			Items      []map[string]any `json:"items"`
			NextCursor string           `json:"next_cursor"`
		}
		path := "/api/v1/patients?limit=200&sort=mrn"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if err := api.Do(ctx, "GET", path, nil, &pg); err != nil {
			return nil, fmt.Errorf("bench: fetch patients: %w", err)
		}
		all = append(all, pg.Items...)
		if pg.NextCursor == "" || len(pg.Items) == 0 {
			return all, nil
		}
		cursor = pg.NextCursor
	}
}

// Comparison is one path of the side-by-side run.
type Comparison struct {
	Path   string `json:"path"`
	Peer   Result `json:"peer"`
	Pfinni Result `json:"pfinni"`
	// Throughput is pfinni's req/s ÷ the peer's; P99 is the peer's p99 ÷
	// pfinni's (both > 1 when pfinni is ahead).
	Throughput float64 `json:"throughput_ratio"`
	P99        float64 `json:"p99_ratio"`
}

// searchWords are the typo queries of the search path. pfinni's search
// is typo-tolerant; PocketBase gets the same words as substring filters
// on the first and last name (a full scan either way).
var searchWords = []string{"Jonh", "Smtih", "Mraia Garcai", "Willaims", "Jonhson", "Elizbeth"}

// peerSearchFilter is a PocketBase filter for q: every word in the first
// or the last name.
func peerSearchFilter(q string) string {
	var parts []string
	for _, w := range strings.Fields(q) {
		w = strings.ReplaceAll(w, "'", "")
		parts = append(parts, fmt.Sprintf("(first_name~'%s'||last_name~'%s')", w, w))
	}
	return strings.Join(parts, "&&")
}

// createBody is a new patient for the create path (the same for both).
func createBody(tag string, n int64) map[string]any {
	return map[string]any{
		"mrn": fmt.Sprintf("%s%08d%06d", tag, time.Now().Unix()%1e8, n), "first_name": "Bench", "last_name": fmt.Sprintf("Peer%d", n),
		"date_of_birth": "1980-01-02", "sex": "unknown", "phone": "(555) 010-2000",
	}
}

// Compare runs the workload — a 50-row list with its total by
// last name, the status filter with its total, the name search, a get by
// id and a create — against pfinni (api, with ids to get) and the peer,
// path by path in the same run, each at the same closed-loop concurrency.
func Compare(ctx context.Context, api *Client, ids []string, pb *PocketBase, o Options) ([]Comparison, error) {
	o.defaults()
	if len(ids) == 0 || len(pb.ids) == 0 {
		return nil, errors.New("bench: compare: seed both first")
	}
	peer := pb.User
	const coll = "/api/collections/patients/records"
	get := func(c *Client, path string) Op {
		return func(ctx context.Context, _ int, _ int64) error { return c.Do(ctx, "GET", path, nil, nil) }
	}
	paths := []struct {
		name         string
		pfinni, peer Op
	}{
		{"list 50 with total, by last name", get(api, "/api/v1/patients?limit=50"),
			get(peer, coll+"?perPage=50&sort=last_name,first_name")},
		{"status filter with total", get(api, "/api/v1/patients?status=active&limit=50"),
			get(peer, coll+"?perPage=50&sort=last_name,first_name&filter="+url.QueryEscape("status='active'"))},
		{"name search (typos)", func(ctx context.Context, _ int, i int64) error {
			return api.Do(ctx, "GET", "/api/v1/patients?limit=50&q="+url.QueryEscape(searchWords[int(i)%len(searchWords)]), nil, nil)
		}, func(ctx context.Context, _ int, i int64) error {
			return peer.Do(ctx, "GET", coll+"?perPage=50&sort=last_name,first_name&filter="+url.QueryEscape(peerSearchFilter(searchWords[int(i)%len(searchWords)])), nil, nil)
		}},
		{"get by id", func(ctx context.Context, _ int, i int64) error {
			return api.Do(ctx, "GET", "/api/v1/patients/"+ids[int(i)%len(ids)], nil, nil)
		}, func(ctx context.Context, _ int, i int64) error {
			return peer.Do(ctx, "GET", coll+"/"+pb.ids[int(i)%len(pb.ids)], nil, nil)
		}},
		{"create", func(ctx context.Context, _ int, i int64) error {
			// A migration knows its records are new: skip the duplicate warning.
			b := createBody("PFCMP", i)
			b["confirm_duplicate"] = true
			return api.Do(ctx, "POST", "/api/v1/patients", b, nil)
		}, func(ctx context.Context, _ int, i int64) error {
			return peer.Do(ctx, "POST", coll, createBody("PBCMP", i), nil)
		}},
	}
	var out []Comparison
	for _, p := range paths {
		o.Log("bench: peer comparison: %s", p.name)
		c := Comparison{Path: p.name,
			Peer:   Closed(ctx, "pocketbase: "+p.name, o.Workers, o.Duration, p.peer),
			Pfinni: Closed(ctx, "pfinni: "+p.name, o.Workers, o.Duration, p.pfinni)}
		if c.Peer.Throughput > 0 {
			c.Throughput = c.Pfinni.Throughput / c.Peer.Throughput
		}
		if c.Pfinni.P99ms > 0 {
			c.P99 = c.Peer.P99ms / c.Pfinni.P99ms
		}
		out = append(out, c)
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
	}
	return out, nil
}

// PatientIDs are the ids of up to 200 of a pfinni server's patients (by
// MRN), the targets of the get path.
func PatientIDs(ctx context.Context, api *Client) ([]string, error) {
	var pg page
	if err := api.Do(ctx, "GET", "/api/v1/patients?limit=200&sort=mrn", nil, &pg); err != nil {
		return nil, fmt.Errorf("bench: list patients: %w", err)
	}
	ids := make([]string, len(pg.Items))
	for i, p := range pg.Items {
		ids[i] = p.ID
	}
	return ids, nil
}
