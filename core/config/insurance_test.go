package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInsuranceEndpoint: the clearinghouse endpoint is read from the
// environment and refused when it is not an http(s) URL or carries
// credentials in it (they belong in insurance_user/_password, which are
// never part of a URL that could be logged).
func TestInsuranceEndpoint(t *testing.T) {
	chdir(t)
	c, err := Load(nil, []string{"PFINNI_INSURANCE_URL=https://clearinghouse.example/x12", "PFINNI_INSURANCE_USER=practice", "PFINNI_INSURANCE_PASSWORD=s3cret"})
	require.NoError(t, err)
	assert.Equal(t, "https://clearinghouse.example/x12", c.InsuranceURL)
	assert.Equal(t, "practice", c.InsuranceUser)
	assert.Equal(t, "s3cret", c.InsurancePassword)

	for _, bad := range []string{"ftp://clearinghouse.example/x12", "https://user:pw@clearinghouse.example/x12", "clearinghouse.example"} {
		_, err := Load(nil, []string{"PFINNI_INSURANCE_URL=" + bad})
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "insurance_url")
		assert.NotContains(t, err.Error(), "pw@", "the value is not echoed")
	}

	c, err = Load(nil, nil)
	require.NoError(t, err)
	assert.Empty(t, c.InsuranceURL, "the manifest's stub insurer by default")
}
