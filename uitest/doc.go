// Package uitest drives the real web pages in headless Chromium: a citizen
// files, tracks and rates a request; staff dispatch, accept, reply and
// approve; an administrator adds a user. The server runs in-process over a
// fresh SQLite file. Run with TONGBAN_SCREENSHOTS=1 to refresh the
// screenshots under docs/screenshots; TONGBAN_SKIP_BROWSER=1 skips the
// tests on a machine without /usr/bin/chromium.
package uitest
