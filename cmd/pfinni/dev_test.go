package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/plugins/insurance-x12/x12"
)

// `pfinni dev insurer-stub` serves the stub insurer: a 270 for an ACT…
// member id gets an active 271, a request without credentials is refused
// when the stub asks for them, and the command stops with its context.
func TestDevInsurerStub(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"dev", "insurer-stub", "--addr", "127.0.0.1:0", "--user", "practice", "--password", "s3cret"}, pw, io.Discard)
		_ = pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	url := regexp.MustCompile(`http://\S+/x12`).FindString(line)
	require.NotEmpty(t, url, line)

	x270, err := x12.Build270(x12.Inquiry{SenderID: "PFINNI", ReceiverID: "STUB", ControlNumber: 7, At: time.Now(),
		PayerName: "Acme", PayerID: "ACME", LastName: "Doe", FirstName: "Jane", MemberID: "ACT1"})
	require.NoError(t, err)
	post := func(auth bool) (*http.Response, string) {
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(x270))
		require.NoError(t, err)
		if auth {
			req.SetBasicAuth("practice", "s3cret")
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	res, _ := post(false)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	res, body := post(true)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	r, err := x12.Parse271([]byte(body))
	require.NoError(t, err)
	assert.Equal(t, "active", r.Status("30"))

	cancel()
	require.NoError(t, <-done)

	err = run(context.Background(), []string{"dev", "nothing"}, io.Discard, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "insurer-stub")
}
