// Command pfinni is the patient-management dashboard: `pfinni serve` runs
// the server (embedded database, demo data and an admin login on a fresh
// data dir); the other subcommands administer it from the shell.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	goplugin "github.com/hashicorp/go-plugin"
	"github.com/spf13/pflag"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/app"
	"github.com/pfinni/pfinni/core/config"
)

// command is one subcommand. run gets the opened app (nil when needsApp
// is false) and the arguments after the subcommand's own flags.
type command struct {
	name     string
	summary  string
	needsApp bool
	http     bool // build the HTTP server too
	run      func(ctx context.Context, a *app.App, args []string, out io.Writer) error
	// runConfig, when set, runs instead of run with the loaded config and
	// no app (commands that build their own, like bench).
	runConfig func(ctx context.Context, cfg *config.Config, args []string, out io.Writer) error
}

func commands() []command {
	return []command{
		{name: "serve", summary: "run the server (HTTP, database, plugins)", needsApp: true, http: true, run: runServe},
		{name: "user", summary: "manage users: create, list, set-role, disable", needsApp: true, run: func(ctx context.Context, a *app.App, args []string, out io.Writer) error {
			return runUser(ctx, a.Auth, args, out)
		}},
		{name: "audit", summary: "audit trail: verify the hash chain, head, rotate-key, list, export CSV", needsApp: true, run: func(ctx context.Context, a *app.App, args []string, out io.Writer) error {
			return runAudit(ctx, a.Audit, a.Config.AuditKeyPath(), args, out)
		}},
		{name: "seed", summary: "seed deterministic demo patients (--patients N --seed S)", needsApp: true, run: func(ctx context.Context, a *app.App, args []string, out io.Writer) error {
			return runSeed(ctx, a.Patients, args, out)
		}},
		{name: "bench", summary: "load and benchmark harness on a fresh temporary server", runConfig: runBench},
		{name: "import", summary: "import C-CDA / FHIR XML files, folders or .zip archives", needsApp: true, run: func(ctx context.Context, a *app.App, args []string, out io.Writer) error {
			if err := a.WaitPlugins(ctx); err != nil {
				return err
			}
			return runImport(ctx, a.Imports, args, out)
		}},
		{name: "jobs", summary: "background jobs: list, retry a dead job", needsApp: true, run: func(ctx context.Context, a *app.App, args []string, out io.Writer) error {
			return runJobs(ctx, a.JobsAdmin, a.DB, args, out)
		}},
		{name: "db", summary: "db serve --addr HOST:PORT --user U --password P: the embedded database as a server several pfinni serve share", runConfig: runDB},
		{name: "backup", summary: "write a consistent backup (--out FILE, else into backup_dir); backup list", runConfig: runBackup},
		{name: "restore", summary: "restore a backup into an empty database (FILE [--force])", runConfig: runRestore},
		{name: "healthcheck", summary: "exit 0 when this configuration's server answers /readyz with 200 (container health check)", runConfig: runHealthcheck},
		{name: "dev", summary: "development helpers: insurer-stub (an X12 270/271 stub insurer, --addr), email-stub (a Resend API stub, --addr)", runConfig: runDev},
		{name: "email", summary: "e-mail suppression list: suppressions, suppress ADDRESS, unsuppress ADDRESS", needsApp: true, run: func(ctx context.Context, a *app.App, args []string, out io.Writer) error {
			return runEmail(ctx, a.Email, args, out)
		}},
		{name: "version", summary: "print the version", run: func(_ context.Context, _ *app.App, _ []string, out io.Writer) error {
			_, err := fmt.Fprintf(out, "pfinni %s\n", app.Version)
			return err
		}},
	}
}

func usage(out io.Writer) {
	fmt.Fprintln(out, "usage: pfinni <command> [flags] [args]")
	fmt.Fprintln(out, "\ncommands:")
	cmds := commands()
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	for _, c := range cmds {
		fmt.Fprintf(out, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(out, "\nEvery command takes the configuration flags (pfinni serve --help lists them);")
	fmt.Fprintln(out, "each flag also reads PFINNI_<NAME> from the environment and <name> from pfinni.yaml.")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Backstop: no process plugin outlives the core, even on an early exit.
	defer goplugin.CleanupClients()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "pfinni:", err)
		goplugin.CleanupClients()
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out, errOut io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(out)
		return nil
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == args[0] {
			cmd = &c
			break
		}
	}
	if cmd == nil {
		usage(errOut)
		return fmt.Errorf("unknown command %q", args[0])
	}
	fs := pflag.NewFlagSet("pfinni "+cmd.name, pflag.ContinueOnError)
	fs.SetOutput(errOut)
	config.RegisterFlags(fs)
	// Subcommand flags are parsed by the subcommand itself.
	fs.ParseErrorsWhitelist.UnknownFlags = true
	cfgArgs, rest := splitConfigFlags(args[1:])
	if err := fs.Parse(cfgArgs); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return err
	}
	cfg, err := config.Load(fs, os.Environ())
	if err != nil {
		return err
	}
	if cmd.runConfig != nil {
		return cmd.runConfig(ctx, cfg, rest, out)
	}
	if !cmd.needsApp {
		return cmd.run(ctx, nil, rest, out)
	}
	a, err := app.Open(ctx, cfg, app.Options{Out: out, NoHTTP: !cmd.http, Bootstrap: cmd.name == "serve"})
	if err != nil {
		return err
	}
	defer a.Close(context.Background())
	return cmd.run(actor.System(ctx), a, rest, out)
}

// splitConfigFlags separates the configuration flags (--http-addr x,
// --http-addr=x, --config f, --help) from the subcommand's own arguments.
func splitConfigFlags(args []string) (cfgArgs, rest []string) {
	known := map[string]bool{"config": true}
	for _, k := range config.Keys() {
		known[config.FlagName(k)] = true
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--help" || a == "-h" {
			cfgArgs = append(cfgArgs, a)
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if strings.HasPrefix(a, "--") && known[name] {
			cfgArgs = append(cfgArgs, a)
			if !hasValue && i+1 < len(args) {
				cfgArgs = append(cfgArgs, args[i+1])
				i++
			}
			continue
		}
		rest = append(rest, a)
	}
	return cfgArgs, rest
}

func runServe(ctx context.Context, a *app.App, _ []string, out io.Writer) error {
	base := a.Config.BasePath
	fmt.Fprintf(out, "pfinni %s listening on http://%s%s/\n", app.Version, a.Config.HTTPAddr, base)
	return a.Serve(ctx)
}
