package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/sqlite"
)

// crashServer is a running `tongban serve` process.
type crashServer struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer
}

func startServe(t *testing.T, bin, data string) *crashServer {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--data", data, "--addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &crashServer{cmd: cmd, stderr: &bytes.Buffer{}}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "tongban listening on "); ok {
				lines <- u
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case s.url = <-lines:
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not report its address; stderr:\n%s", s.stderr)
	}
	return s
}

func cliBin(t *testing.T, bin, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("tongban %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// TestKill9Durability builds the binary, streams creates at it from 8
// goroutines, kills it with SIGKILL mid-stream, restarts it, and checks
// that every case acknowledged with 201 survived with an intact chain.
func TestKill9Durability(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "tongban")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	cliBin(t, bin, "", "dept", "add", "zx", "指挥中心", "--kind", "centre", "--data", data)
	cliBin(t, bin, "dispatcher password\n", "user", "add", "disp", "--dept", "zx", "--role", "dispatcher", "--password-stdin", "--data", data)
	key := strings.TrimSpace(cliBin(t, bin, "", "apikey", "add", "crash test", "--data", data))
	if !strings.HasPrefix(key, "tbk_") {
		t.Fatalf("apikey add printed %q", key)
	}

	srv := startServe(t, bin, data)
	client := &http.Client{Timeout: 10 * time.Second}
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				body := fmt.Sprintf(`{"type":"complaint","category":"noise","title":"压力 %d-%d","body":"夜间施工噪音","requester":{"phone":"13812345678"}}`, g, i)
				req, _ := http.NewRequestWithContext(ctx, "POST", srv.url+"/api/v1/cases", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					continue // killed: connection refused or reset
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusCreated {
					continue
				}
				var c struct {
					TrackingCode string `json:"tracking_code"`
				}
				if json.Unmarshal(b, &c) == nil && c.TrackingCode != "" {
					mu.Lock()
					acked = append(acked, c.TrackingCode)
					mu.Unlock()
				}
			}
		}(g)
	}
	// Let the stream run, then kill the server in the middle of it.
	time.Sleep(time.Second)
	mu.Lock()
	n := len(acked)
	mu.Unlock()
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	srv.cmd.Wait()
	wg.Wait()
	if n == 0 {
		t.Fatalf("no create was acknowledged in a second; server stderr:\n%s", srv.stderr)
	}
	t.Logf("%d creates acknowledged before SIGKILL (%d by the end of the stream)", n, len(acked))

	// Restart and look every acknowledged case up through the API.
	srv2 := startServe(t, bin, data)
	resp, err := client.Post(srv2.url+"/api/v1/auth/token", "application/json", strings.NewReader(`{"login":"disp","password":"dispatcher password"}`))
	if err != nil {
		t.Fatal(err)
	}
	var login struct {
		Token string `json:"token"`
	}
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if login.Token == "" {
		t.Fatalf("login after restart: %d", resp.StatusCode)
	}
	get := func(path string) (int, []byte) {
		req, _ := http.NewRequest("GET", srv2.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+login.Token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	lost := 0
	for i, code := range acked {
		status, b := get("/api/v1/cases/" + code)
		if status != 200 {
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged case %s lost after SIGKILL: %d %s", code, status, b)
			}
			continue
		}
		if i%10 == 0 {
			status, b = get("/api/v1/cases/" + code + "/events")
			var ev struct {
				ChainOK bool `json:"chain_ok"`
			}
			json.Unmarshal(b, &ev)
			if status != 200 || !ev.ChainOK {
				t.Errorf("events of %s after restart: %d chain_ok=%v", code, status, ev.ChainOK)
			}
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged cases lost", lost, len(acked))
	}
	srv2.cmd.Process.Signal(os.Interrupt)
	srv2.cmd.Wait()

	// And straight from the file: every case's chain verifies.
	st, err := sqlite.Open(filepath.Join(data, "tongban.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	bg := context.Background()
	page, err := st.ListCases(bg, tongban.CaseFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total < len(acked) {
		t.Fatalf("%d cases stored, %d acknowledged", page.Total, len(acked))
	}
	for _, code := range acked {
		c, err := st.CaseByCode(bg, code)
		if err != nil {
			t.Fatalf("case %s: %v", code, err)
		}
		evs, err := st.Events(bg, c.ID)
		if err != nil || len(evs) != 1 || tongban.VerifyChain(evs) != 0 || evs[0].Action != "create" {
			t.Fatalf("events of %s: %d, %v", code, len(evs), err)
		}
	}
}
