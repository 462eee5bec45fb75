package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/auth"
)

const userUsage = `usage:
  pfinni user create --email E --name N --role admin|staff|provider|auditor [--provider ID] [--password P]
  pfinni user list
  pfinni user set-role EMAIL admin|staff|provider|auditor [--provider ID]
  pfinni user set-provider EMAIL [ID]
  pfinni user disable EMAIL
  pfinni user enable EMAIL
  pfinni user reset-password EMAIL [--password P]

Without --password a strong password is generated and printed once.
--provider links the user to a provider record (its id): required for the
provider role (the panel they see), optional for staff and admins (their
"my panel"); set-provider without ID removes the link.`

// runUser administers users from the shell: `pfinni user create|list|
// set-role|set-provider|disable|enable|reset-password`. It acts as the system (every
// change is audited as such) unless ctx already carries an actor.
func runUser(ctx context.Context, svc *auth.Service, args []string, out io.Writer) error {
	if actor.From(ctx).Anonymous() {
		ctx = actor.System(ctx)
	}
	if len(args) == 0 {
		return fmt.Errorf("user: missing subcommand\n%s", userUsage)
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "create":
		return userCreate(ctx, svc, rest, out)
	case "list":
		if len(rest) > 0 {
			return fmt.Errorf("user list: takes no arguments")
		}
		return userList(ctx, svc, out)
	case "set-role":
		return userSetRole(ctx, svc, rest, out)
	case "set-provider":
		if len(rest) < 1 || len(rest) > 2 {
			return fmt.Errorf("user set-provider: want EMAIL [PROVIDER_ID]\n%s", userUsage)
		}
		link := ""
		if len(rest) == 2 {
			link = rest[1]
		}
		u, err := userPatch(ctx, svc, rest[0], auth.UserPatch{ProviderID: &link})
		if err != nil {
			return fmt.Errorf("user set-provider: %w", err)
		}
		_, err = fmt.Fprintf(out, "%s is linked to provider %s\n", u.Email, cmp.Or(u.ProviderID, "(none)"))
		return err
	case "disable", "enable":
		if len(rest) != 1 {
			return fmt.Errorf("user %s: want EMAIL\n%s", sub, userUsage)
		}
		disabled := sub == "disable"
		u, err := userPatch(ctx, svc, rest[0], auth.UserPatch{Disabled: &disabled})
		if err != nil {
			return fmt.Errorf("user %s: %w", sub, err)
		}
		state := "enabled"
		if u.Disabled {
			state = "disabled (signed out everywhere)"
		}
		_, err = fmt.Fprintf(out, "%s is %s\n", u.Email, state)
		return err
	case "reset-password":
		return userResetPassword(ctx, svc, rest, out)
	case "help", "-h", "--help":
		_, err := fmt.Fprintln(out, userUsage)
		return err
	default:
		return fmt.Errorf("user: unknown subcommand %q\n%s", sub, userUsage)
	}
}

func userFlags(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("pfinni user "+name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func userCreate(ctx context.Context, svc *auth.Service, args []string, out io.Writer) error {
	fs := userFlags("create")
	email := fs.String("email", "", "email address (sign-in name)")
	name := fs.String("name", "", "full name")
	role := fs.String("role", "", "admin, staff, provider or auditor")
	provider := fs.String("provider", "", "id of the provider record the user is linked to")
	password := fs.String("password", "", "password (generated when empty)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("user create: %w\n%s", err, userUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("user create: unexpected argument %q\n%s", fs.Arg(0), userUsage)
	}
	pw, generated, err := passwordOrGenerated(*password)
	if err != nil {
		return fmt.Errorf("user create: %w", err)
	}
	u, err := svc.CreateUser(ctx, auth.NewUser{Email: *email, Name: *name, Role: actor.Role(strings.ToLower(*role)), ProviderID: *provider, Password: pw})
	if err != nil {
		return fmt.Errorf("user create: %w", err)
	}
	if _, err := fmt.Fprintf(out, "created %s %s (id %s)\n", u.Role, u.Email, u.ID); err != nil {
		return err
	}
	return printGenerated(out, generated, pw)
}

// userSetRole changes a user's role, and with --provider its provider
// link in the same change (a provider needs one).
func userSetRole(ctx context.Context, svc *auth.Service, args []string, out io.Writer) error {
	fs := userFlags("set-role")
	provider := fs.String("provider", "", "id of the provider record the user is linked to")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("user set-role: %w\n%s", err, userUsage)
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("user set-role: want EMAIL ROLE\n%s", userUsage)
	}
	role := actor.Role(strings.ToLower(fs.Arg(1)))
	patch := auth.UserPatch{Role: &role}
	if fs.Changed("provider") {
		patch.ProviderID = provider
	}
	u, err := userPatch(ctx, svc, fs.Arg(0), patch)
	if err != nil {
		return fmt.Errorf("user set-role: %w", err)
	}
	_, err = fmt.Fprintf(out, "%s is now %s\n", u.Email, u.Role)
	return err
}

func userResetPassword(ctx context.Context, svc *auth.Service, args []string, out io.Writer) error {
	fs := userFlags("reset-password")
	password := fs.String("password", "", "new password (generated when empty)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("user reset-password: %w\n%s", err, userUsage)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("user reset-password: want EMAIL\n%s", userUsage)
	}
	pw, generated, err := passwordOrGenerated(*password)
	if err != nil {
		return fmt.Errorf("user reset-password: %w", err)
	}
	u, err := userPatch(ctx, svc, fs.Arg(0), auth.UserPatch{Password: &pw})
	if err != nil {
		return fmt.Errorf("user reset-password: %w", err)
	}
	if _, err := fmt.Fprintf(out, "password of %s reset; other sessions signed out, lockout cleared\n", u.Email); err != nil {
		return err
	}
	return printGenerated(out, generated, pw)
}

func passwordOrGenerated(given string) (pw string, generated bool, err error) {
	if given != "" {
		return given, false, nil
	}
	pw, err = auth.GeneratePassword()
	return pw, true, err
}

func printGenerated(out io.Writer, generated bool, pw string) error {
	if !generated {
		return nil
	}
	_, err := fmt.Fprintf(out, "password: %s\n(shown once; it is stored only as a hash)\n", pw)
	return err
}

// userPatch applies patch to the user with email.
func userPatch(ctx context.Context, svc *auth.Service, email string, patch auth.UserPatch) (auth.User, error) {
	u, err := svc.UserByEmail(ctx, email)
	if err != nil {
		return auth.User{}, err
	}
	return svc.UpdateUser(ctx, u.ID, patch)
}

func userList(ctx context.Context, svc *auth.Service, out io.Writer) error {
	users, err := svc.ListUsers(ctx)
	if err != nil {
		return fmt.Errorf("user list: %w", err)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tROLE\tSTATUS\tLAST SIGN-IN\tID\tPROVIDER")
	for _, u := range users {
		status := "active"
		if u.Disabled {
			status = "disabled"
		}
		last := "never"
		if u.LastLoginAt != nil {
			last = u.LastLoginAt.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Email, u.Name, u.Role, status, last, u.ID, cmp.Or(u.ProviderID, "-"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("user list: %w", err)
	}
	_, err = fmt.Fprintf(out, "%d users\n", len(users))
	return err
}
