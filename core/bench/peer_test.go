package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pocketBaseBin is the peer binary `make bench-peer` builds (or
// PFINNI_POCKETBASE); tests that need it skip when it is absent, since
// building it needs the module proxy.
func pocketBaseBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("PFINNI_POCKETBASE")
	if bin == "" {
		bin = filepath.Join("..", "..", ".cache", "bin", "base")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("PocketBase binary %s absent (make pocketbase builds it): %v", bin, err)
	}
	return bin
}

// TestPocketBasePeerServesTheWorkload: the peer starts, takes the same
// records through its batch API and answers every path of the
// comparison — for its regular user only (its API rules run).
func TestPocketBasePeerServesTheWorkload(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pb, err := StartPocketBase(ctx, pocketBaseBin(t), 4)
	require.NoError(t, err)
	defer pb.Close()
	assert.Positive(t, pb.PID())

	var records []map[string]any
	for i := range 30 {
		status := "active"
		if i%3 == 0 {
			status = "churned"
		}
		records = append(records, map[string]any{
			"id": fmt.Sprintf("p_%d", i), "mrn": fmt.Sprintf("MRN%03d", i), "first_name": []string{"John", "Mary"}[i%2],
			"last_name": fmt.Sprintf("Smith%02d", i), "status": status, "version": 1, "tags": []string{},
			"address": map[string]any{"city": "Boston"}, "created_at": "2026-01-02T03:04:05Z",
		})
	}
	require.NoError(t, pb.Seed(ctx, records))
	require.Len(t, pb.ids, 30)

	type list struct {
		TotalItems int `json:"totalItems"`
		Items      []struct {
			ID       string `json:"id"`
			LastName string `json:"last_name"`
		} `json:"items"`
	}
	const coll = "/api/collections/patients/records"
	var all list
	require.NoError(t, pb.User.Do(ctx, "GET", coll+"?perPage=5&sort=last_name,first_name", nil, &all))
	assert.Equal(t, 30, all.TotalItems)
	require.Len(t, all.Items, 5)
	assert.Equal(t, "Smith00", all.Items[0].LastName)

	var churned list
	require.NoError(t, pb.User.Do(ctx, "GET", coll+"?perPage=50&filter="+url.QueryEscape("status='churned'"), nil, &churned))
	assert.Equal(t, 10, churned.TotalItems)

	var found list
	require.NoError(t, pb.User.Do(ctx, "GET", coll+"?perPage=50&filter="+url.QueryEscape(peerSearchFilter("mary smith1")), nil, &found))
	assert.Equal(t, 5, found.TotalItems, "Mary Smith11, 13, 15, 17, 19")

	require.NoError(t, pb.User.Do(ctx, "GET", coll+"/"+pb.ids[0], nil, nil))
	require.NoError(t, pb.User.Do(ctx, "POST", coll, createBody("PBT", 1), nil))

	anon := NewClient(pb.User.Base, 1)
	var none list
	require.NoError(t, anon.Do(ctx, "GET", coll, nil, &none))
	assert.Zero(t, none.TotalItems, "the list rule keeps records from a caller who is not signed in")
	assert.Error(t, anon.Do(ctx, "POST", coll, createBody("PBT", 2), nil))
}

func TestPeerSearchFilterAndRecord(t *testing.T) {
	assert.Equal(t, "(first_name~'Mraia'||last_name~'Mraia')&&(first_name~'Garcai'||last_name~'Garcai')", peerSearchFilter("Mraia Garcai"))
	assert.Equal(t, "(first_name~'OBrien'||last_name~'OBrien')", peerSearchFilter("O'Brien"), "quotes cannot break out of the filter")
	rec := peerRecord(map[string]any{"id": "p_1", "mrn": "M1", "merged_into": "p_2", "version": 3})
	assert.Equal(t, map[string]any{"mrn": "M1", "version": 3}, rec, "PocketBase assigns ids; fields outside the collection are dropped")
}

func TestPeerRefusesWhatItCannotRun(t *testing.T) {
	ctx := context.Background()
	_, err := StartPocketBase(ctx, filepath.Join(t.TempDir(), "no-such-base"), 1)
	assert.ErrorContains(t, err, "make bench-peer", "a missing binary names how to build it")
	_, err = Compare(ctx, NewClient("http://127.0.0.1:1", 1), nil, &PocketBase{}, Options{})
	assert.ErrorContains(t, err, "seed both first")
}

// The import row uploads documents as multipart parts named files and
// follows the job until it is no longer running.
func TestImportRunUploadsAndFollowsTheJob(t *testing.T) {
	var (
		mu    sync.Mutex
		got   []string
		polls int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == "POST" && r.URL.Path == "/api/v1/imports":
			require.NoError(t, r.ParseMultipartForm(1<<20))
			for _, fh := range r.MultipartForm.File["files"] {
				got = append(got, fh.Filename)
			}
			_, _ = w.Write([]byte(`{"id":"imp_1"}`))
		case r.URL.Path == "/api/v1/imports/imp_1":
			polls++
			status := "running"
			if polls > 1 {
				status = "done"
			}
			_, _ = w.Write([]byte(`{"status":"` + status + `"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	res := importRun(context.Background(), NewClient(srv.URL, 1), map[string][]byte{"a.xml": []byte("<a/>"), "b.xml": []byte("<b/>")})
	mu.Lock()
	defer mu.Unlock()
	assert.ElementsMatch(t, []string{"a.xml", "b.xml"}, got)
	assert.Equal(t, int64(2), res.Requests)
	assert.Zero(t, res.Errors, res.FirstError)
	assert.Equal(t, "import 2 docs", res.Name)
	assert.Equal(t, 2, polls)
}
