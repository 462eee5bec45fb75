package importer_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/internal/testkit/importertest"
	"github.com/pfinni/pfinni/sdk"
)

// benchDocs returns n documents: the importable samples repeated, each
// copy with fresh identifiers (the MRN rewritten), so every document
// creates a patient.
func benchDocs(tb testing.TB, n int) []importer.Input {
	dir := importertest.SamplesDir()
	if dir == "" {
		tb.Skip("../shared/testdata not present")
	}
	f, err := os.Open("../../testdata/import/outcomes.txt")
	require.NoError(tb, err)
	defer f.Close()
	type sample struct {
		doc []byte
		mrn string
	}
	var samples []sample
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 4 || cols[1] != "parsed" || !strings.HasPrefix(cols[3], "mrn=") {
			continue
		}
		mrn := strings.TrimPrefix(strings.Fields(cols[3])[0], "mrn=")
		doc, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(cols[0])))
		require.NoError(tb, err)
		samples = append(samples, sample{doc, mrn})
	}
	require.NotEmpty(tb, samples)
	ins := make([]importer.Input, n)
	for i := range ins {
		s := samples[i%len(samples)]
		fresh := fmt.Sprintf("B%d-%s", i, s.mrn)
		doc := bytes.ReplaceAll(s.doc, []byte(`"`+s.mrn+`"`), []byte(`"`+fresh+`"`))
		ins[i] = importer.Input{Name: fmt.Sprintf("bench/%04d.xml", i), Data: doc}
	}
	return ins
}

// BenchmarkImport1000 imports 1,000 documents into an empty database
// through the real importer plugins, patient service and audit log, and
// prints documents per second and peak memory of this process (the
// database engine runs in its own process).
//
//	go test ./core/importer -run '^$' -bench Import1000 -benchtime 1x
func BenchmarkImport1000(b *testing.B) {
	for _, mode := range []struct {
		name string
		imp  sdk.Importer
	}{{"wasm", nil}, {"native", importertest.Native{}}} {
		b.Run(mode.name, func(b *testing.B) { benchImport(b, mode.imp) })
	}
}

func benchImport(b *testing.B, imp sdk.Importer) {
	const n = 1000
	ins := benchDocs(b, n)
	total := 0
	for _, in := range ins {
		total += len(in.Data)
	}
	for range b.N {
		b.StopTimer()
		db := storetest.New(b)
		log := audit.New(db, audit.Options{})
		env := importertest.NewWith(b, db, log, imp, importer.Options{})
		runtime.GC()
		var peak atomic.Uint64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > peak.Load() {
					peak.Store(ms.HeapAlloc)
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		b.StartTimer()
		start := time.Now()
		var first time.Duration
		job, err := env.Imports.Run(staff(), ins, func(p importer.Progress, _ importer.File) {
			if first == 0 {
				first = time.Since(start)
			}
		})
		elapsed := time.Since(start)
		b.StopTimer()
		close(stop)
		wg.Wait()
		require.NoError(b, err)
		require.Equal(b, n, job.Progress.Done)
		require.Greater(b, job.Counts.Created, n*95/100, "%+v", job.Counts)
		rate := float64(n) / elapsed.Seconds()
		b.ReportMetric(rate, "docs/s")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
		fmt.Printf("%s: import of %d documents (%.0f MB): %.1f s (storing job and documents %.1f s), %.0f docs/s, peak Go heap %.0f MB, process peak RSS %s\n",
			b.Name(), n, float64(total)/(1<<20), elapsed.Seconds(), first.Seconds(), rate, float64(peak.Load())/(1<<20), vmHWM())
		_ = log.Close(context.Background())
		b.StartTimer()
	}
}

// vmHWM is the process's peak resident set size (Linux), or "n/a".
func vmHWM() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "n/a"
}
