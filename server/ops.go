package server

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"time"
)

var contextBG = context.Background()

// metrics serves the Prometheus text format without a client library:
// a handful of process counters is all operators need here.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintf(w, "# HELP tongban_http_requests_total HTTP requests served.\n# TYPE tongban_http_requests_total counter\ntongban_http_requests_total %d\n", s.requests.Load())
	fmt.Fprintf(w, "# HELP tongban_http_internal_errors_total Responses with status 500.\n# TYPE tongban_http_internal_errors_total counter\ntongban_http_internal_errors_total %d\n", s.errors5.Load())
	fmt.Fprintf(w, "# HELP tongban_uptime_seconds Seconds since start.\n# TYPE tongban_uptime_seconds gauge\ntongban_uptime_seconds %d\n", int64(time.Since(s.started).Seconds()))
	fmt.Fprintf(w, "# HELP go_memstats_heap_alloc_bytes Heap bytes in use.\n# TYPE go_memstats_heap_alloc_bytes gauge\ngo_memstats_heap_alloc_bytes %d\n", ms.HeapAlloc)
	fmt.Fprintf(w, "# HELP go_goroutines Goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines %d\n", runtime.NumGoroutine())
}
