package loadtest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// The load generator shares the machine with what it measures, so it
// speaks HTTP/1.1 itself over one keep-alive connection per client and
// instance: a request is one write, its answer a read or two, with no
// goroutines per connection and no header maps. net/http's client cost
// about as much CPU per request as the server's handler did, and that
// CPU was taken from the instances and PostgreSQL.

// wireConn is one client's connection to one instance.
type wireConn struct {
	addr string      // host:port
	host string      // Host header
	tls  *tls.Config // for an https target
	conn net.Conn
	r    *bufio.Reader
	body []byte // the last answer's body
}

// requestTimeout bounds one request, as the http.Client's timeout did.
const requestTimeout = 30 * time.Second

// maxBody bounds an answer's body.
const maxBody = 16 << 20

func newWireConn(base string) (*wireConn, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("target %q: want http://host[:port] or https://host[:port]", base)
	}
	w := &wireConn{addr: u.Host, host: u.Host}
	port := "80"
	if u.Scheme == "https" {
		port = "443"
		w.tls = &tls.Config{ServerName: u.Hostname()}
	}
	if u.Port() == "" {
		w.addr = net.JoinHostPort(u.Hostname(), port)
	}
	return w, nil
}

// do sends req (a whole HTTP/1.1 request) and reads the answer's status
// and body (into w.body). A connection that fails is closed and the next
// request opens a new one.
func (w *wireConn) do(req []byte) (int, error) {
	if w.conn == nil {
		d := &net.Dialer{Timeout: requestTimeout}
		var c net.Conn
		var err error
		if w.tls != nil {
			c, err = tls.DialWithDialer(d, "tcp", w.addr, w.tls)
		} else {
			c, err = d.Dial("tcp", w.addr)
		}
		if err != nil {
			return 0, err
		}
		w.conn, w.r = c, bufio.NewReaderSize(c, 16<<10)
	}
	status, keep, err := w.roundTrip(req)
	if err != nil || !keep {
		w.conn.Close()
		w.conn = nil
	}
	return status, err
}

func (w *wireConn) roundTrip(req []byte) (status int, keep bool, err error) {
	if err := w.conn.SetDeadline(time.Now().Add(requestTimeout)); err != nil {
		return 0, false, err
	}
	if _, err := w.conn.Write(req); err != nil {
		return 0, false, err
	}
	line, err := w.r.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	length, chunked, keep := -1, false, true
	for {
		line, err := w.r.ReadSlice('\n')
		if err != nil {
			return status, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return status, false, fmt.Errorf("bad header %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 || length > maxBody {
				return status, false, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			keep = !bytes.EqualFold(value, []byte("close"))
		}
	}
	w.body = w.body[:0]
	switch {
	case chunked:
		err = w.readChunked()
	case length >= 0:
		w.body = grow(w.body, length)
		_, err = io.ReadFull(w.r, w.body)
	default: // to the end of the connection
		w.body, err = io.ReadAll(io.LimitReader(w.r, maxBody))
		keep = false
	}
	return status, keep && err == nil, err
}

func (w *wireConn) readChunked() error {
	for {
		line, err := w.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		n, err := strconv.ParseInt(string(size), 16, 32)
		if err != nil || n < 0 || len(w.body)+int(n) > maxBody {
			return fmt.Errorf("bad chunk size %q", line)
		}
		if n == 0 {
			for { // trailers, then the blank line
				line, err := w.r.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return nil
				}
			}
		}
		at := len(w.body)
		w.body = grow(w.body, at+int(n))
		if _, err := io.ReadFull(w.r, w.body[at:]); err != nil {
			return err
		}
		if _, err := w.r.Discard(2); err != nil { // CRLF
			return err
		}
	}
}

// grow returns b with length n, reusing its memory when it can.
func grow(b []byte, n int) []byte {
	if cap(b) >= n {
		return b[:n]
	}
	nb := make([]byte, n)
	copy(nb, b)
	return nb
}

// jsonString returns the string value of "key" in a flat JSON object as
// the server writes it, or an error; enough for tracking codes, which
// need no escapes.
func jsonString(body []byte, key string) (string, error) {
	pat := []byte(`"` + key + `":"`)
	i := bytes.Index(body, pat)
	if i < 0 {
		return "", errors.New("no " + key + " in the answer")
	}
	rest := body[i+len(pat):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 || bytes.IndexByte(rest[:j], '\\') >= 0 {
		return "", errors.New("bad " + key + " in the answer")
	}
	return string(rest[:j]), nil
}
