// Package cluster holds the tests that run several `tongban serve`
// processes on one PostgreSQL database and check that they behave as one
// system: every acknowledged case stored once with an intact event chain,
// no action applied twice, sessions and rate limits shared, instances and
// the database surviving kills and restarts, and concurrent starts
// migrating once. The package has no code of its own; run
//
//	TONGBAN_TEST_PG_RESTART=1 go test -count=1 ./cluster/
//
// against the PostgreSQL named by TONGBAN_TEST_PG (see internal/pgtest).
package cluster
