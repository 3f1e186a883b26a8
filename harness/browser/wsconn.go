package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/gorilla/websocket"
)

// wsConn is the DevTools WebSocket under go-rod's CDP client, on
// gorilla/websocket. go-rod's own client reads each frame as a whole
// message: enough for Chromium itself, which sends single frames, but a
// proxy in between (Selenium Grid's se:cdp, a browserless pool) may split
// a large message (a screenshot) into fragments, and sends close and ping
// frames; go-rod then panics in its reader goroutine on the first one,
// killing the run. This one reassembles messages, answers pings, and
// reports a close as the end of the connection.
type wsConn struct {
	c   *websocket.Conn
	wmu sync.Mutex // one writer at a time; go-rod sends from many goroutines
}

// dialWS opens a DevTools WebSocket.
func dialWS(ctx context.Context, u string) (*wsConn, error) {
	d := websocket.Dialer{HandshakeTimeout: launchTimeout, ReadBufferSize: 64 << 10, WriteBufferSize: 64 << 10}
	c, res, err := d.DialContext(ctx, u, nil)
	if err != nil {
		if res != nil && res.StatusCode != http.StatusSwitchingProtocols {
			return nil, fmt.Errorf("%w (HTTP %s)", err, res.Status)
		}
		return nil, err
	}
	return &wsConn{c: c}, nil
}

// Send writes one CDP request.
func (w *wsConn) Send(b []byte) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	return w.c.WriteMessage(websocket.TextMessage, b)
}

// Read returns the next CDP message. Anything that is not a JSON message
// (an empty frame from a proxy) is skipped rather than handed to go-rod,
// which panics on it.
func (w *wsConn) Read() ([]byte, error) {
	for {
		_, r, err := w.c.NextReader()
		if err != nil {
			return nil, err
		}
		b, err := readMessage(r)
		if err != nil {
			return nil, err
		}
		if len(b) > 0 && json.Valid(b) {
			return b, nil
		}
	}
}

// Close closes the connection.
func (w *wsConn) Close() error { return w.c.Close() }
