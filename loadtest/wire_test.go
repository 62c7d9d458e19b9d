package loadtest

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The client reads answers with a Content-Length, chunked ones and ones
// that close the connection, keeps the connection alive when it may, and
// finds tracking codes in created cases' JSON.
func TestWireConn(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/cases":
			if r.Header.Get("Authorization") != "Bearer k" || r.Header.Get("Content-Type") != "application/json" {
				http.Error(w, "no", http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"id":7,"tracking_code":"QC7K2M9XHRT4","title":%q}`, r.URL.RawQuery)
		case "/chunked":
			for i := range 3 {
				fmt.Fprintf(w, "part %d;", i)
				w.(http.Flusher).Flush()
			}
		case "/close":
			w.Header().Set("Connection", "close")
			fmt.Fprint(w, "bye")
		case "/api/v1/cases/QC7K2M9XHRT4":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"code":"not_found","message":"没有这个案件 / no such case"}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	c, err := NewClient([]string{srv.URL}, "k", "tok", 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		code, status, err := c.create(0, i)
		if err != nil || status != http.StatusCreated || code != "QC7K2M9XHRT4" {
			t.Fatalf("create: %q %d %v", code, status, err)
		}
	}
	if conns.Load() != 1 {
		t.Errorf("3 creates opened %d connections, want 1 kept alive", conns.Load())
	}
	_, wc := c.conn(0)
	for _, req := range []struct {
		path, body string
		status     int
	}{{"/chunked", "part 0;part 1;part 2;", 200}, {"/close", "bye", 200}, {"/missing", "404 page not found\n", 404}} {
		status, err := wc.do([]byte("GET " + req.path + " HTTP/1.1\r\nHost: x\r\n\r\n"))
		if err != nil || status != req.status || string(wc.body) != req.body {
			t.Errorf("%s: %d %q %v", req.path, status, wc.body, err)
		}
	}
	if conns.Load() != 2 {
		t.Errorf("%d connections after one the server closed, want 2", conns.Load())
	}
	if status, err := c.read(0, "../../etc/passwd"); err != nil || status != http.StatusNotFound {
		t.Errorf("read of a path escaping ref: %d %v", status, err)
	}
	// A failed request is reported with the error code of its answer.
	r := c.Reads([]string{"QC7K2M9XHRT4"}, 1, 50*time.Millisecond)
	if r.Errors == 0 || r.Failures["HTTP 404 not_found"] != int(r.Errors) {
		t.Errorf("failures of reads answered 404: %v (%d errors)", r.Failures, r.Errors)
	}
}

// A server that answers with something other than HTTP gets an error,
// never a hang or a made-up status.
func TestWireConnBadServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			c.Read(buf)
			c.Write([]byte("SSH-2.0-OpenSSH\r\n"))
			c.Close()
		}
	}()
	c, err := NewClient([]string{"http://" + ln.Addr().String()}, "k", "tok", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.create(0, 1); err == nil || !strings.Contains(err.Error(), "status line") {
		t.Errorf("create against a non-HTTP server: %v", err)
	}
	for _, bad := range []string{"ftp://x", "http://", "x:80", "http://x/api"} {
		if _, err := NewClient([]string{bad}, "", "", 1); err == nil {
			t.Errorf("target %q was accepted", bad)
		}
	}
}

// An https target is spoken to over TLS, with the server's name checked.
func TestWireConnTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.TLS != nil)
	}))
	defer srv.Close()
	c, err := NewClient([]string{srv.URL}, "k", "tok", 1)
	if err != nil {
		t.Fatal(err)
	}
	_, wc := c.conn(0)
	if status, err := wc.do([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err == nil {
		t.Errorf("a certificate nobody vouches for was accepted: %d", status)
	}
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	wc.tls.RootCAs = pool
	wc.tls.ServerName = "example.com" // httptest's certificate names it
	if status, err := wc.do([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil || status != 200 || string(wc.body) != "true" {
		t.Errorf("over TLS: %d %q %v", status, wc.body, err)
	}
}
