package httpauth_test

import (
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/httpauth"
)

// M3: where to go after signing in must never leave the site. Browsers
// drop tab, CR and LF from URLs and read "\" as "/", so each of these
// would otherwise become //evil.example.
func TestSafeNext(t *testing.T) {
	tests := []struct {
		next string
		ok   bool
	}{
		{"/", true},
		{"/patients", true},
		{"/patients/", true},
		{"/patients?status=active&sort=-created_at", true},
		{"/patients/p_1/edit#notes", true},
		{"/a//b", true},
		{"/search?q=%2F%2Fnot-a-host", true},

		{"", false},
		{"patients", false},
		{"//evil.example", false},
		{"//evil.example/", false},
		{"///evil.example", false},
		{"/\t/evil.example", false},
		{"/\n/evil.example", false},
		{"/\r/evil.example", false},
		{"/\r\n/evil.example", false},
		{"\t//evil.example", false},
		{"/\x00/evil.example", false},
		{"/\x7f/evil.example", false},
		{`/\evil.example`, false},
		{`\/evil.example`, false},
		{`/\/evil.example`, false},
		{"/%09/evil.example", false},
		{"/%0a/evil.example", false},
		{"/%0D%0A/evil.example", false},
		{"/%5C/evil.example", false},
		{"/%5c%5cevil.example", false},
		{"/%2F/evil.example", false},
		{"/%2f%2fevil.example", false},
		{"/%7f/evil.example", false},
		{"https://evil.example/", false},
		{"http:evil.example", false},
		{"javascript:alert(1)", false},
		{"//user@evil.example", false},
		{"/../evil", false},
		{"/patients/../../evil", false},
		{"/%2e%2e/evil", false},
		{"/./patients", false},
		{"/%zz", false},
	}
	for _, tt := range tests {
		t.Run(tt.next, func(t *testing.T) {
			assert.Equal(t, tt.ok, httpauth.SafeNext(tt.next))
		})
	}
}

// Low 13: a browser's sign-in sent from another site is refused (it
// would sign the victim into the attacker's account); scripts, which
// send no Origin, are not.
func TestCheckSignInOrigin(t *testing.T) {
	tests := []struct {
		name      string
		publicURL string
		host      string
		hdr       []string
		ok        bool
	}{
		{"script: no Origin, no Sec-Fetch", "", "pfinni.example", nil, true},
		{"Node fetch: Sec-Fetch-Mode only", "", "pfinni.example", []string{"Sec-Fetch-Mode", "cors"}, true},
		{"same origin", "", "pfinni.example", []string{"Origin", "https://pfinni.example"}, true},
		{"same host, proxy dropped the port", "", "pfinni.example", []string{"Origin", "https://pfinni.example:8443"}, true},
		{"same host with port", "", "127.0.0.1:8080", []string{"Origin", "http://127.0.0.1:8080"}, true},
		{"IPv6 host", "", "[::1]:8080", []string{"Origin", "http://[::1]:8080"}, true},
		{"host names ignore case", "", "PFINNI.example", []string{"Origin", "https://pfinni.EXAMPLE"}, true},
		{"Sec-Fetch-Site same-origin", "", "pfinni.example", []string{"Sec-Fetch-Site", "same-origin", "Origin", "https://pfinni.example"}, true},
		{"Sec-Fetch-Site none (typed by the user)", "", "pfinni.example", []string{"Sec-Fetch-Site", "none"}, true},
		{"public URL matches", "https://pfinni.example/pfinni", "internal:8080", []string{"Origin", "https://pfinni.example"}, true},

		{"another site", "", "pfinni.example", []string{"Origin", "https://evil.example"}, false},
		{"a look-alike host", "", "pfinni.example", []string{"Origin", "https://pfinni.example.evil.example"}, false},
		{"null origin", "", "pfinni.example", []string{"Origin", "null"}, false},
		{"not http", "", "pfinni.example", []string{"Origin", "file://pfinni.example"}, false},
		{"garbage", "", "pfinni.example", []string{"Origin", "::"}, false},
		{"Sec-Fetch-Site cross-site", "", "pfinni.example", []string{"Sec-Fetch-Site", "cross-site"}, false},
		{"Sec-Fetch-Site same-site (a sibling subdomain)", "", "pfinni.example", []string{"Sec-Fetch-Site", "same-site", "Origin", "https://pfinni.example"}, false},
		{"Sec-Fetch-Site decides over a matching Origin", "", "pfinni.example", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://pfinni.example"}, false},
		{"public URL: another scheme", "https://pfinni.example", "pfinni.example", []string{"Origin", "http://pfinni.example"}, false},
		{"public URL: the request's host is not enough", "https://pfinni.example", "evil.example", []string{"Origin", "https://evil.example"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := fiber.New()
			var got error
			app.Post("/login", func(c *fiber.Ctx) error {
				got = httpauth.CheckSignInOrigin(c, tt.publicURL)
				return nil
			})
			req := httptest.NewRequest("POST", "/login", nil)
			req.Host = tt.host
			for i := 0; i+1 < len(tt.hdr); i += 2 {
				req.Header.Set(tt.hdr[i], tt.hdr[i+1])
			}
			_, err := app.Test(req, -1)
			require.NoError(t, err)
			if tt.ok {
				assert.NoError(t, got)
			} else {
				assert.ErrorIs(t, got, httpauth.ErrCrossSite)
			}
		})
	}
}

// Low 1: browsers are told apart from scripts by the headers browsers put
// on every request; Node's fetch sends Sec-Fetch-Mode, so that one does
// not count.
func TestFromBrowser(t *testing.T) {
	tests := []struct {
		name string
		hdr  []string
		want bool
	}{
		{"python urllib", []string{"Accept", "application/json"}, false},
		{"node fetch", []string{"Sec-Fetch-Mode", "cors"}, false},
		{"browser fetch", []string{"Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "cors"}, true},
		{"older browser POST", []string{"Origin", "https://pfinni.example"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := fiber.New()
			var got bool
			app.Post("/", func(c *fiber.Ctx) error { got = httpauth.FromBrowser(c); return nil })
			req := httptest.NewRequest("POST", "/", nil)
			for i := 0; i+1 < len(tt.hdr); i += 2 {
				req.Header.Set(tt.hdr[i], tt.hdr[i+1])
			}
			_, err := app.Test(req, -1)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
