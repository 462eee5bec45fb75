package httpauth

import (
	"net"
	"net/url"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/fault"
)

// ErrCrossSite: a browser sent a sign-in from another site (login CSRF:
// it would sign the victim into the attacker's account).
var ErrCrossSite = fault.New(fault.ErrForbidden, "a sign-in sent from another site is refused; open pfinni's own sign-in page")

// CheckSignInOrigin refuses a sign-in POST that a browser sent from
// another site. Browsers say where a request comes from: Sec-Fetch-Site
// (which must be same-origin, or none for one the user started) decides
// when present, else Origin, which must be publicURL's origin when set,
// else name the host the request was sent to. A request with neither
// header (scripts, curl, the CLI) is not from a browser and is let
// through; it carries no victim's cookies anyway.
func CheckSignInOrigin(c *fiber.Ctx, publicURL string) error {
	if site := strings.ToLower(strings.TrimSpace(c.Get("Sec-Fetch-Site"))); site != "" {
		if site == "same-origin" || site == "none" {
			return nil
		}
		return ErrCrossSite
	}
	origin := strings.TrimSpace(c.Get(fiber.HeaderOrigin))
	if origin == "" {
		return nil
	}
	o, err := url.Parse(origin)
	if err != nil || o.Host == "" || (o.Scheme != "http" && o.Scheme != "https") {
		return ErrCrossSite // "null" (sandboxed or opaque origins) and garbage
	}
	if publicURL != "" {
		p, err := url.Parse(publicURL)
		if err == nil && strings.EqualFold(o.Scheme, p.Scheme) && strings.EqualFold(o.Host, p.Host) {
			return nil
		}
		return ErrCrossSite
	}
	// Without a public URL, the host the browser sent the request to:
	// host names compared without ports, since a proxy may drop the port
	// from Host (nginx's $host).
	if strings.EqualFold(hostOnly(o.Host), hostOnly(c.Get(fiber.HeaderHost))) {
		return nil
	}
	return ErrCrossSite
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

// FromBrowser reports whether a request carries the marks browsers put
// on every request a page makes (Sec-Fetch-Site, or Origin on a POST).
// Scripts (curl, Python's urllib, the CLI) send neither. Sec-Fetch-Mode
// alone does not count: Node's fetch sends it too.
func FromBrowser(c *fiber.Ctx) bool {
	return c.Get("Sec-Fetch-Site") != "" || c.Get(fiber.HeaderOrigin) != ""
}

// SafeNext reports whether next, where to go after signing in, is a page
// of this app: a path relative to the base path, starting with exactly
// one "/", with no scheme, host or user, no control character, DEL or
// backslash (browsers drop tab, CR and LF and read "\" as "/", so
// "/\t/evil.example" would become "//evil.example"), no percent-encoded
// one either, and no "." or ".." segment that could climb out of the
// base path.
func SafeNext(next string) bool {
	if !strings.HasPrefix(next, "/") || badBytes(next) {
		return false
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return false
	}
	p := u.Path // percent-decoded
	if badBytes(p) || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return false
	}
	clean := path.Clean(p)
	if !strings.HasPrefix(clean, "/") || strings.HasPrefix(clean, "//") {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

func badBytes(s string) bool {
	for i := range len(s) {
		if b := s[i]; b < 0x20 || b == 0x7f || b == '\\' {
			return true
		}
	}
	return false
}
