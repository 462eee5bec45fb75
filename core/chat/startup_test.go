package chat_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/chat"
)

// A question asked while the server starts — the chat plugins read from
// the manifest but still loading — waits for them and is answered by the
// plugin, not with "that part of the assistant is not responding" (issue
// 11).
func TestQuestionWhilePluginsLoadIsAnswered(t *testing.T) {
	if testing.Short() {
		t.Skip("builds WASM plugins")
	}
	base := newEnv(t, 30)
	// Cold compiles under -race on a busy 2-core machine take minutes:
	// the bound under test is the wait, not the machine's speed.
	reg := chatRegistry(t, base, 10*time.Minute)
	require.NoError(t, reg.Open(context.Background()))
	w, err := chat.New(context.Background(), chat.Deps{DB: base.db, Patients: base.patients, Intents: reg, Knowledge: reg, Now: fixedNow, Location: time.UTC, Audit: base.audit}, chat.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.Close() })

	type answer struct {
		r   chat.Reply
		err error
	}
	got := make(chan answer, 1)
	go func() {
		r, err := w.Ask(as(actor.RoleStaff), chat.Request{Message: "how many churned this month?"})
		got <- answer{r, err}
	}()
	reg.LoadAll(context.Background())
	a := <-got
	require.NoError(t, a.err)
	assert.Equal(t, "patients.count", a.r.Intent, a.r.Reply)
}
