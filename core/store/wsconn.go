package store

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/gorilla/websocket"
	"github.com/surrealdb/surrealdb.go/pkg/connection"
	"github.com/surrealdb/surrealdb.go/pkg/connection/gws"
	"github.com/surrealdb/surrealdb.go/pkg/connection/rpc"
)

// wsConn is the WebSocket transport under the official client. We carry
// our own because both transports in surrealdb.go v1.3.0 misbehave when
// the server goes away: the gorilla one panics on a reset connection and
// the gws one races on close (both seen under -race with a killed engine).
// This one fails every pending call with ErrUnavailable the moment the
// socket breaks, and never panics.
//
// The embedded *gws.Connection is never connected; it only lends its codec
// (GetUnmarshaler), whose type lives in an internal package of the client.
type wsConn struct {
	*gws.Connection
	conf *connection.Config

	writeMu sync.Mutex
	ws      *websocket.Conn

	mu      sync.Mutex
	pending map[string]chan *connection.RPCResponse[cbor.RawMessage]
	live    map[string]chan connection.Notification
	err     error // set once when the socket is gone
	nextID  atomic.Uint64
	done    chan struct{}
}

var _ connection.Connection = (*wsConn)(nil)

func newWSConn(conf *connection.Config) *wsConn {
	return &wsConn{
		Connection: gws.New(conf),
		conf:       conf,
		pending:    map[string]chan *connection.RPCResponse[cbor.RawMessage]{},
		live:       map[string]chan connection.Notification{},
		done:       make(chan struct{}),
	}
}

func (c *wsConn) Connect(ctx context.Context) error {
	d := websocket.Dialer{Subprotocols: []string{"cbor"}, ReadBufferSize: 64 << 10, WriteBufferSize: 64 << 10}
	ws, resp, err := d.DialContext(ctx, c.conf.BaseURL+"/rpc", http.Header{})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return err
	}
	ws.SetReadLimit(512 << 20)
	c.ws = ws
	go c.readLoop()
	return nil
}

func (c *wsConn) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	pending := c.pending
	c.pending = map[string]chan *connection.RPCResponse[cbor.RawMessage]{}
	live := c.live
	c.live = map[string]chan connection.Notification{}
	close(c.done)
	c.mu.Unlock()
	for _, ch := range pending {
		close(ch)
	}
	for _, ch := range live {
		close(ch)
	}
}

func (c *wsConn) readLoop() {
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			c.fail(fmt.Errorf("%w: %w", ErrUnavailable, err))
			return
		}
		c.handle(data)
	}
}

func (c *wsConn) handle(data []byte) {
	var res connection.RPCResponse[cbor.RawMessage]
	if err := c.conf.Unmarshaler.Unmarshal(data, &res); err != nil {
		return
	}
	if res.ID != nil && res.ID != "" {
		id := fmt.Sprint(res.ID)
		c.mu.Lock()
		ch, ok := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if ok {
			ch <- &res // buffered: never blocks the read loop
		}
		return
	}
	if res.Result == nil {
		return
	}
	raw, err := res.Result.MarshalCBOR()
	if err != nil {
		return
	}
	var n connection.Notification
	if err := c.conf.Unmarshaler.Unmarshal(raw, &n); err != nil || n.ID == nil {
		return
	}
	// Sent under the lock so a concurrent CloseLiveNotifications cannot
	// close the channel mid-send; the buffer absorbs bursts. A consumer
	// that falls 4096 changes behind loses the overflow and is told so by
	// a notification with an empty action, upon which it reloads.
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch, ok := c.live[n.ID.String()]; ok {
		select {
		case ch <- n:
		default:
			select {
			case ch <- connection.Notification{ID: n.ID}:
			default:
			}
		}
	}
}

func (c *wsConn) Close(ctx context.Context) error {
	c.fail(fmt.Errorf("%w: connection closed", ErrUnavailable))
	if c.ws == nil {
		return nil
	}
	c.writeMu.Lock()
	_ = c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	c.writeMu.Unlock()
	return c.ws.Close()
}

func (c *wsConn) Send(ctx context.Context, method string, params ...any) (*connection.RPCResponse[cbor.RawMessage], error) {
	return c.Call(ctx, &connection.RPCRequest{Method: method, Params: params})
}

func (c *wsConn) Call(ctx context.Context, req *connection.RPCRequest) (*connection.RPCResponse[cbor.RawMessage], error) {
	if req.ID == nil || req.ID == "" {
		req.ID = fmt.Sprintf("p%d", c.nextID.Add(1))
	}
	id := fmt.Sprint(req.ID)
	data, err := c.conf.Marshaler.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode %s request: %w", req.Method, err)
	}
	ch := make(chan *connection.RPCResponse[cbor.RawMessage], 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()

	c.writeMu.Lock()
	// A fixed write deadline, not the caller's: a write cut short by one
	// caller's deadline would leave the socket unusable for everyone.
	_ = c.ws.SetWriteDeadline(time.Now().Add(30 * time.Second))
	err = c.ws.WriteMessage(websocket.BinaryMessage, data)
	c.writeMu.Unlock()
	if err != nil {
		c.fail(fmt.Errorf("%w: %w", ErrUnavailable, err))
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res, ok := <-ch:
		if !ok {
			c.mu.Lock()
			err := c.err
			c.mu.Unlock()
			return nil, err
		}
		if res.Error != nil {
			return nil, res.Error
		}
		return res, nil
	}
}

func (c *wsConn) Use(ctx context.Context, ns, db string) error {
	_, err := c.Send(ctx, "use", ns, db)
	return err
}

func (c *wsConn) Let(ctx context.Context, key string, value any) error {
	_, err := c.Send(ctx, "let", key, value)
	return err
}

func (c *wsConn) Unset(ctx context.Context, key string) error {
	_, err := c.Send(ctx, "unset", key)
	return err
}

func (c *wsConn) Authenticate(ctx context.Context, token string) error {
	return rpc.Authenticate(c, ctx, token)
}

func (c *wsConn) SignUp(ctx context.Context, authData any) (string, error) {
	return rpc.SignUp(c, ctx, authData)
}

func (c *wsConn) SignUpWithRefresh(ctx context.Context, authData any) (*connection.Tokens, error) {
	return rpc.SignUpWithRefresh(c, ctx, authData)
}

func (c *wsConn) SignIn(ctx context.Context, authData any) (string, error) {
	return rpc.SignIn(c, ctx, authData)
}

func (c *wsConn) SignInWithRefresh(ctx context.Context, authData any) (*connection.Tokens, error) {
	return rpc.SignInWithRefresh(c, ctx, authData)
}

func (c *wsConn) Invalidate(ctx context.Context) error {
	return rpc.Invalidate(c, ctx)
}

func (c *wsConn) LiveNotifications(id string) (chan connection.Notification, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, c.err
	}
	if _, ok := c.live[id]; ok {
		return nil, errors.New("live query already subscribed: " + id)
	}
	ch := make(chan connection.Notification, 4096)
	c.live[id] = ch
	return ch, nil
}

func (c *wsConn) CloseLiveNotifications(id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch, ok := c.live[id]; ok {
		close(ch)
		delete(c.live, id)
	}
	return nil
}
