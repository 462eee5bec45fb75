package auth

import (
	"context"
	"testing"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// BenchmarkLogin signs in through the whole service path with the real
// argon2id cost: throttle counter, lockout check, password verification,
// session insert, last_login_at update and the audit event.
func BenchmarkLogin(b *testing.B) {
	db := storetest.New(b)
	svc := New(db, &events{}, Options{LoginsPerIPPerMinute: 1 << 30})
	sys := actor.System(context.Background())
	if _, err := svc.CreateUser(sys, NewUser{Email: "bench@x.example", Name: "Bench", Role: actor.RoleStaff, Password: testPassword}); err != nil {
		b.Fatal(err)
	}
	ctx := client("192.0.2.1")
	for b.Loop() {
		if _, err := svc.Login(ctx, "bench@x.example", testPassword); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoginWrongPassword is the failure path (same cost by design).
func BenchmarkLoginWrongPassword(b *testing.B) {
	db := storetest.New(b)
	svc := New(db, &events{}, Options{LoginsPerIPPerMinute: 1 << 30, MaxFailures: 1 << 30})
	ctx := client("192.0.2.1")
	for b.Loop() {
		if _, err := svc.Login(ctx, "ghost@x.example", "wrong password!"); err == nil {
			b.Fatal("signed in with a wrong password")
		}
	}
}

// BenchmarkAuthenticate is the per-request cost of a signed-in call:
// mostly answered from the in-memory cache.
func BenchmarkAuthenticate(b *testing.B) {
	db := storetest.New(b)
	svc := New(db, &events{}, Options{Hash: fastHash})
	sys := actor.System(context.Background())
	if _, err := svc.CreateUser(sys, NewUser{Email: "bench@x.example", Name: "Bench", Role: actor.RoleStaff, Password: testPassword}); err != nil {
		b.Fatal(err)
	}
	sess, err := svc.Login(client("192.0.2.1"), "bench@x.example", testPassword)
	if err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := svc.Authenticate(context.Background(), sess.Token); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
