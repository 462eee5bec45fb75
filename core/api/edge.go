package api

import (
	"bytes"
	"io"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/fault"
)

// The HTTP edge: what every request passes before any route, so that no
// anonymous request can make the server hold more than body_limit_bytes.
//
// The server streams request bodies (fiber StreamRequestBody): fasthttp
// reads at most 8 KiB ahead, and these middlewares decide what else is
// read. Nothing may call fiber's c.Body(), which inflates gzip, deflate and
// brotli bodies with no bound; bodies are read raw, through a limit.

// errEncodedBody answers any request body that is compressed.
var errEncodedBody = fiber.NewError(fiber.StatusUnsupportedMediaType,
	"compressed request bodies (Content-Encoding) are not accepted; send the body uncompressed")

// refuseEncodedBodies refuses with 415 any request whose Content-Encoding
// is not identity: fasthttp would decompress it with no limit.
func (s *Server) refuseEncodedBodies(c *fiber.Ctx) error {
	ce := c.Request().Header.Peek(fiber.HeaderContentEncoding)
	if len(ce) == 0 {
		return c.Next()
	}
	for _, enc := range bytes.Split(ce, []byte(",")) {
		if enc = bytes.TrimSpace(enc); len(enc) > 0 && !bytes.EqualFold(enc, []byte("identity")) {
			return refuseBody(c, errEncodedBody)
		}
	}
	return c.Next()
}

// refuseBody answers err without reading the rest of the body, and closes
// the connection afterwards (what is left unread is not a next request).
func refuseBody(c *fiber.Ctx, err error) error {
	c.Context().SetConnectionClose()
	return err
}

// limitBody reads every request body (but the import upload's) into
// memory through body_limit_bytes, before routing and authentication: a
// larger one is refused with 413 whatever its content type, by its
// Content-Length at once or, chunked, after limit+1 bytes.
func (s *Server) limitBody(c *fiber.Ctx) error {
	if s.isUpload(c) {
		// createImport reads the stream after authentication; whatever
		// is left unread (a refusal) is not a next request.
		err := c.Next()
		c.Context().SetConnectionClose()
		return err
	}
	b, err := readBody(c, s.cfg.BodyLimitBytes)
	if err != nil {
		return refuseBody(c, err)
	}
	if b != nil {
		c.Request().SetBodyRaw(b)
	}
	return c.Next()
}

// isUpload reports whether c is the import upload (POST /api/v1/imports),
// the one route whose body may exceed body_limit_bytes. The match is
// exact: any other spelling of the path gets the small limit.
func (s *Server) isUpload(c *fiber.Ctx) bool {
	return c.Method() == fiber.MethodPost && s.deps.Imports != nil && c.Path() == s.cfg.BasePath+"/api/v1/imports"
}

// tooLarge is the 413 of a body above limit bytes.
func tooLarge(limit int) error {
	return fault.Newf(fault.ErrTooLarge, "request body is larger than %d bytes", limit)
}

// readBody returns the raw body of c when it is not already in memory
// (nil when it is), reading at most limit bytes.
func readBody(c *fiber.Ctx, limit int) ([]byte, error) {
	req := c.Request()
	if req.Header.ContentLength() > limit {
		return nil, tooLarge(limit)
	}
	stream := req.BodyStream()
	if stream == nil {
		if len(req.Body()) > limit { // Body() is raw here: no stream, nothing to inflate
			return nil, tooLarge(limit)
		}
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(stream, int64(limit)+1))
	if err != nil {
		return nil, fault.New(fault.ErrInvalid, "the request body cannot be read")
	}
	if len(b) > limit {
		return nil, tooLarge(limit)
	}
	return b, nil
}

// rawBody is the request body as sent (never decompressed), once
// limitBody has read it.
func rawBody(c *fiber.Ctx) []byte {
	if c.Request().BodyStream() != nil {
		return nil // only the upload keeps a stream, and it never decodes JSON
	}
	return c.Request().Body()
}

// noStore marks every API answer uncacheable: they carry PHI or session
// data, and a shared or browser cache must not keep them.
func noStore(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	err := c.Next()
	c.Set(fiber.HeaderCacheControl, "no-store")
	return err
}

// proxies decides which peers are reverse proxies (trusted_proxies) and
// so which forwarded headers to believe.
type proxies []netip.Prefix

func (p proxies) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, pre := range p {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP is the address of the client: the TCP peer, or — when the
// peer is a trusted proxy — the right-most X-Forwarded-For entry that is
// not itself a trusted proxy (entries further left are whatever the
// client chose to send).
func (s *Server) clientIP(c *fiber.Ctx) string {
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return c.Context().RemoteIP().String()
	}
	peer = peer.Unmap()
	if !s.proxies.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop: nothing left of it can be trusted
		}
		if a = a.Unmap(); !s.proxies.trusted(a) {
			return a.String()
		}
	}
	return peer.String()
}
