package importer_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/internal/testkit/importertest"
)

var update = flag.Bool("update", false, "rewrite testdata/samples.txt")

func TestMain(m *testing.M) {
	if err := importertest.Build(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(storetest.Main(m))
}

func staff() context.Context {
	return actor.With(context.Background(), actor.Actor{UserID: "user_staff", Role: actor.RoleStaff, RequestID: "req-staff"})
}

func auditor() context.Context {
	return actor.With(context.Background(), actor.Actor{UserID: "user_aud", Role: actor.RoleAuditor, RequestID: "req-aud"})
}
