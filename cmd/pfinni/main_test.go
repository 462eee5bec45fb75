package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunBasics(t *testing.T) {
	t.Chdir(t.TempDir())
	cases := []struct {
		name    string
		args    []string
		out     string
		wantErr string
	}{
		{"help", nil, "usage: pfinni", ""},
		{"version", []string{"version"}, "pfinni ", ""},
		{"unknown", []string{"frobnicate"}, "", `unknown command "frobnicate"`},
		{"bad flag value", []string{"version", "--http-addr", "nope"}, "", "http_addr"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tc.args, &out, &errOut)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Contains(t, out.String(), tc.out)
		})
	}
}

func TestSplitConfigFlags(t *testing.T) {
	cfg, rest := splitConfigFlags([]string{"--http-addr", "x:1", "--patients", "5", "--data-dir=/d", "file.xml", "--help"})
	assert.Equal(t, []string{"--http-addr", "x:1", "--data-dir=/d", "--help"}, cfg)
	assert.Equal(t, []string{"--patients", "5", "file.xml"}, rest)
}

func TestBadEnvironmentNamesTheVariable(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("PFINNI_HTTP_ADRESS", "x")
	err := run(context.Background(), []string{"version"}, &bytes.Buffer{}, &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "PFINNI_HTTP_ADRESS")
}
