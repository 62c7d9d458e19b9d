package calendar

import (
	"testing"
	"time"
)

var sinkTime time.Time
var sinkInt int
var sinkDur time.Duration

func BenchmarkAddWorkdays(b *testing.B) {
	c := Default()
	start := time.Date(2026, 9, 28, 10, 0, 0, 0, Shanghai)
	for i := 0; b.Loop(); i++ {
		sinkTime = c.AddWorkdays(start.AddDate(0, 0, i%365), 1+i%60)
	}
}

func BenchmarkWorkdaysBetween(b *testing.B) {
	c := Default()
	a := time.Date(2024, 2, 1, 10, 0, 0, 0, Shanghai)
	for i := 0; b.Loop(); i++ {
		sinkInt = c.WorkdaysBetween(a, a.AddDate(0, 0, i%400))
	}
}

func BenchmarkWorkDuration(b *testing.B) {
	c := Default()
	a := time.Date(2025, 3, 3, 10, 17, 0, 0, Shanghai)
	e := time.Date(2026, 3, 3, 15, 3, 0, 0, Shanghai) // a year apart
	for b.Loop() {
		sinkDur = c.WorkDuration(a, e)
	}
}

func BenchmarkAddWorkHours(b *testing.B) {
	c := Default()
	a := time.Date(2026, 3, 6, 16, 0, 0, 0, Shanghai)
	for b.Loop() {
		sinkTime = c.AddWorkHours(a, 300*time.Hour)
	}
}

func BenchmarkNew(b *testing.B) {
	ov := []Override{{Date: "2027-02-08", Off: true, Name: "春节"}}
	for b.Loop() {
		New(ov, OfficeHours{})
	}
}
