package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/app"
	"github.com/pfinni/pfinni/core/bench"
	"github.com/pfinni/pfinni/core/config"
	"github.com/pfinni/pfinni/core/patient"
)

// runBench starts a fresh server on the embedded default in a temporary
// data dir, seeds it, drives every user-facing path over HTTP (and the
// raw database beside it) and prints a table; --out writes JSON too.
func runBench(ctx context.Context, base *config.Config, args []string, out io.Writer) error {
	fs := pflag.NewFlagSet("pfinni bench", pflag.ContinueOnError)
	n := fs.Int("patients", 10000, "patients to seed")
	workers := fs.Int("workers", 50, "concurrent clients")
	dur := fs.Duration("duration", 8*time.Second, "time per path")
	rate := fs.Int("write-rate", 20, "writes per second alongside the read load")
	docs := fs.Int("docs", 100, "documents in the import row (0 skips it)")
	outPath := fs.String("out", "", "also write the report as JSON to this file")
	noRaw := fs.Bool("no-raw", false, "skip the raw SurrealDB rows")
	peerBin := fs.String("peer", "", "PocketBase binary (make bench-peer builds .cache/bin/base): also run the workload side by side against it")
	cpuProf := fs.String("cpu-profile", "", "write a CPU profile of the measured paths (server and load generator share the process) to this file")
	memProf := fs.String("mem-profile", "", "write an allocation profile to this file at the end (and FILE.base before the measured paths, for pprof -diff_base)")
	only := fs.String("only", "", "run only the read paths whose name matches this regular expression (no writes, import or raw rows)")
	peerOnly := fs.Bool("peer-only", false, "with --peer: run only the side-by-side paths")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var onlyRe *regexp.Regexp
	if *only != "" {
		var err error
		if onlyRe, err = regexp.Compile(*only); err != nil {
			return fmt.Errorf("bench: --only: %w", err)
		}
	}
	dir, err := os.MkdirTemp("", "pfinni-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	port, err := freePort()
	if err != nil {
		return err
	}
	pw := make([]byte, 12)
	_, _ = rand.Read(pw)
	cfg := *base
	cfg.DataDir = dir
	cfg.DBURL = ""
	cfg.HTTPAddr = "127.0.0.1:" + port
	cfg.BasePath = ""
	cfg.DemoPatients = 0
	cfg.AdminEmail = "bench@pfinni.local"
	cfg.AdminPassword = "Bench-" + hex.EncodeToString(pw)
	cfg.APIRateLimit = 1 << 30
	if cfg.LogLevel == "info" {
		cfg.LogLevel = "warn"
	}

	fmt.Fprintf(out, "starting a fresh server in %s ...\n", dir)
	a, err := app.Open(ctx, &cfg, app.Options{Out: io.Discard, Bootstrap: true})
	if err != nil {
		return err
	}
	defer a.Close(context.Background())
	if err := a.WaitPlugins(ctx); err != nil {
		return err
	}
	t0 := time.Now()
	// A deadline of its own: the store's 10 s default per query is too
	// short for 500-row inserts on a loaded machine.
	seedCtx, cancelSeed := context.WithTimeout(ctx, 15*time.Minute)
	err = patient.Seed(actor.System(seedCtx), a.Patients, *n, 1)
	cancelSeed()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "seeded %d patients in %.1fs\n", *n, time.Since(t0).Seconds())
	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = a.Serve(srvCtx) }()
	client := bench.NewClient("http://"+cfg.HTTPAddr, *workers)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err = client.Login(ctx, cfg.AdminEmail, cfg.AdminPassword); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("bench: login: %w", err)
	}
	// Sign-ins are throttled per client address (20 a minute), so login
	// is measured at a rate that stays under the throttle.
	loginRes := bench.Open(ctx, "login", 5, 2*time.Second, func(ctx context.Context, _ int, _ int64) error {
		c := bench.NewClient(client.Base, 1)
		return c.Login(ctx, cfg.AdminEmail, cfg.AdminPassword)
	})

	load0 := bench.LoadAverage()
	var pb *bench.PocketBase
	if *peerBin != "" {
		if pb, err = startPeer(ctx, client, *peerBin, *workers, out); err != nil {
			return err
		}
		defer pb.Close()
	}
	target := bench.Target{API: client, Docs: sampleDocs(*docs)}
	if !*noRaw {
		target.DB = a.DB
	}
	pids := map[string]int{"core": os.Getpid()}
	if a.Engine != nil {
		pids["database"] = a.Engine.PID()
	}
	if pb != nil {
		pids["pocketbase"] = pb.PID()
	}
	sampler := bench.Sample(pids)
	stopProf, err := startProfiles(*cpuProf, *memProf)
	if err != nil {
		sampler.Stop()
		return err
	}
	defer stopProf()
	opts := bench.Options{Workers: *workers, Duration: *dur, WriteRate: *rate, Only: onlyRe,
		Log: func(f string, args ...any) { fmt.Fprintf(out, f+"\n", args...) }}
	var results []bench.Result
	var peer []bench.Comparison
	if pb != nil {
		ids, err := bench.PatientIDs(ctx, client)
		if err != nil {
			sampler.Stop()
			return err
		}
		if peer, err = bench.Compare(ctx, client, ids, pb, opts); err != nil {
			sampler.Stop()
			return err
		}
	}
	if !*peerOnly {
		results, err = bench.Run(ctx, target, opts)
	}
	procs := sampler.Stop()
	stopProf()
	if err != nil {
		return err
	}
	rep := &bench.Report{At: time.Now().UTC(), Patients: *n, Workers: *workers, Duration: dur.String(),
		Results: append([]bench.Result{loginRes}, results...), Processes: procs, Peer: peer,
		Notes: map[string]any{"machine": bench.Machine(), "loadavg_start": load0, "loadavg_end": bench.LoadAverage()}}
	fmt.Fprintln(out)
	rep.WriteTable(out)
	if *outPath != "" {
		if err := rep.WriteJSON(*outPath); err != nil {
			return err
		}
		fmt.Fprintf(out, "report written to %s\n", *outPath)
	}
	return nil
}

// startPeer starts PocketBase and seeds it with the same patients as
// the pfinni server behind client.
func startPeer(ctx context.Context, client *bench.Client, bin string, workers int, out io.Writer) (*bench.PocketBase, error) {
	fmt.Fprintf(out, "starting PocketBase (%s) ...\n", bin)
	pb, err := bench.StartPocketBase(ctx, bin, workers)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	records, err := bench.FetchPatients(ctx, client)
	if err == nil {
		err = pb.Seed(ctx, records)
	}
	if err != nil {
		pb.Close()
		return nil, err
	}
	fmt.Fprintf(out, "seeded PocketBase with the same %d patients in %.1fs\n", len(records), time.Since(t0).Seconds())
	return pb, nil
}

// startProfiles starts a CPU profile (if cpu is set); the returned stop
// (safe to call twice) ends it and writes the allocation profile (if mem
// is set).
func startProfiles(cpu, mem string) (func(), error) {
	var f *os.File
	if cpu != "" {
		var err error
		if f, err = os.Create(cpu); err != nil {
			return nil, fmt.Errorf("bench: cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("bench: cpu profile: %w", err)
		}
	}
	if mem != "" { // the allocations before the measured paths (seeding): pprof -diff_base
		if m, err := os.Create(mem + ".base"); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(m, 0)
			_ = m.Close()
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			if f != nil {
				pprof.StopCPUProfile()
				_ = f.Close()
			}
			if mem != "" {
				if m, err := os.Create(mem); err == nil {
					_ = pprof.Lookup("allocs").WriteTo(m, 0)
					_ = m.Close()
				}
			}
		})
	}, nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port, nil
}

// sampleDocs takes up to n import samples from the shared test data or
// the repository's own.
func sampleDocs(n int) map[string][]byte {
	out := map[string][]byte{}
	if n <= 0 {
		return out
	}
	for _, root := range []string{"../shared/testdata", "testdata/import"} {
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(strings.ToLower(p), ".xml") || len(out) >= n {
				return nil
			}
			if b, err := os.ReadFile(p); err == nil {
				out[strings.ReplaceAll(strings.TrimPrefix(p, root+"/"), "/", "_")] = b
			}
			return nil
		})
		if len(out) > 0 {
			break
		}
	}
	return out
}
