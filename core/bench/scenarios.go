package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/pfinni/pfinni/core/store"
)

// Target is what a run drives: the pfinni API (signed in) and, side by
// side, the same SurrealDB the server uses.
type Target struct {
	API *Client
	DB  *store.DB // nil skips the raw-database rows
	// Docs are import documents (name -> bytes); empty skips the import row.
	Docs map[string][]byte
}

// Options size a run.
type Options struct {
	Workers   int           // concurrent clients for reads (default 50)
	Duration  time.Duration // per path (default 8s)
	WriteRate int           // writes per second alongside the read load (default 20)
	// Only, when set, runs just the read paths whose name it matches (no
	// writes, import or raw rows): to measure one path again quickly.
	Only *regexp.Regexp
	Log  func(format string, args ...any)
}

func (o *Options) defaults() {
	if o.Workers <= 0 {
		o.Workers = 50
	}
	if o.Duration <= 0 {
		o.Duration = 8 * time.Second
	}
	if o.WriteRate <= 0 {
		o.WriteRate = 20
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
}

type patientRef struct {
	ID      string `json:"id"`
	MRN     string `json:"mrn"`
	Version int    `json:"version"`
}

type page struct {
	Items []patientRef `json:"items"`
	Total int          `json:"total"`
}

// Run measures every user-facing path and the raw database beside it.
func Run(ctx context.Context, t Target, o Options) ([]Result, error) {
	o.defaults()
	api := t.API
	var sample page
	if err := api.Do(ctx, "GET", "/api/v1/patients?limit=200&sort=mrn", nil, &sample); err != nil {
		return nil, fmt.Errorf("bench: list patients: %w", err)
	}
	if len(sample.Items) == 0 {
		return nil, fmt.Errorf("bench: no patients to read; seed first")
	}
	var providers struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	_ = api.Do(ctx, "GET", "/api/v1/providers", nil, &providers)
	providerID := ""
	if len(providers.Items) > 0 {
		providerID = providers.Items[0].ID
	}
	ids := sample.Items
	pick := func(i int64) patientRef { return ids[int(i)%len(ids)] }
	get := func(path string) Op {
		return func(ctx context.Context, _ int, _ int64) error { return api.Do(ctx, "GET", path, nil, nil) }
	}
	today := time.Now().UTC()
	reads := []struct {
		name string
		op   Op
	}{
		{"list (50, sorted)", get("/api/v1/patients?limit=50")},
		{"list status=active", get("/api/v1/patients?status=active&limit=50")},
		{"list provider", get("/api/v1/patients?provider_id=" + url.QueryEscape(providerID) + "&limit=50")},
		{"list birthdays 30d", get("/api/v1/patients?birthday_within_days=30&sort=birthday&limit=50")},
		{"list created range", get("/api/v1/patients?created_from=" + today.AddDate(0, -6, 0).Format("2006-01-02") + "&created_to=" + today.Format("2006-01-02") + "&limit=50")},
		{"list missing phone", get("/api/v1/patients?missing=phone&limit=50")},
		{"typo search", func(ctx context.Context, _ int, i int64) error {
			qs := []string{"Jonh", "Smtih", "Mraia Garcai", "Willaims", "Jonhson", "Elizbeth"}
			return api.Do(ctx, "GET", "/api/v1/patients?limit=50&q="+url.QueryEscape(qs[int(i)%len(qs)]), nil, nil)
		}},
		{"get patient", func(ctx context.Context, _ int, i int64) error {
			return api.Do(ctx, "GET", "/api/v1/patients/"+pick(i).ID, nil, nil)
		}},
		{"dashboard metrics", get("/api/v1/patients/stats")},
		{"audit query", get("/api/v1/audit?limit=50")},
		// The auditor's viewer: filtered by action and time, and by record.
		{"audit query action+time", get("/api/v1/audit?limit=50&action=patient.read&from=" + url.QueryEscape(today.Add(-time.Hour).Format(time.RFC3339)))},
		{"audit query record", func(ctx context.Context, _ int, i int64) error {
			return api.Do(ctx, "GET", "/api/v1/audit?limit=50&record="+url.QueryEscape(pick(i).ID), nil, nil)
		}},
		{"chat data question", func(ctx context.Context, _ int, i int64) error {
			msgs := []string{"show me all active patients", "how many churned this month?", "find patients with upcoming birthdays", "patients with no phone"}
			return api.Do(ctx, "POST", "/api/v1/chat", map[string]any{"message": msgs[int(i)%len(msgs)], "context": map[string]string{"page": "/patients"}}, nil)
		}},
	}
	var results []Result
	for _, r := range reads {
		if o.Only != nil && !o.Only.MatchString(r.name) {
			continue
		}
		o.Log("bench: %s", r.name)
		res := Closed(ctx, r.name, o.Workers, o.Duration, r.op)
		results = append(results, res)
	}

	if o.Only != nil {
		return results, nil
	}
	// Writes at a fixed rate, alongside a closed-loop read load.
	created := make([]patientRef, 0, 1024)
	var mu sync.Mutex
	var seq int64
	runWrites := func(name string, op Op) Result {
		o.Log("bench: %s (%d/s with read load)", name, o.WriteRate)
		bg, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			Closed(bg, "background reads", o.Workers, o.Duration+time.Second, get("/api/v1/patients?status=active&limit=50"))
		}()
		res := Open(ctx, name, o.WriteRate, o.Duration, op)
		stop()
		<-done
		res.Mode += "+reads:" + strconv.Itoa(o.Workers)
		return res
	}
	results = append(results, runWrites("create", func(ctx context.Context, _ int, i int64) error {
		mu.Lock()
		seq++
		n := seq
		mu.Unlock()
		var p patientRef
		err := api.Do(ctx, "POST", "/api/v1/patients", map[string]any{
			"mrn": fmt.Sprintf("BENCH%08d%04d", time.Now().Unix()%1e8, n), "first_name": "Bench", "last_name": fmt.Sprintf("Load%d", n),
			"date_of_birth": "1980-01-02", "sex": "unknown", "phone": "(555) 010-2000", "confirm_duplicate": true,
		}, &p)
		if err == nil {
			mu.Lock()
			created = append(created, p)
			mu.Unlock()
		}
		return err
	}))
	// Open-loop runs issue about rate × duration requests, give or take
	// one: top up the created patients (untimed) so the update and status
	// runs never run out of targets.
	for range o.WriteRate/10 + 5 {
		mu.Lock()
		seq++
		n := seq
		mu.Unlock()
		var p patientRef
		if err := api.Do(ctx, "POST", "/api/v1/patients", map[string]any{
			"mrn": fmt.Sprintf("BENCHX%08d%04d", time.Now().Unix()%1e8, n), "first_name": "Bench", "last_name": fmt.Sprintf("Spare%d", n),
			"date_of_birth": "1980-01-02", "sex": "unknown", "confirm_duplicate": true,
		}, &p); err == nil {
			mu.Lock()
			created = append(created, p)
			mu.Unlock()
		}
	}
	mu.Lock()
	targets := append([]patientRef(nil), created...)
	mu.Unlock()
	if len(targets) > 0 {
		var next int64 = -1
		claim := func() (int, bool) {
			mu.Lock()
			defer mu.Unlock()
			next++
			if int(next) >= len(targets) {
				return 0, false
			}
			return int(next), true
		}
		results = append(results, runWrites("update", func(ctx context.Context, _ int, _ int64) error {
			k, ok := claim()
			if !ok {
				return fmt.Errorf("ran out of created patients to update")
			}
			p := targets[k]
			var out patientRef
			err := api.Do(ctx, "PATCH", "/api/v1/patients/"+p.ID, map[string]any{"phone": "(555) 010-3000", "version": p.Version}, &out)
			if err == nil {
				mu.Lock()
				targets[k].Version = out.Version
				mu.Unlock()
			}
			return err
		}))
		next = -1
		results = append(results, runWrites("status change", func(ctx context.Context, _ int, _ int64) error {
			k, ok := claim()
			if !ok {
				return fmt.Errorf("ran out of created patients to activate")
			}
			return api.Do(ctx, "POST", "/api/v1/patients/"+targets[k].ID+"/status", map[string]any{"to": "active", "reason": "bench"}, nil)
		}))
	}

	if len(t.Docs) > 0 {
		o.Log("bench: import of %d documents", len(t.Docs))
		results = append(results, importRun(ctx, api, t.Docs))
	}
	if t.DB != nil {
		results = append(results, raw(ctx, t.DB, ids, o)...)
	}
	return results, nil
}

// importRun uploads the documents as one import and waits for it.
func importRun(ctx context.Context, api *Client, docs map[string][]byte) Result {
	rec := newRecorder()
	start := time.Now()
	var job struct {
		ID string `json:"id"`
	}
	err := api.Upload(ctx, "/api/v1/imports", docs, &job)
	for err == nil {
		var st struct {
			Status string `json:"status"`
		}
		if err = api.Do(ctx, "GET", "/api/v1/imports/"+job.ID, nil, &st); err != nil || st.Status != "running" {
			if err == nil && st.Status == "failed" {
				err = fmt.Errorf("import failed")
			}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	elapsed := time.Since(start)
	rec.record(elapsed, err)
	res := rec.result(fmt.Sprintf("import %d docs", len(docs)), "one job", elapsed)
	res.Requests = int64(len(docs))
	res.Throughput = float64(len(docs)) / elapsed.Seconds()
	return res
}

// raw sends the same reads and a create straight to SurrealDB.
func raw(ctx context.Context, db *store.DB, ids []patientRef, o Options) []Result {
	type row = map[string]any
	q := func(sql string, vars func(i int64) map[string]any) Op {
		return func(ctx context.Context, _ int, i int64) error {
			var v map[string]any
			if vars != nil {
				v = vars(i)
			}
			_, err := store.Query[[]row](ctx, db, sql, v)
			return err
		}
	}
	specs := []struct {
		name string
		op   Op
	}{
		{"raw: list (50, sorted)", q("SELECT * FROM patient ORDER BY last_name LIMIT 50 START $n", func(i int64) map[string]any {
			return map[string]any{"n": rand.IntN(100) * 50}
		})},
		{"raw: list status=active", q("SELECT * FROM patient WHERE status = 'active' LIMIT 50", nil)},
		{"raw: page + total", q("SELECT * FROM patient WHERE status = 'active' LIMIT 50; SELECT count() FROM patient WHERE status = 'active' GROUP ALL", nil)},
		{"raw: substring search", q("SELECT * FROM patient WHERE string::contains(string::lowercase(last_name), $q) LIMIT 50", func(i int64) map[string]any {
			return map[string]any{"q": []string{"smi", "gar", "will", "john"}[i%4]}
		})},
		{"raw: get", q("SELECT * FROM type::record('patient', $id)", func(i int64) map[string]any {
			return map[string]any{"id": ids[int(i)%len(ids)].ID}
		})},
	}
	var out []Result
	for _, s := range specs {
		o.Log("bench: %s", s.name)
		out = append(out, Closed(ctx, s.name, o.Workers, o.Duration, s.op))
	}
	o.Log("bench: raw: create")
	out = append(out, Closed(ctx, "raw: create", o.Workers, o.Duration, func(ctx context.Context, w int, i int64) error {
		return db.Exec(ctx, "CREATE patient CONTENT $p", map[string]any{"p": map[string]any{
			"mrn": fmt.Sprintf("RAW%d%06d", time.Now().UnixNano()%1e9, i), "first_name": "Raw", "last_name": "Create",
			"date_of_birth": "1980-01-02", "sex": "unknown", "status": "onboarding", "version": 1,
			"created_at": time.Now(), "updated_at": time.Now(),
		}})
	}))
	return out
}
