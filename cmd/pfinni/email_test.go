package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/email"
	"github.com/pfinni/pfinni/core/email/emailstub"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// `pfinni dev email-stub` speaks Resend's POST /emails (through the real
// adapter), records the message, answers an injected 429, and stops with
// its context.
func TestDevEmailStub(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"dev", "email-stub", "--addr", "127.0.0.1:0"}, pw, io.Discard)
		_ = pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	base := regexp.MustCompile(`http://\S+/`).FindString(line)
	require.NotEmpty(t, base, line)

	r, err := email.NewResend("re_dev", base, "pfinni <p@practice.example>")
	require.NoError(t, err)
	res, err := http.Post(base+"_stub/fail", "application/json", strings.NewReader(`{"status":429,"count":1,"retry_after":7}`))
	require.NoError(t, err)
	_ = res.Body.Close()
	msg := email.Message{To: "a@practice.example", Subject: "hello", Text: "body"}
	_, err = r.Send(ctx, msg, "k/1")
	var rl *email.RateLimitedError
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, int64(7), int64(rl.RetryAfter.Seconds()))
	id, err := r.Send(ctx, msg, "k/1")
	require.NoError(t, err)
	again, err := r.Send(ctx, msg, "k/1")
	require.NoError(t, err)
	assert.Equal(t, id, again, "the same idempotency key is the same message")
	_, err = r.Send(ctx, email.Message{To: "a@practice.example", Subject: "other", Text: "body"}, "k/1")
	assert.ErrorIs(t, err, email.ErrRejected, "the same key with another body is refused")

	res, err = http.Get(base + "_stub/messages")
	require.NoError(t, err)
	var got struct{ Data []emailstub.Message }
	require.NoError(t, json.NewDecoder(res.Body).Decode(&got))
	_ = res.Body.Close()
	require.Len(t, got.Data, 1)
	assert.Equal(t, "hello", got.Data[0].Subject)

	cancel()
	require.NoError(t, <-done)
}

// `pfinni email suppress|suppressions|unsuppress` manage the list.
func TestEmailCommands(t *testing.T) {
	db := storetest.New(t)
	aud := &userAudit{}
	au := auth.New(db, aud, auth.Options{Hash: auth.HashParams{Memory: 256, Time: 1, Threads: 1}})
	svc := email.New(db, jobs.New(db, jobs.Options{}), nil, au, aud, email.Options{})
	ctx := context.Background()
	runE := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := runEmail(ctx, svc, args, &out)
		return out.String(), err
	}
	_, err := runE("suppress", "Gone@Practice.example", "--reason", "complained")
	require.NoError(t, err)
	out, err := runE("suppressions")
	require.NoError(t, err)
	assert.Contains(t, out, "gone@practice.example\tcomplained")
	assert.Contains(t, out, "1 suppressed")
	_, err = runE("suppress", "x@practice.example", "--reason", "nope")
	assert.Error(t, err)
	_, err = runE("unsuppress", "gone@practice.example")
	require.NoError(t, err)
	out, err = runE("suppressions")
	require.NoError(t, err)
	assert.Contains(t, out, "0 suppressed")
	for _, bad := range [][]string{nil, {"suppress"}, {"unsuppress"}, {"what"}} {
		_, err := runE(bad...)
		assert.Error(t, err, bad)
	}
}
