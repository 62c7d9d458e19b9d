package tongban

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Event is one action on a case (留痕). Events are append-only and each
// case's events form a hash chain, so any change to the record shows.
type Event struct {
	ID        int64           `json:"id"`
	CaseID    int64           `json:"case_id"`
	Seq       int64           `json:"seq"`
	Action    string          `json:"action"`
	FromStep  string          `json:"from_step"`
	ToStep    string          `json:"to_step"`
	ActorID   int64           `json:"actor_id,omitempty"`
	Actor     string          `json:"actor"`
	ActorDept string          `json:"actor_department,omitempty"`
	At        time.Time       `json:"at"`
	Reason    string          `json:"reason,omitempty"`
	Note      string          `json:"note,omitempty"`
	Public    bool            `json:"public"`
	Payload   json.RawMessage `json:"payload,omitempty"`
	PrevHash  string          `json:"prev_hash"`
	Hash      string          `json:"hash"`
}

// ComputeHash returns the event's chain hash. Times are hashed as UTC
// microseconds, the precision every store keeps, and the payload as the
// exact bytes stored, so any store can re-verify the chain.
func (e *Event) ComputeHash() string {
	var b strings.Builder
	for _, s := range []string{
		strconv.FormatInt(e.CaseID, 10), strconv.FormatInt(e.Seq, 10), e.Action, e.FromStep, e.ToStep,
		strconv.FormatInt(e.ActorID, 10), e.Actor, e.ActorDept, strconv.FormatInt(e.At.UnixMicro(), 10),
		e.Reason, e.Note, strconv.FormatBool(e.Public), string(e.Payload), e.PrevHash,
	} {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// VerifyChain checks that events are consecutive from seq 1 and each hash
// is right and links to the one before. It returns the seq of the first bad
// event, or 0 when the chain is intact.
func VerifyChain(events []*Event) int64 {
	prev := ""
	for i, e := range events {
		if e.Seq != int64(i+1) || e.PrevHash != prev || e.ComputeHash() != e.Hash {
			return int64(i + 1)
		}
		prev = e.Hash
	}
	return 0
}

// Now returns the current time at the precision stores keep.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
